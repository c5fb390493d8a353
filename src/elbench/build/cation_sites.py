"""Cation placement: each cation takes the place of one water.

Cations go one after another to uniformly random sites in the central part of
the water region (:func:`ion_zone`), so they start solvated, away from the metal
and from the water surface. A site is kept when every atom within
:data:`MIN_ION_ANY_A` of it belongs to the water whose O is nearest to the site,
and it is at least :data:`MIN_ION_ION_A` from the cations already placed; that
nearest water is then removed, so the liquid keeps its density.

Sites are drawn from one numpy Generator in a fixed order that does not depend
on how many cations are asked for: the cations of charge state n are the first n
of charge state n + 1, on the same water packing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from elbench.build.water import WaterRegion

MIN_ION_ANY_A = 2.5
MIN_ION_ION_A = 5.0
TRIALS_PER_ION = 20000
_BATCH = 512


@dataclass(frozen=True)
class CationSites:
    """Placed cation positions and the index (into the original waters) each replaced."""

    positions: np.ndarray  # (k, 3)
    replaced_waters: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.replaced_waters)


def ion_zone(region: WaterRegion) -> tuple[float, float]:
    """The middle half of the water region in z: where cations start."""
    quarter = region.thickness_A / 4.0
    return region.z_lo_A + quarter, region.z_hi_A - quarter


def _first_free_site(
    trial: np.ndarray, atom_tree: cKDTree, atom_water: np.ndarray, o_tree: cKDTree, o_index: np.ndarray,
    ions: list[np.ndarray], box: np.ndarray,
) -> tuple[np.ndarray, int] | None:
    """The first trial site (draw order) that is free, with the water it replaces, or None."""
    _, nearest = o_tree.query(trial)
    water = o_index[nearest]
    ok = atom_tree.query_ball_point(trial, MIN_ION_ANY_A, return_length=True) <= 3
    for ion in ions:
        d = trial - ion
        d -= box * np.round(d / box)
        ok &= np.einsum("ij,ij->i", d, d) >= MIN_ION_ION_A**2
    for j in np.flatnonzero(ok):
        close = atom_tree.query_ball_point(trial[j], MIN_ION_ANY_A)
        if all(atom_water[i] == water[j] for i in close):
            return trial[j], int(water[j])
    return None


def place_cations(
    n: int,
    waters: np.ndarray,
    metal_positions: np.ndarray,
    region: WaterRegion,
    lz_A: float,
    rng: np.random.Generator,
) -> CationSites:
    """Place up to n cations; fewer come back when no free site is found (the caller says so)."""
    box = np.array([region.lx_A, region.ly_A, lz_A])
    z_lo, z_hi = ion_zone(region)
    alive = np.ones(len(waters), dtype=bool)
    sites: list[np.ndarray] = []
    replaced: list[int] = []
    for _ in range(n):
        idx = np.flatnonzero(alive)
        atoms = np.concatenate([metal_positions, waters[idx].reshape(-1, 3)] + ([np.array(sites)] if sites else []))
        atom_water = np.concatenate(
            [np.full(len(metal_positions), -1), np.repeat(idx, 3), np.full(len(sites), -2)]
        )
        atom_tree = cKDTree(np.mod(atoms, box), boxsize=box)
        o_tree = cKDTree(np.mod(waters[idx, 0, :], box), boxsize=box)
        found = None
        for _start in range(0, TRIALS_PER_ION, _BATCH):
            trial = np.column_stack(
                [rng.uniform(0.0, region.lx_A, _BATCH), rng.uniform(0.0, region.ly_A, _BATCH), rng.uniform(z_lo, z_hi, _BATCH)]
            )
            found = _first_free_site(trial, atom_tree, atom_water, o_tree, idx, sites, box)
            if found is not None:
                break
        if found is None:
            break
        sites.append(found[0])
        replaced.append(found[1])
        alive[found[1]] = False
    return CationSites(np.array(sites).reshape(-1, 3), tuple(replaced))
