"""Blow-up detection: decide that a run has gone bad, and when.

Thermo rows are checked for non-finite values and a temperature above a bound;
dumped frames for atoms closer than a bound and for water molecules that fell
apart (an O without exactly two H within ``oh_max_A``) beyond a fraction. LAMMPS
itself stops on lost atoms; the runner reports its ERROR line with the step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from elbench.launch.logparse import nonfinite_columns, temperature_of


@dataclass(frozen=True)
class BlowupLimits:
    max_temperature_K: float = 2000.0
    min_distance_A: float = 0.6
    oh_max_A: float = 1.35
    max_broken_water_fraction: float = 0.1


@dataclass(frozen=True)
class Failure:
    reason: str
    step: int


def check_thermo(row: dict[str, float], limits: BlowupLimits) -> Failure | None:
    step = int(row.get("Step", -1))
    bad = nonfinite_columns(row)
    if bad:
        return Failure(f"non-finite thermo value ({', '.join(bad)})", step)
    temp = temperature_of(row)
    if temp is not None and temp > limits.max_temperature_K:
        return Failure(f"temperature {temp:.0f} K above the bound {limits.max_temperature_K:g} K", step)
    return None


def _tree(positions: np.ndarray, box: np.ndarray | None) -> cKDTree:
    if box is None or np.any(box <= 0):
        return cKDTree(positions)
    # Wrap into the box; non-periodic directions (slab vacuum) are wide enough that
    # treating them as periodic cannot create false close pairs in practice.
    return cKDTree(np.mod(positions, box), boxsize=box)


def min_distance(positions: np.ndarray, box: np.ndarray | None) -> float:
    if len(positions) < 2:
        return float("inf")
    dist, _ = _tree(positions, box).query(np.mod(positions, box) if box is not None else positions, k=2)
    return float(dist[:, 1].min())


def broken_water_fraction(positions: np.ndarray, box: np.ndarray | None, o_idx: np.ndarray,
                          h_idx: np.ndarray, oh_max_A: float) -> float:
    """Fraction of O atoms that do not have exactly two H within ``oh_max_A``."""
    if len(o_idx) == 0:
        return 0.0
    wrapped = np.mod(positions, box) if box is not None else positions
    h_tree = _tree(positions[h_idx], box)
    counts = np.array([len(n) for n in h_tree.query_ball_point(wrapped[o_idx], oh_max_A)])
    return float(np.mean(counts != 2))


def check_frame(step: int, positions: np.ndarray, box: np.ndarray | None, types: np.ndarray | None,
                type_map: list[str], limits: BlowupLimits) -> Failure | None:
    if not np.all(np.isfinite(positions)):
        return Failure("non-finite coordinates in the trajectory", step)
    if types is not None and len(types) != len(positions):
        return Failure(f"lost atoms: {len(positions)} in the frame, {len(types)} in the data file", step)
    dmin = min_distance(positions, box)
    if dmin < limits.min_distance_A:
        return Failure(f"atoms {dmin:.2f} A apart, closer than {limits.min_distance_A:g} A", step)
    if types is not None and "O" in type_map and "H" in type_map:
        o_idx = np.flatnonzero(types == type_map.index("O") + 1)
        h_idx = np.flatnonzero(types == type_map.index("H") + 1)
        if len(o_idx) and len(h_idx):
            frac = broken_water_fraction(positions, box, o_idx, h_idx, limits.oh_max_A)
            if frac > limits.max_broken_water_fraction:
                return Failure(
                    f"water dissociation: {frac:.0%} of waters without two H within {limits.oh_max_A:g} A "
                    f"(bound {limits.max_broken_water_fraction:.0%})",
                    step,
                )
    return None
