"""Deterministic water packing: random sequential addition with hard-core distances.

Waters are placed one after another at uniformly random O positions inside the
water region with uniformly random orientations (rigid SPC/Fw geometry); a trial
molecule is kept only if

* its O is at least :data:`MIN_OO_A` from every other O (minimum image),
* none of its atoms is within :data:`MIN_WATER_METAL_A` of a metal atom,
* none of its atoms is within :data:`MIN_INTERMOLECULAR_A` of an atom of another
  water (keeps H of one molecule out of the core of the next; fixed-charge
  models would otherwise start with huge forces).

Trials are drawn in batches and accepted in draw order, which is exactly
sequential addition, only vectorised. Everything comes from one numpy Generator,
so the packing is a function of the seed.

Water region and density (the definition used everywhere in elbench build):
the region available to water is the slab of the cell between
``z_lo = z_top_metal + metal_water_gap_A`` and ``z_hi = z_lo + water_thickness_A``;
O centres are placed inside it, and its volume is ``area × water_thickness_A``.
The number of waters is ``round(rho × volume × N_A / M_water)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.constants import Avogadro
from scipy.spatial import cKDTree

from elbench.elements import mass_amu
from elbench.errors import InputError
from elbench.reference.forcefield import WATER

MIN_OO_A = 2.5
MIN_WATER_METAL_A = 2.0
MIN_INTERMOLECULAR_A = 1.6
#: Random sequential addition of hard spheres jams at a packing fraction of 0.384
#: (Torquato et al. 2006); the O–O hard core must stay well below that.
RSA_MAX_PACKING_FRACTION = 0.34
A3_TO_CM3 = 1.0e-24


def water_mass_amu() -> float:
    return mass_amu("O") + 2.0 * mass_amu("H")


@dataclass(frozen=True)
class WaterRegion:
    """Where O centres may go: ``z_lo_A <= z <= z_hi_A`` over the whole lateral cell."""

    lx_A: float
    ly_A: float
    z_lo_A: float
    z_hi_A: float

    @property
    def thickness_A(self) -> float:
        return self.z_hi_A - self.z_lo_A

    @property
    def area_A2(self) -> float:
        return self.lx_A * self.ly_A

    @property
    def volume_A3(self) -> float:
        return self.area_A2 * self.thickness_A


def n_waters_for_density(rho_g_cm3: float, volume_A3: float) -> int:
    return int(round(rho_g_cm3 * volume_A3 * A3_TO_CM3 * Avogadro / water_mass_amu()))


def density_g_cm3(n_water: int, volume_A3: float) -> float:
    return n_water * water_mass_amu() / Avogadro / (volume_A3 * A3_TO_CM3)


def water_body_frame() -> np.ndarray:
    """(3, 3) positions of O, H, H with O at the origin and the bisector along +z."""
    r = WATER["r_OH_A"]
    half = math.radians(WATER["angle_deg"]) / 2.0
    return np.array(
        [[0.0, 0.0, 0.0], [r * math.sin(half), 0.0, r * math.cos(half)], [-r * math.sin(half), 0.0, r * math.cos(half)]]
    )


def random_rotations(rng: np.random.Generator, m: int) -> np.ndarray:
    """(m, 3, 3) rotation matrices, uniform over SO(3) (normalised Gaussian quaternions)."""
    q = rng.normal(size=(m, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=-1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], axis=-1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=-1),
        ],
        axis=1,
    )


def packing_fraction(n_water: int, volume_A3: float) -> float:
    return n_water * math.pi * MIN_OO_A**3 / 6.0 / volume_A3


def _conflicts_within(points: np.ndarray, owner: np.ndarray, box: np.ndarray, cutoff: float) -> list[tuple[int, int]]:
    """Pairs of distinct owners with points closer than cutoff (minimum image)."""
    tree = cKDTree(points, boxsize=box)
    pairs = tree.query_pairs(cutoff, output_type="ndarray")
    if len(pairs) == 0:
        return []
    a, b = owner[pairs[:, 0]], owner[pairs[:, 1]]
    keep = a != b
    return list(zip(np.minimum(a, b)[keep].tolist(), np.maximum(a, b)[keep].tolist()))


def _near(tree: cKDTree | None, points: np.ndarray, cutoff: float) -> np.ndarray:
    """True for each point with a tree point closer than cutoff."""
    if tree is None or tree.n == 0:
        return np.zeros(len(points), dtype=bool)
    dist, _ = tree.query(points, k=1, distance_upper_bound=cutoff)
    return np.isfinite(dist) & (dist < cutoff)


def pack_water(
    region: WaterRegion,
    lz_A: float,
    n_water: int,
    metal_positions: np.ndarray,
    rng: np.random.Generator,
    *,
    batch: int = 256,
    max_trials_per_water: int = 400,
) -> np.ndarray:
    """(n_water, 3, 3) positions of O, H, H (wrapped into the cell) packed in ``region``.

    Raises InputError when the water does not fit (too dense or too thin a region).
    """
    box = np.array([region.lx_A, region.ly_A, lz_A])
    phi = packing_fraction(n_water, region.volume_A3)
    if phi > RSA_MAX_PACKING_FRACTION:
        raise InputError(
            f"{n_water} waters need an O-O hard-core packing fraction of {phi:.3f} in the water region, "
            f"above what random packing reaches ({RSA_MAX_PACKING_FRACTION})",
            key="system.rho_water_g_cm3",
            allowed="a lower density or a thicker water_thickness_A",
        )
    body = water_body_frame()
    metal_tree = cKDTree(np.mod(metal_positions, box), boxsize=box)
    placed = np.empty((0, 3, 3))
    trials = 0
    max_trials = max_trials_per_water * max(n_water, 1)
    while len(placed) < n_water:
        # Larger batches as the region fills (acceptance drops); fewer tree rebuilds.
        size = max(batch, len(placed) // 2)
        if trials >= max_trials:
            raise InputError(
                f"could only pack {len(placed)} of {n_water} waters in a {region.thickness_A:.2f} A thick water "
                f"region (O-O >= {MIN_OO_A} A, water-metal >= {MIN_WATER_METAL_A} A)",
                key="system.water_thickness_A",
                allowed="a thicker water layer, a lower rho_water_g_cm3 or a larger lateral cell",
            )
        trials += size
        o = np.column_stack(
            [
                rng.uniform(0.0, region.lx_A, size),
                rng.uniform(0.0, region.ly_A, size),
                rng.uniform(region.z_lo_A, region.z_hi_A, size),
            ]
        )
        mol = np.mod(o[:, None, :] + np.einsum("mij,aj->mai", random_rotations(rng, size), body), box)
        ok = _free(mol, placed, metal_tree, box)
        cand = np.flatnonzero(ok)
        if len(cand) == 0:
            continue
        accepted = _accept_in_order(mol[cand], box)
        need = n_water - len(placed)
        placed = np.concatenate([placed, mol[cand][accepted][:need]])
    return placed


def _free(mol: np.ndarray, placed: np.ndarray, metal_tree: cKDTree, box: np.ndarray) -> np.ndarray:
    """Which candidate molecules keep their distances to the placed waters and the metal.

    The cheap O–O test runs first; the all-atom tests only on its survivors.
    """
    ok = np.ones(len(mol), dtype=bool)
    if len(placed):
        ok &= ~_near(cKDTree(placed[:, 0, :], boxsize=box), mol[:, 0, :], MIN_OO_A)
    idx = np.flatnonzero(ok)
    atoms = mol[idx].reshape(-1, 3)
    bad = _near(metal_tree, atoms, MIN_WATER_METAL_A)
    if len(placed):
        bad |= _near(cKDTree(placed.reshape(-1, 3), boxsize=box), atoms, MIN_INTERMOLECULAR_A)
    ok[idx[bad.reshape(-1, 3).any(axis=1)]] = False
    return ok


def _accept_in_order(mol: np.ndarray, box: np.ndarray) -> list[int]:
    """Indices of candidates kept by sequential addition among themselves (draw order)."""
    m = len(mol)
    owner = np.repeat(np.arange(m), 3)
    conflicts: dict[int, set[int]] = {}
    pairs = _conflicts_within(mol[:, 0, :], np.arange(m), box, MIN_OO_A)
    pairs += _conflicts_within(mol.reshape(-1, 3), owner, box, MIN_INTERMOLECULAR_A)
    for a, b in pairs:
        conflicts.setdefault(b, set()).add(a)
    accepted: list[int] = []
    taken: set[int] = set()
    for i in range(m):
        if not conflicts.get(i, set()) & taken:
            accepted.append(i)
            taken.add(i)
    return accepted
