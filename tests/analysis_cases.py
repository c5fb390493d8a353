"""Known-answer trajectories for the analysis tests (built in the test, no shipped files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from elbench.analysis import synthetic as S

LAYER_Z = (0.5, 2.75, 5.0)  # exact metal layer heights (Å); the top layer is the surface
Z_TOP = LAYER_Z[-1]


def slab(size=(4, 4, 3)) -> tuple[np.ndarray, float, float]:
    """Metal positions with layers at exactly LAYER_Z, and (Lx, Ly)."""
    pos, (lx, ly) = S.metal_slab("Au", size=size)
    layer = np.round(pos[:, 2] / (pos[:, 2].max() / (size[2] - 1))).astype(int)
    pos[:, 2] = np.asarray(LAYER_Z)[layer]
    return pos, float(lx), float(ly)


def grid_xy(n: int, lx: float, ly: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """n lateral positions spread over the cell (a shuffled grid)."""
    nx = int(np.ceil(np.sqrt(n * lx / ly)))
    ny = int(np.ceil(n / nx))
    gx, gy = np.meshgrid((np.arange(nx) + 0.5) * lx / nx, (np.arange(ny) + 0.5) * ly / ny, indexing="ij")
    xy = np.column_stack([gx.ravel(), gy.ravel()])[:n]
    return xy if rng is None else xy[rng.permutation(n)]


def write_case(
    tmp: Path,
    oxygen_frames: list[np.ndarray],
    dipole_frames: list[np.ndarray],
    *,
    lz: float = 40.0,
    cation_frames: list[np.ndarray] | None = None,
    metal: np.ndarray | None = None,
    lx: float | None = None,
    ly: float | None = None,
    shift_z: float = 0.0,
    wrap: bool = True,
    suffix: str = "dcd",
    name: str = "case",
) -> tuple[Path, Path, S.SyntheticSystem]:
    """Data file + trajectory of a metal slab with the given waters (and cations)."""
    if metal is None:
        metal, lx, ly = slab()
    n_c = 0 if cation_frames is None else len(cation_frames[0])
    system = S.make_system("Au", "Na", len(metal), len(oxygen_frames[0]), n_c, (lx, ly, lz))
    frames = []
    for i, (o, d) in enumerate(zip(oxygen_frames, dipole_frames)):
        c = np.zeros((0, 3)) if cation_frames is None else cation_frames[i]
        pos = system.frame(metal, o, d, c)
        pos[:, 2] += shift_z
        if wrap:
            pos = np.mod(pos, system.cell)
        frames.append(pos)
    data = S.write_data(tmp / f"{name}.data", system, frames[0] if wrap else np.mod(frames[0], system.cell))
    traj = S.write_trajectory(tmp / f"{name}.{suffix}", frames, system.cell, symbols=_symbols(system))
    return data, traj, system


def _symbols(system: S.SyntheticSystem) -> list[str]:
    return [system.type_map[t - 1] for t in system.types]
