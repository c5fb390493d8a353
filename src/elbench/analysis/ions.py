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
from elbench.analysis.blocks import BlockRatio, BlockSums, estimate, ratio
from elbench.analysis.first_layer import FirstLayer

#: First minimum of the cation–O(water) radial distribution (Å), typical for
#: Joung–Cheatham ions in SPC/E-like water.
COORDINATION_CUTOFF_A = {"Li": 2.7, "Na": 3.2, "K": 3.6}


class IonKernel:
    """Per-block, per-bin cation counts and summed cation–O coordination numbers.

    Contributes ``summary.json``'s ``cation`` block (the cation density column
    comes from :mod:`elbench.analysis.density`).
    """

    name = "ions"

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

    def collect(self, faces: list[str]) -> dict[str, np.ndarray | None]:
        """Per-block cation counts ``ion_count`` and summed coordination ``ion_cn_sum`` (n_blocks, n_bins) over ``faces``."""
        if not self.sums:
            return {"ion_count": None, "ion_cn_sum": None}
        return {"ion_" + key: sum(self.sums[f][key].sums for f in faces) for key in ("count", "cn_sum")}

    def columns(self, b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """No profile columns of its own."""
        return {}

    def scalars(self, b: dict, layer: FirstLayer, in_layer: np.ndarray) -> tuple[dict, dict]:
        """``cation``: contact split at the first-layer bound, mean distance and the distance pdf."""
        n_cations = len(self.analysis.roles.cation)
        if b["ion_count"] is None or not n_cations:
            return {"cation": {"n_cations": n_cations}}, {}
        centers = self.analysis.grid.centers
        boundary = layer.boundary_A if layer.boundary_A is not None else 0.0
        res = contact_split(b["ion_count"], b["ion_cn_sum"], centers, boundary, self.cutoff,
                            inner=in_layer if layer.boundary_A is not None else None)
        res["contact_window_A"] = layer.window_A
        counts = b["ion_count"].sum(axis=0)
        res["n_cations"] = n_cations
        res["mean_distance_A"] = _num(ratio((counts * centers).sum(), counts.sum()))
        edges = np.arange(0.0, max(float(centers[-1]), 0.25) + 0.25, 0.25)
        hist, _ = np.histogram(centers, bins=edges, weights=counts)
        res["distance_pdf"] = {
            "edges_A": edges.round(6).tolist(),
            "density_per_A": (hist / max(hist.sum(), 1) / 0.25).tolist(),
        }
        return {"cation": res}, {}

    def _coordination(self, chunk: Chunk) -> np.ndarray:
        """Number of O within the cutoff of each cation, (nf, n_cation)."""
        if self.analysis.compiled:
            # start-up time: numba, only when the compiled kernels are used
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


def contact_split(
    count_b: np.ndarray,
    cn_b: np.ndarray,
    centers: np.ndarray,
    boundary_A: float,
    cutoff_A: float,
    inner: np.ndarray | None = None,
) -> dict:
    """Contact fraction and coordination numbers (contact / solvated / all) with block errors.

    ``count_b`` and ``cn_b`` are per-block, per-bin cation counts and summed
    coordination numbers; cations with d < ``boundary_A`` are in contact, or, where
    given, those in the bins of ``inner`` (the first layer's mask, a user window's
    MIN <= d < MAX included: :meth:`elbench.analysis.first_layer.FirstLayer.mask`).
    """
    if inner is None:
        inner = centers < boundary_A
    out = {"n_cation_frames": int(count_b.sum()), "contact_cutoff_A": float(boundary_A)}
    tot_b = count_b.sum(axis=1)
    parts = {
        "contact_fraction": BlockRatio(count_b[:, inner].sum(axis=1), tot_b),
        "coordination_all": BlockRatio(cn_b.sum(axis=1), tot_b),
        "coordination_contact": BlockRatio(cn_b[:, inner].sum(axis=1), count_b[:, inner].sum(axis=1)),
        "coordination_solvated": BlockRatio(cn_b[:, ~inner].sum(axis=1), count_b[:, ~inner].sum(axis=1)),
    }
    for key, quantity in parts.items():
        value, err, blocks = estimate(quantity)
        out[key] = _num(value)
        out[key + "_err"] = _num(err)
        out[key + "_blocks"] = [_num(x) for x in blocks]
    out["coordination_cutoff_A"] = cutoff_A
    return out


def _num(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None
