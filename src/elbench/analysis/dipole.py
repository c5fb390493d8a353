"""Total water dipole per frame and angular distributions per layer (issue 18 items 4 and 5).

Total dipole (the study's WatAnalysis definition, as the issue states it)
-----------------------------------------------------------------------
Per frame f and interface: M_f = Σ_w cos θ_w / A_f, the sum over the intact waters w
(O with exactly two H, as in :mod:`~elbench.analysis.orientation`) of the region, with
cos θ = μ·n / |μ| (n the surface normal pointing into the electrolyte) and A_f the
cell's lateral (xy) area of that frame; reported in nm⁻² (Σ cos θ per nm²). Two regions:

- ``first_layer``: the waters whose O bin is in the first layer (:mod:`~elbench.analysis.first_layer`,
  automatic bound or the user window, the one definition);
- ``slab``: the water on this interface's side: every water in the ``slab`` geometry (one
  interface), and in the ``sandwich`` geometry the waters with d below half the
  metal-to-metal water gap of that frame, (L_z − slab thickness) / 2.

Mean and block error: per-block sums of M_f over frames (``summary.json``
``first_layer_total_dipole_per_nm2`` / ``slab_total_dipole_per_nm2`` with ``_err`` and
``_blocks``; the symmetrized interface averages the faces). Distribution: a histogram of
M_f with bins of :data:`TOTAL_DIPOLE_BIN_PER_NM2` (``total_dipole.csv``, probability
density in nm², every face-frame one sample). The pass keeps histograms only: the
automatic first-layer bound is found after the pass, so the first layer's histogram is
kept for every candidate bound (a prefix of the distance bins up to
:data:`MAX_LAYER_BOUND_A`) and the one of the bound found is written; a user window or
``--first-layer-max`` is known in advance and histogrammed directly.

Angular distributions
---------------------
P(cos θ) of the water dipole and of the O–H bonds (cos φ = b·n / |b|, each bond at its
water's O) come from the orientation kernel's (d, cos θ) histograms
(``orientation.N_COS_BINS`` bins on [−1, 1]): ``angles_dipole.csv`` / ``angles_oh.csv``
(long format ``d_A``, ``cos_theta``, ``p_cos_theta`` = P(cos θ | d) per unit cos θ,
``count`` = waters / bonds over all frames) and ``angles_layers.csv`` (P(cos θ) per layer).
Layers: first = the first layer; second = from the first-layer bound to bound +
:data:`SECOND_LAYER_WIDTH_A` (3 Å, a stated width, not the second density minimum);
bulk = from there to the middle of the water, d_mid = the O-density-weighted mean
distance of the water at d > 0 (half the gap in a symmetric sandwich).
"""

from __future__ import annotations

import numpy as np

from elbench.analysis.base import Chunk, ChunkedAnalysis
from elbench.analysis.blocks import BlockSums, weighted_block_mean
from elbench.analysis.first_layer import FirstLayer
from elbench.analysis.orientation import N_COS_BINS, cos_bin_centers

#: Bin width (nm⁻²) of the per-frame total dipole histogram.
TOTAL_DIPOLE_BIN_PER_NM2 = 0.05
#: Candidate automatic first-layer bounds are kept up to this distance (Å).
MAX_LAYER_BOUND_A = 8.0
#: Width (Å) of the second layer above the first-layer bound.
SECOND_LAYER_WIDTH_A = 3.0
#: Å⁻² → nm⁻²
PER_A2_TO_PER_NM2 = 100.0


class GrowingHistogram:
    """Counts of values in bins of fixed ``width`` (bin i: [i·width, (i+1)·width)), rows × bins, range grown on demand."""

    def __init__(self, n_rows: int, width: float) -> None:
        self.width = float(width)
        self.lo = 0  # bin index of column 0
        self.counts = np.zeros((n_rows, 0), dtype=np.int64)

    def add(self, values: np.ndarray) -> None:
        """Add ``values`` (n_samples, n_rows): one sample per row each."""
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0:
            return
        idx = np.floor(values / self.width).astype(np.int64)
        lo, hi = int(idx.min()), int(idx.max())
        n = self.counts.shape[1]
        if n == 0:
            self.lo, self.counts = lo, np.zeros((self.counts.shape[0], hi - lo + 1), dtype=np.int64)
        elif lo < self.lo or hi >= self.lo + n:
            new_lo = min(lo, self.lo)
            new = np.zeros((self.counts.shape[0], max(hi, self.lo + n - 1) - new_lo + 1), dtype=np.int64)
            new[:, self.lo - new_lo : self.lo - new_lo + n] = self.counts
            self.lo, self.counts = new_lo, new
        rows = self.counts.shape[0]
        n = self.counts.shape[1]
        flat = (np.arange(rows)[None, :] * n + (idx - self.lo)).ravel()
        self.counts += np.bincount(flat, minlength=rows * n).reshape(rows, n)

    def row(self, r: int) -> tuple[int, np.ndarray]:
        """(bin index of the first column, counts) of row ``r``."""
        return self.lo, self.counts[r]


