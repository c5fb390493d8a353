"""Block averages: per-block sums, block means, standard errors and a drift check.

Frames are split into ``n_blocks`` contiguous blocks of (nearly) equal length.
Every accumulated quantity keeps one row per block, so a profile's mean, its
standard error and a convergence check all come from the same sums, without
keeping frames in memory.
"""

from __future__ import annotations

import numpy as np


def block_of_frame(index: int, n_frames: int, n_blocks: int) -> int:
    """Block of the ``index``-th analysed frame (0-based) out of ``n_frames``."""
    return min(index * n_blocks // max(n_frames, 1), n_blocks - 1)


class BlockSums:
    """Sums of an array-valued quantity, one row per block."""

    def __init__(self, shape: tuple[int, ...] | int, n_blocks: int) -> None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self.sums = np.zeros((n_blocks, *shape), dtype=np.float64)

    def add(self, block: int, values: np.ndarray) -> None:
        self.sums[block] += values

    @property
    def total(self) -> np.ndarray:
        return self.sums.sum(axis=0)


def weighted_block_mean(block_values: np.ndarray, block_frames: np.ndarray) -> np.ndarray:
    """Mean over blocks (axis 0) weighted by each block's number of frames: the mean over all frames."""
    w = block_frames / block_frames.sum()
    return (block_values * w.reshape(-1, *([1] * (np.ndim(block_values) - 1)))).sum(axis=0)


def sem(block_values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Standard error of the mean of block values (NaN-aware; NaN if < 2 blocks)."""
    import warnings

    values = np.asarray(block_values, dtype=np.float64)
    n = np.sum(np.isfinite(values), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        std = np.nanstd(values, axis=axis, ddof=1) if values.shape[axis] > 1 else np.full(n.shape, np.nan)
        out = std / np.sqrt(n)
    return np.where(n >= 2, out, np.nan)


def ratio(numer: np.ndarray, denom: np.ndarray) -> np.ndarray:
    """numer / denom with NaN where denom is 0."""
    numer = np.asarray(numer, dtype=np.float64)
    denom = np.asarray(denom, dtype=np.float64)
    out = np.full(np.broadcast(numer, denom).shape, np.nan)
    np.divide(numer, denom, out=out, where=denom != 0)
    return out


def drift_check(block_values: np.ndarray, n_sigma: float = 3.0) -> tuple[bool, float]:
    """Whether the first and second half of the blocks disagree beyond their errors.

    Compares the mean of the first ⌊n/2⌋ blocks with the mean of the last
    ⌊n/2⌋ (the middle block of an odd count is left out) using the scatter of
    the blocks around their halves' means. Returns (disagree, z-score).
    """
    values = np.asarray(block_values, dtype=np.float64)
    values = values[np.isfinite(values)]
    half = len(values) // 2
    if half < 2:
        return False, float("nan")
    first, last = values[:half], values[-half:]
    var = (np.var(first, ddof=1) + np.var(last, ddof=1)) / half
    diff = abs(first.mean() - last.mean())
    if var <= 0:
        return (diff > 0), float("inf") if diff > 0 else 0.0
    z = float(diff / np.sqrt(var))
    return z > n_sigma, z
