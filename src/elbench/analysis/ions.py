"""Cations: distance-to-surface distribution, contact vs solvated, cation–O coordination.

The cation number density profile comes from :mod:`elbench.analysis.density`;
this kernel adds, per distance bin, how many cations were seen and their summed
first-shell coordination number (O within ``coordination_cutoff_A``, minimum
image). Contact (inner-layer) vs solvated is decided after the pass, with the
boundary of the first water layer, so one pass suffices.
"""

from __future__ import annotations

import numpy as np

from elbench.analysis.base import Chunk, ChunkedAnalysis
from elbench.analysis.blocks import BlockSums, ratio, sem

#: First minimum of the cation–O(water) radial distribution (Å), typical for
#: Joung–Cheatham ions in SPC/E-like water.
COORDINATION_CUTOFF_A = {"Li": 2.7, "Na": 3.2, "K": 3.6}


class IonKernel:
    """Per-block, per-bin cation counts and summed cation–O coordination numbers."""

    def __init__(self, analysis: ChunkedAnalysis, coordination_cutoff_A: float | None = None) -> None:
        self.analysis = analysis
        cation = analysis.roles.cation_element
        cutoff = coordination_cutoff_A or getattr(analysis, "coordination_cutoff_A", None)
        self.cutoff = float(cutoff or COORDINATION_CUTOFF_A.get(cation, 3.2))
        self.sums: dict[str, dict[str, BlockSums]] = {}

    def accumulate(self, chunk: Chunk) -> None:
        if chunk.cation.shape[1] == 0:
            return
        cn = self._coordination(chunk)
        n_bins = self.analysis.grid.n_bins
        for face in chunk.interfaces:
            if face.name not in self.sums:
                nb = self.analysis.n_blocks
                self.sums[face.name] = {"count": BlockSums(n_bins, nb), "cn_sum": BlockSums(n_bins, nb)}
            b = face.bins["C"].ravel()
            self.sums[face.name]["count"].add(chunk.block, np.bincount(b, minlength=n_bins))
            self.sums[face.name]["cn_sum"].add(chunk.block, np.bincount(b, weights=cn.ravel(), minlength=n_bins))

    def _coordination(self, chunk: Chunk) -> np.ndarray:
        """Number of O within the cutoff of each cation, (nf, n_cation)."""
        if self.analysis.compiled:
            from elbench.analysis._kernels import coordination

            out = np.empty(chunk.cation.shape[:2], dtype=np.float64)
            box = np.ascontiguousarray(chunk.lengths, dtype=np.float32)
            return coordination(chunk.oxygen, chunk.cation, box, np.float32(self.cutoff), out)
        box = chunk.lengths.astype(np.float32)
        cut2 = np.float32(self.cutoff**2)
        # z first: only O within the cutoff in z need their full distance
        dz = chunk.oxygen[:, None, :, 2] - chunk.cation[:, :, None, 2]  # (nf, nC, nO)
        dz -= box[:, None, None, 2] * np.rint(dz / box[:, None, None, 2])
        f, c, o = np.nonzero(np.abs(dz) < self.cutoff)
        dxy = chunk.oxygen[f, o, :2] - chunk.cation[f, c, :2]
        dxy -= box[f, :2] * np.rint(dxy / box[f, :2])
        inside = (dxy * dxy).sum(axis=1) + dz[f, c, o] ** 2 < cut2
        nf, nc = chunk.cation.shape[:2]
        out = np.bincount(f[inside] * nc + c[inside], minlength=nf * nc).reshape(nf, nc).astype(np.float64)
        return out


def contact_split(count_b: np.ndarray, cn_b: np.ndarray, centers: np.ndarray, boundary_A: float, cutoff_A: float) -> dict:
    """Contact fraction and coordination numbers (contact / solvated / all) with block errors.

    ``count_b`` and ``cn_b`` are per-block, per-bin cation counts and summed
    coordination numbers; cations with d < ``boundary_A`` are in contact.
    """
    inner = centers < boundary_A
    out = {"n_cation_frames": int(count_b.sum()), "contact_cutoff_A": float(boundary_A)}
    tot_b = count_b.sum(axis=1)
    parts = {
        "contact_fraction": ratio(count_b[:, inner].sum(axis=1), tot_b),
        "coordination_all": ratio(cn_b.sum(axis=1), tot_b),
        "coordination_contact": ratio(cn_b[:, inner].sum(axis=1), count_b[:, inner].sum(axis=1)),
        "coordination_solvated": ratio(cn_b[:, ~inner].sum(axis=1), count_b[:, ~inner].sum(axis=1)),
    }
    totals = {
        "contact_fraction": ratio(count_b[:, inner].sum(), count_b.sum()),
        "coordination_all": ratio(cn_b.sum(), count_b.sum()),
        "coordination_contact": ratio(cn_b[:, inner].sum(), count_b[:, inner].sum()),
        "coordination_solvated": ratio(cn_b[:, ~inner].sum(), count_b[:, ~inner].sum()),
    }
    for key, blocks in parts.items():
        out[key] = _num(totals[key])
        out[key + "_err"] = _num(sem(blocks))
        out[key + "_blocks"] = [_num(x) for x in blocks]
    out["coordination_cutoff_A"] = cutoff_A
    return out


def _num(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


class CationDistribution(ChunkedAnalysis):
    """Cation distance distribution, contact fraction and cation–O coordination.

    ``contact_max_A`` bounds the inner (contact) layer; ``results.<interface>``
    holds the split from :func:`contact_split` and ``p_d`` (probability density of d, Å⁻¹).
    """

    kernel_classes = (IonKernel,)

    def __init__(self, atomgroup, *, contact_max_A: float = 3.5, coordination_cutoff_A: float | None = None, **kwargs):
        super().__init__(atomgroup, **kwargs)
        self.contact_max_A = contact_max_A
        self.coordination_cutoff_A = coordination_cutoff_A

    def _conclude_kernels(self) -> None:
        kernel = self.kernels[0]
        centers = self.grid.centers
        for name in self.interface_names:
            if name not in kernel.sums:
                self.results[name] = {"n_cation_frames": 0}
                continue
            s = kernel.sums[name]
            res = contact_split(s["count"].sums, s["cn_sum"].sums, centers, self.contact_max_A, kernel.cutoff)
            counts = s["count"].total
            res["p_d"] = counts / max(counts.sum(), 1) / self.grid.dz
            res["z_A"] = centers
            self.results[name] = res