def water_cos(assign: np.ndarray, vec: np.ndarray, n_oxygen: int) -> tuple[np.ndarray, np.ndarray]:
    """cos θ = μ_z / |μ| of every O (nf, nO) and which O are intact waters (exactly two H)."""
    nf = assign.shape[0]
    flat = (assign + (np.arange(nf) * n_oxygen)[:, None]).ravel()
    count = np.bincount(flat, minlength=nf * n_oxygen).reshape(nf, n_oxygen)
    mu = np.empty((nf, n_oxygen, 3))
    for c in range(3):
        mu[:, :, c] = np.bincount(flat, weights=vec[:, :, c].ravel(), minlength=nf * n_oxygen).reshape(nf, n_oxygen)
    intact = count == 2
    norm = np.sqrt(np.einsum("fij,fij->fi", mu, mu))
    cos = np.zeros((nf, n_oxygen))
    np.divide(mu[:, :, 2], norm, out=cos, where=intact & (norm > 0))
    return cos, intact


class DipoleKernel:
    """Per-frame total dipole Σ cos θ / A (first layer, slab side): block sums and histograms.

    Uses the H→O assignment the orientation kernel made for the same chunk
    (``OrientationKernel.last_assignment``), so it must run after it.
    """

    name = "dipole"

    def __init__(self, analysis: ChunkedAnalysis) -> None:
        self.analysis = analysis
        self.faces: dict[str, dict] = {}

    def _face(self, name: str) -> dict:
        if name not in self.faces:
            a = self.analysis
            grid = a.grid
            centers = grid.centers
            fixed = self._fixed_mask(centers)
            # candidate automatic bounds: the layer is the first k bins, k0 <= k <= k1
            k0 = int(np.count_nonzero(centers < 0.0))
            k1 = int(np.count_nonzero(centers < MAX_LAYER_BOUND_A))
            self.k_range = (k0, k1)
            self.faces[name] = {
                "per_bin": BlockSums(grid.n_bins, a.n_blocks),  # Σ_f Σ cos θ / A_f per O bin, nm⁻²
                "slab": BlockSums(1, a.n_blocks),
                "hist_slab": GrowingHistogram(1, TOTAL_DIPOLE_BIN_PER_NM2),
                "hist_layer": GrowingHistogram(1 if fixed is not None else k1 - k0 + 1, TOTAL_DIPOLE_BIN_PER_NM2),
                "fixed": fixed,
            }
        return self.faces[name]

    def _fixed_mask(self, centers: np.ndarray) -> np.ndarray | None:
        """The first-layer mask when it is known before the pass (user window or bound), else None."""
        a = self.analysis
        window = getattr(a, "first_layer_A", None)
        bound = getattr(a, "first_layer_max_A", None)
        if window is not None:
            return FirstLayer(None, None, None, window[1], "user", window[0]).mask(centers)
        if bound is not None:
            return FirstLayer(None, None, None, bound, "user").mask(centers)
        return None

    def _per_frame(self, chunk: Chunk):
        """Per face: (nf, n_bins) Σ cos θ / A (nm⁻²) of the intact waters by O bin, frame by frame."""
        assign, vec = self.analysis.kernels["orientation"].last_assignment
        nf, n_bins = chunk.n_frames, self.analysis.grid.n_bins
        scale = PER_A2_TO_PER_NM2 / chunk.area  # (nf,)
        if self.analysis.compiled:
            # start-up time: numba, only when the compiled kernels are used
            from elbench.analysis._kernels import frame_cos_sums

            for face in chunk.interfaces:
                out = np.zeros((nf, n_bins))
                bins = np.ascontiguousarray(face.bins["O"], dtype=np.intp)
                yield face, frame_cos_sums(assign, vec, bins, float(face.sign), np.ascontiguousarray(scale, dtype=np.float64), out)
            return
        cos, intact = water_cos(assign, vec, chunk.oxygen.shape[1])
        for face in chunk.interfaces:
            w = np.where(intact, face.sign * cos, 0.0) * scale[:, None]
            flat = (face.bins["O"] + (np.arange(nf) * n_bins)[:, None]).ravel()
            yield face, np.bincount(flat, weights=w.ravel(), minlength=nf * n_bins).reshape(nf, n_bins)

    def accumulate(self, chunk: Chunk) -> None:
        grid = self.analysis.grid
        nf = chunk.n_frames
        gap = chunk.lengths[:, 2] - chunk.planes.thickness
        for face, per_frame in self._per_frame(chunk):
            s = self._face(face.name)
            s["per_bin"].add(chunk.block, per_frame.sum(axis=0))
            if self.analysis.geometry == "sandwich":
                side = (grid.centers[None, :] < 0.5 * gap[:, None])
                slab = (per_frame * side).sum(axis=1)
            else:
                slab = per_frame.sum(axis=1)
            s["slab"].add(chunk.block, slab.sum())
            s["hist_slab"].add(slab[:, None])
            if s["fixed"] is not None:
                s["hist_layer"].add(per_frame[:, s["fixed"]].sum(axis=1)[:, None])
            else:
                k0, k1 = self.k_range
                prefix = np.cumsum(per_frame[:, : max(k1, 1)], axis=1)
                values = np.zeros((nf, k1 - k0 + 1))
                ks = np.arange(k0, k1 + 1)
                values[:, ks > 0] = prefix[:, ks[ks > 0] - 1]
                s["hist_layer"].add(values)

    def collect(self, faces: list[str]) -> dict[str, np.ndarray]:
        """Per-block mean per-frame sums ``dipole_per_bin`` (n_blocks, n_bins) and ``dipole_slab`` (n_blocks,), nm⁻², averaged over ``faces``."""
        frames = self.analysis.block_frames.astype(np.float64)
        per_bin = sum(self.faces[f]["per_bin"].sums for f in faces) / frames[:, None] / len(faces)
        slab = sum(self.faces[f]["slab"].sums[:, 0] for f in faces) / frames / len(faces)
        return {"dipole_per_bin": per_bin, "dipole_slab": slab}

    def columns(self, b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {}

    def scalars(self, b: dict[str, np.ndarray], layer: FirstLayer, in_layer: np.ndarray) -> tuple[dict, dict]:
        """first_layer_total_dipole_per_nm2 and slab_total_dipole_per_nm2 (per-frame Σ cos θ / A; mean over frames)."""
        w = self.analysis.block_frames / self.analysis.block_frames.sum()
        layer_blocks = b["dipole_per_bin"][:, in_layer].sum(axis=1)
        scalars = {
            "first_layer_total_dipole_per_nm2": (float((layer_blocks * w).sum()), layer_blocks),
            "slab_total_dipole_per_nm2": (float((b["dipole_slab"] * w).sum()), b["dipole_slab"]),
        }
        fields = {"angle_layers_A": angle_layers(self.analysis.grid.centers, b, layer, self.analysis.block_frames)}
        return fields, scalars

    def tables(self, faces: list[str], b: dict[str, np.ndarray], layer: FirstLayer) -> dict[str, dict[str, np.ndarray]]:
        """The output tables (file name → columns): total_dipole.csv, angles_dipole.csv, angles_oh.csv, angles_layers.csv."""
        centers = self.analysis.grid.centers
        out = {"total_dipole.csv": self._total_dipole_table(faces, layer, centers)}
        dip, oh = b["hist_dipole"].sum(axis=0), b["hist_oh"].sum(axis=0)  # (n_bins, N_COS_BINS)
        filled = np.flatnonzero((dip.sum(axis=1) > 0) | (oh.sum(axis=1) > 0))
        last = centers[filled[-1]] if len(filled) else -1.0
        keep = (centers >= 0.0) & (centers <= last)  # d >= 0 up to the farthest water
        c = cos_bin_centers()
        for name, h in (("angles_dipole.csv", dip), ("angles_oh.csv", oh)):
            hk = h[keep]
            out[name] = {
                "d_A": np.repeat(centers[keep], N_COS_BINS),
                "cos_theta": np.tile(c, len(hk)),
                "p_cos_theta": _pdf(hk).ravel(),
                "count": hk.ravel().astype(np.float64),
            }
        layers = angle_layers(centers, b, layer, self.analysis.block_frames)
        table = {"cos_theta": c}
        for kind, h in (("dipole", dip), ("oh", oh)):
            for lname, window in layers.items():
                mask = _layer_mask(centers, window, layer, lname)
                table[f"p_{kind}_{lname}"] = _pdf(h[mask].sum(axis=0)[None])[0]
        out["angles_layers.csv"] = table
        return out

    def _total_dipole_table(self, faces: list[str], layer: FirstLayer, centers: np.ndarray) -> dict[str, np.ndarray]:
        width = TOTAL_DIPOLE_BIN_PER_NM2
        rows = []
        for kind in ("hist_layer", "hist_slab"):
            lo, counts, n = None, None, 0
            for f in faces:
                s = self.faces[f]
                h = s[kind]
                if kind == "hist_slab" or s["fixed"] is not None:
                    r = 0
                else:
                    k = int(np.count_nonzero(layer.mask(centers))) if layer.boundary_A is not None else -1
                    k0, k1 = self.k_range
                    if not k0 <= k <= k1:
                        r = None
                    else:
                        r = k - k0
                if r is None or h.counts.shape[1] == 0:
                    continue
                flo, fc = h.row(r)
                lo, counts = _merge(lo, counts, flo, fc)
            rows.append((lo, counts))
        los = [lo for lo, c in rows if c is not None]
        if not los:
            return {"total_dipole_per_nm2": np.zeros(0), "p_first_layer_nm2": np.zeros(0), "p_slab_nm2": np.zeros(0)}
        lo = min(los)
        hi = max(lo_ + len(c) for lo_, c in rows if c is not None)
        cols = []
        for r_lo, c in rows:
            full = np.zeros(hi - lo)
            if c is not None:
                full[r_lo - lo : r_lo - lo + len(c)] = c
                full = full / full.sum() / width
            else:
                full[:] = np.nan
            cols.append(full)
        return {
            "total_dipole_per_nm2": (np.arange(lo, hi) + 0.5) * width,
            "p_first_layer_nm2": cols[0],
            "p_slab_nm2": cols[1],
        }


def _merge(lo, counts, flo, fc):
    if counts is None:
        return flo, fc.astype(np.float64)
    new_lo = min(lo, flo)
    new_hi = max(lo + len(counts), flo + len(fc))
    out = np.zeros(new_hi - new_lo)
    out[lo - new_lo : lo - new_lo + len(counts)] += counts
    out[flo - new_lo : flo - new_lo + len(fc)] += fc
    return new_lo, out


def _pdf(h: np.ndarray) -> np.ndarray:
    """Rows of cos θ counts → probability density per unit cos θ (NaN for an empty row)."""
    h = np.asarray(h, dtype=np.float64)
    tot = h.sum(axis=-1, keepdims=True)
    out = np.full(h.shape, np.nan)
    np.divide(h, tot * (2.0 / N_COS_BINS), out=out, where=tot > 0)
    return out


def water_middle(centers: np.ndarray, n_o: np.ndarray) -> float | None:
    """O-density-weighted mean distance of the water at d > 0 (Å): the middle of the water."""
    pos = centers > 0
    w = np.nan_to_num(np.asarray(n_o, dtype=np.float64))[pos]
    return float((centers[pos] * w).sum() / w.sum()) if w.sum() > 0 else None


def angle_layers(
    centers: np.ndarray, b: dict[str, np.ndarray], layer: FirstLayer, block_frames: np.ndarray
) -> dict[str, list[float | None] | None]:
    """Windows [lo, hi) in Å of the first, second and bulk layers (None where there is no first layer)."""
    if layer.boundary_A is None:
        return {"first_layer": None, "second_layer": None, "bulk": None}
    bound = float(layer.boundary_A)
    mid = water_middle(centers, weighted_block_mean(b["n_O"], block_frames))
    second = [bound, bound + SECOND_LAYER_WIDTH_A]
    bulk = [bound + SECOND_LAYER_WIDTH_A, mid] if mid is not None and mid > bound + SECOND_LAYER_WIDTH_A else None
    return {"first_layer": layer.window_A, "second_layer": second, "bulk": bulk}


def _layer_mask(centers: np.ndarray, window, layer: FirstLayer, name: str) -> np.ndarray:
    if window is None:
        return np.zeros(centers.shape, dtype=bool)
    if name == "first_layer":
        return layer.mask(centers)
    return (centers >= window[0]) & (centers < window[1])
