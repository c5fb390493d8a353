"""Put slab, water and cations together into one interface for a charge state.

Geometry along z (bottom metal layer at :data:`~elbench.build.slab.METAL_BOTTOM_Z_A`):

* ``slab``: metal, ``metal_water_gap_A``, water region of ``water_thickness_A``,
  then ``vacuum_A`` up to the top of the cell.
* ``sandwich``: metal, gap, water region, gap, then the periodic image of the
  bottom metal layer: the cell length is chosen so that both metal/water gaps
  equal ``metal_water_gap_A``.

Atom order (the file contract): metal bottom layer → top layer, waters as
O, H, H, then cations. The water packing depends only on the system settings, not
on n, so charge states differ only by their cations (and the waters they replaced).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np
from scipy.constants import Avogadro

from elbench.build.cation_sites import MIN_ION_ANY_A, MIN_ION_ION_A, CationSites, ion_zone, place_cations
from elbench.build.slab import Slab, build_slab, fcc111_area_A2
from elbench.build.water import WaterRegion, density_g_cm3, n_waters_for_density, pack_water, water_mass_amu
from elbench.config import SystemConfig
from elbench.elements import mass_amu, system_type_map
from elbench.errors import InputError
from elbench.reference.forcefield import species_charges_e

A3_TO_CM3 = 1.0e-24


@dataclass(frozen=True)
class Interface:
    """One built system: per-atom arrays in file order plus what system.json reports."""

    config: SystemConfig
    n_cations: int
    slab: Slab
    region: WaterRegion
    cell_lengths_A: tuple[float, float, float]
    waters: np.ndarray  # (n_water, 3, 3)
    cations: np.ndarray  # (n, 3)

    @property
    def type_map(self) -> list[str]:
        return system_type_map(self.config.metal, self.config.cation)

    @property
    def n_water(self) -> int:
        return len(self.waters)

    @property
    def positions(self) -> np.ndarray:
        return np.concatenate([self.slab.positions, self.waters.reshape(-1, 3), self.cations.reshape(-1, 3)])

    @property
    def types(self) -> np.ndarray:
        """LAMMPS types 1..4 = metal, O, H, cation."""
        return np.concatenate(
            [np.full(self.slab.n_atoms, 1), np.tile([2, 3, 3], self.n_water), np.full(self.n_cations, 4)]
        ).astype(int)

    @property
    def symbols(self) -> list[str]:
        tm = self.type_map
        return [tm[t - 1] for t in self.types]

    @property
    def molecule_ids(self) -> np.ndarray:
        """Slab = molecule 1, each water its own molecule, then each cation."""
        return np.concatenate(
            [
                np.full(self.slab.n_atoms, 1),
                np.repeat(np.arange(2, 2 + self.n_water), 3),
                np.arange(2 + self.n_water, 2 + self.n_water + self.n_cations),
            ]
        ).astype(int)

    @property
    def charges_e(self) -> np.ndarray:
        """Reference-model charges: top metal layer carries −n e in total."""
        q = species_charges_e(self.slab.atoms_per_layer, self.n_cations)
        metal = np.zeros(self.slab.n_atoms)
        metal[-self.slab.atoms_per_layer :] = q["metal_top"]
        return np.concatenate(
            [metal, np.tile([q["O"], q["H"], q["H"]], self.n_water), np.full(self.n_cations, q["cation"])]
        )

    @property
    def n_atoms(self) -> int:
        return self.slab.n_atoms + 3 * self.n_water + self.n_cations

    @property
    def n_fixed_atoms(self) -> int:
        return self.config.fixed_layers * self.slab.atoms_per_layer

    @property
    def top_layer_ids(self) -> tuple[int, int]:
        """1-based first and last atom id of the top metal layer."""
        return self.slab.n_atoms - self.slab.atoms_per_layer + 1, self.slab.n_atoms

    @property
    def pbc(self) -> tuple[bool, bool, bool]:
        return (True, True, self.config.geometry == "sandwich")

    @property
    def water_density_g_cm3(self) -> float:
        """Water mass over the water region's volume less the volume of the waters the cations replaced."""
        per_water = self.region.volume_A3 / (self.n_water + self.n_cations)
        return density_g_cm3(self.n_water, self.region.volume_A3 - self.n_cations * per_water)

    @property
    def solution_density_g_cm3(self) -> float:
        """Water and cation mass over the water region's volume."""
        mass = self.n_water * water_mass_amu() + self.n_cations * mass_amu(self.config.cation)
        return mass / Avogadro / (self.region.volume_A3 * A3_TO_CM3)


