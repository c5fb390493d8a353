"""Block averages: per-block sums, block means, standard errors and a drift check.

Frames are split into ``n_blocks`` contiguous blocks of (nearly) equal length.
Every accumulated quantity keeps one row per block, so a profile's mean, its
standard error and a convergence check all come from the same sums, without
keeping frames in memory.

A mean and its error always use the same per-block values, every block included.
A block with no samples (no water in a bin, no cation in contact) contributes
what the mean assumes it contributes: 0 to a density-weighted quantity such as
ρ·⟨cos θ⟩ (:meth:`BlockRatio.weighted_err`), and nothing to the
numerator and denominator of a pooled ratio such as ⟨cos θ⟩ (:class:`BlockRatio`).
:func:`sem` drops no block: a NaN block value makes the error NaN, never smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """Standard error of the (equal-weight) mean of block values over every block; NaN if < 2 blocks.

    No block is dropped: a NaN block value gives a NaN error. A quantity that is
    undefined in some blocks (a ratio with an empty denominator) takes its error
    from :class:`BlockRatio` instead, where an empty block has its defined weight.
    """
    values = np.asarray(block_values, dtype=np.float64)
    n = values.shape[axis]
    if n < 2:
        return np.full(np.delete(values.shape, axis), np.nan) if values.ndim > 1 else np.float64(np.nan)
    return np.std(values, axis=axis, ddof=1) / np.sqrt(n)


@dataclass(frozen=True)
class BlockRatio:
    """A pooled ratio Σ numer / Σ denom over blocks (axis 0), with its block standard error.

    ⟨cos θ⟩(d) is pooled over frames (docs: DESIGN "Observables"): the sum of cos θ
    of every water in the bin over all frames divided by their count, so a block
    with no water adds nothing to either sum; a block's own ratio has no weight of
    its own, only its count does. The error is the one of that same estimator, a
    ratio of two block means, by the delta method over *all* n blocks:

        SE² = Σ_b (numer_b − R·denom_b)² / (n (n − 1) · mean(denom)²),  R = Σ numer / Σ denom.

    An empty block (denom_b = 0, so numer_b = 0) has residual 0 but still counts
    in n and in mean(denom): it is a block in which the bin happened to be empty,
    which is part of the scatter, not a missing measurement. With equal block
    counts this is the plain standard error of the block ratios. It is NaN where
    fewer than 2 blocks have samples (one block's scatter is not measurable; its
    residual is 0 by construction). Used for ⟨cos θ⟩, the first layer's ⟨cos θ⟩
    and H-down / H-up fractions and the cation contact fraction and coordination
    numbers.
    """

    numer: np.ndarray
    denom: np.ndarray

    @property
    def value(self) -> np.ndarray:
        """Σ numer / Σ denom over blocks (NaN where Σ denom = 0)."""
        return ratio(np.sum(self.numer, axis=0), np.sum(self.denom, axis=0))

    def per_block(self, empty: float = np.nan) -> np.ndarray:
        """Each block's own ratio, ``empty`` where the block has no samples.

        ``empty=0`` gives the block values of a density-weighted quantity (ρ_b · ratio_b),
        where a block with no samples contributes 0, as it does to the pooled sum.
        """
        return ratio(self.numer, self.denom, empty=empty)

    def weighted_err(self, weight: np.ndarray) -> np.ndarray:
        """Standard error of a density-weighted ratio, weight_b · ratio_b (ρ·⟨cos θ⟩), from its block values.

        A block with no samples contributes 0, as it does to the pooled sum; NaN
        where no block has samples (the pooled ratio, and so the mean, is NaN there).
        """
        err = sem(np.asarray(weight, dtype=np.float64) * self.per_block(empty=0.0))
        return np.where(np.any(np.asarray(self.denom) != 0, axis=0), err, np.nan)

    @property
    def err(self) -> np.ndarray:
        """Standard error of :attr:`value` (the delta-method formula above; NaN where < 2 blocks have samples)."""
        numer = np.asarray(self.numer, dtype=np.float64)
        denom = np.asarray(self.denom, dtype=np.float64)
        n = denom.shape[0]
        filled = np.sum(denom != 0, axis=0)
        resid = numer - self.value * denom
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.sum(np.where(denom != 0, resid, 0.0) ** 2, axis=0) / (n * (n - 1) * np.mean(denom, axis=0) ** 2)
            out = np.sqrt(var)
        return np.where(filled >= 2, out, np.nan)


def estimate(quantity: BlockRatio | tuple[float, np.ndarray]) -> tuple[float, float, np.ndarray]:
    """(value, standard error, per-block values) of a summary scalar.

    ``quantity`` is a :class:`BlockRatio` or ``(value, per-block values)`` for a
    quantity defined in every block (its error: :func:`sem`).
    """
    if isinstance(quantity, BlockRatio):
        return float(quantity.value), float(quantity.err), quantity.per_block()
    value, blocks = quantity
    return float(value), float(sem(blocks)), np.asarray(blocks, dtype=np.float64)


def ratio(numer: np.ndarray, denom: np.ndarray, empty: float = np.nan) -> np.ndarray:
    """numer / denom with ``empty`` (NaN) where denom is 0."""
    numer = np.asarray(numer, dtype=np.float64)
    denom = np.asarray(denom, dtype=np.float64)
    out = np.full(np.broadcast(numer, denom).shape, empty, dtype=np.float64)
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