def slab_area_A2(config: SystemConfig) -> float:
    """Lateral (xy) area of the system's cell in Å², without building it."""
    return fcc111_area_A2(config.metal, tuple(config.repeats))


def water_count(config: SystemConfig) -> int:
    """Waters packed for a system before cations replace any (charge state n has ``water_count - n``).

    round(ρ · area · water_thickness_A · N_A / M_water) (scipy's CODATA N_A), the number
    :func:`assemble_interface` packs; ``elbench quickstart`` sizes its runs with it.
    """
    return n_waters_for_density(config.rho_water_g_cm3, slab_area_A2(config) * config.water_thickness_A)


def cell_and_region(config: SystemConfig, slab: Slab) -> tuple[tuple[float, float, float], WaterRegion]:
    z_lo = slab.z_top_A + config.metal_water_gap_A
    z_hi = z_lo + config.water_thickness_A
    if config.geometry == "slab":
        lz = z_hi + config.vacuum_A
    else:
        # image of the bottom layer at z_bottom + lz must sit one gap above z_hi
        lz = z_hi + config.metal_water_gap_A - slab.z_bottom_A
    region = WaterRegion(slab.lx_A, slab.ly_A, z_lo, z_hi)
    return (slab.lx_A, slab.ly_A, lz), region


def _check_density_reachable(config: SystemConfig, n_water: int, region: WaterRegion) -> None:
    """A whole number of waters must hit the target density within 2 % (tiny regions cannot)."""
    if n_water < 1 or abs(density_g_cm3(n_water, region.volume_A3) / config.rho_water_g_cm3 - 1.0) > 0.02:
        raise InputError(
            f"a water region of {region.volume_A3:.0f} A^3 holds {n_water} waters, which misses the target density "
            f"{config.rho_water_g_cm3} g/cm3 by more than 2 %",
            key="system.water_thickness_A",
            allowed="a thicker water layer or larger repeats",
        )


def packing_key(config: SystemConfig) -> str:
    """The settings the water packing depends on (charge states excluded)."""
    return json.dumps(config.model_dump(mode="json", exclude={"charge_states"}), sort_keys=True)


@functools.lru_cache(maxsize=4)
def _packed(key: str) -> tuple[Slab, tuple[float, float, float], WaterRegion, np.ndarray]:
    config = SystemConfig.model_validate(json.loads(key))
    slab = build_slab(config.metal, tuple(config.repeats), config.layers)
    cell, region = cell_and_region(config, slab)
    n_water = water_count(config)
    _check_density_reachable(config, n_water, region)
    rng = np.random.default_rng([config.seed, 0])
    waters = pack_water(region, cell[2], n_water, slab.positions, rng)
    waters.setflags(write=False)
    return slab, cell, region, waters


def cation_sites(config: SystemConfig, n: int) -> CationSites:
    slab, cell, region, waters = _packed(packing_key(config))
    rng = np.random.default_rng([config.seed, 1])
    return place_cations(n, waters, slab.positions, region, cell[2], rng)


def max_cations_message(config: SystemConfig, n: int, fitted: int) -> InputError:
    z_lo, z_hi = ion_zone(_packed(packing_key(config))[2])
    return InputError(
        f"{n} cations do not fit: only {fitted} fit in the middle of the water (z {z_lo:.1f}-{z_hi:.1f} A, "
        f">= {MIN_ION_ANY_A} A from any atom, >= {MIN_ION_ION_A} A apart)",
        key="system.charge_states",
        allowed=f"at most {fitted} cations here; use a larger or thicker system for more",
    )


def assemble_interface(config: SystemConfig, n: int) -> Interface:
    """The interface of charge state n (n cations, −n e on the top metal layer)."""
    if n < 0:
        raise InputError(f"charge state {n} is negative", key="system.charge_states")
    slab, cell, region, waters = _packed(packing_key(config))
    if n >= len(waters):
        raise InputError(
            f"{n} cations cannot replace waters in a system of {len(waters)} waters", key="system.charge_states",
            allowed="fewer cations than waters",
        )
    sites = cation_sites(config, n)
    if sites.count < n:
        raise max_cations_message(config, n, sites.count)
    keep = np.ones(len(waters), dtype=bool)
    keep[list(sites.replaced_waters)] = False
    return Interface(config, n, slab, region, cell, np.array(waters[keep]), sites.positions)
