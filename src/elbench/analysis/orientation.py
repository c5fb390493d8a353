"""Water orientation: dipole angle profile, P(cos θ), H-down / H-up O–H fractions.

Waters are found without bonds: every H belongs to its nearest O (minimum
image). An O with exactly two H is an intact water with dipole direction
μ = (r_H1 − r_O) + (r_H2 − r_O); O with one or three H (OH⁻, H₃O⁺ after a
proton hop) are counted, not used for angles, and never crash the analysis.
cos θ = μ·n / |μ| with n the surface normal pointing into the electrolyte.
⟨cos θ⟩(d) is pooled: Σ cos θ over every intact water whose O is in the bin,
over all frames, divided by their count.

The nearest-O search is the expensive part, and the answer rarely changes
between frames; :class:`HydrogenAssigner` keeps the previous assignment and
proves it still exact with a cheap bound, searching again only when the bound
fails (see its docstring).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from elbench.analysis.base import Chunk, ChunkedAnalysis
from elbench.analysis.blocks import BlockSums, ratio, sem

#: Bins of cos θ in [-1, 1] for P(cos θ) and the O–H bond histograms.
N_COS_BINS = 40


def minimum_image(vectors: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """In-place minimum image of (nf, n, 3) vectors in orthorhombic cells (nf, 3)."""
    box = lengths[:, None, :]
    vectors -= box * np.round(vectors / box)
    return vectors


def _wrap(x: np.ndarray, box: np.ndarray) -> np.ndarray:
    w = np.mod(x, box)
    w[w >= box] = 0.0
    return w


def nearest_oxygen(oxygen: np.ndarray, hydrogen: np.ndarray, lengths: np.ndarray, k: int = 1):
    """Exact nearest O of each H in one frame (periodic KD-tree); returns (dist, index)."""
    box = np.asarray(lengths, dtype=np.float64)
    tree = cKDTree(_wrap(oxygen.astype(np.float64), box), boxsize=box)
    return tree.query(_wrap(hydrogen.astype(np.float64), box), k=k)


class HydrogenAssigner:
    """Nearest-O assignment of every H, exact in every frame, searched rarely.

    Bound: H stays closest to its O_a if 2·d(H, O_a) < min_b d(O_a, O_b) —
    any other O is then farther by the triangle inequality. The nearest O–O
    distance is bounded from below with a neighbour list made at a reference
    frame T (all O pairs closer than ``list_radius_A``): listed pairs are
    measured exactly in every frame, unlisted ones are at least
    ``list_radius_A − |ΔO_a| − max_b |ΔO_b|`` apart (displacements since T).
    The few H that fail the bound are searched exactly (brute force over all O,
    minimum image) in that frame; the list is renewed when too many fail.
    """

    def __init__(self, n_oxygen: int, n_hydrogen: int, list_radius_A: float = 4.0, refresh_fraction: float = 0.02) -> None:
        self.n_oxygen = n_oxygen
        self.n_hydrogen = n_hydrogen
        self.list_radius_A = list_radius_A
        self.refresh_fraction = refresh_fraction
        self.assign: np.ndarray | None = None  # (nH,) current O index of each H
        self.ref_oxygen: np.ndarray | None = None
        self.neighbours: np.ndarray | None = None  # (nO, K) listed O neighbours (self-padded)
        self.searches = 0  # full KD-tree searches (H→O) and list rebuilds
        self.list_builds = 0
        self.brute_force_h = 0  # H checked exactly by brute force

    def _build_list(self, oxygen: np.ndarray, lengths: np.ndarray) -> None:
        box = np.asarray(lengths, dtype=np.float64)
        o = _wrap(oxygen.astype(np.float64), box)
        tree = cKDTree(o, boxsize=box)
        pairs = tree.query_pairs(self.list_radius_A, output_type="ndarray")
        a = np.concatenate([pairs[:, 0], pairs[:, 1]]) if len(pairs) else np.zeros(0, np.intp)
        b = np.concatenate([pairs[:, 1], pairs[:, 0]]) if len(pairs) else np.zeros(0, np.intp)
        counts = np.bincount(a, minlength=self.n_oxygen)
        k = max(int(counts.max()) if len(counts) else 0, 1)
        nbr = np.repeat(np.arange(self.n_oxygen)[:, None], k, axis=1)
        order = np.argsort(a, kind="stable")
        a, b = a[order], b[order]
        slot = np.arange(len(a)) - np.repeat(np.cumsum(counts) - counts, counts)
        nbr[a, slot] = b
        self.neighbours = nbr
        self.padding = nbr == np.arange(self.n_oxygen)[:, None]
        self.ref_oxygen = oxygen.astype(np.float64)
        self.list_builds += 1

    def assign_chunk(self, oxygen: np.ndarray, hydrogen: np.ndarray, lengths: np.ndarray):
        """Assignments (nf, nH) and minimum-image O→H vectors (nf, nH, 3) for a chunk."""
        nf = oxygen.shape[0]
        if self.assign is None:
            _, idx = nearest_oxygen(oxygen[0], hydrogen[0], lengths[0])
            self.assign = np.asarray(idx, dtype=np.intp)
            self.searches += 1
            self._build_list(oxygen[0], lengths[0])
        out = np.empty((nf, self.n_hydrogen), dtype=np.intp)
        vec = np.empty((nf, self.n_hydrogen, 3), dtype=np.float64)
        start = 0
        while start < nf:
            sl = slice(start, nf)
            o = oxygen[sl].astype(np.float64)
            box = lengths[sl]
            v = hydrogen[sl] - np.take(o, self.assign, axis=1)
            minimum_image(v, box)
            d_ho = np.sqrt(np.einsum("fij,fij->fi", v, v))
            lower = self._nn_lower_bound(o, box)
            ok = 2.0 * d_ho < np.take(lower, self.assign, axis=1)
            n_bad = (~ok).sum(axis=1)
            too_many = np.flatnonzero(n_bad > self.refresh_fraction * self.n_hydrogen)
            if len(too_many) and too_many[0] == 0 and self.list_builds and self._fresh:
                too_many = too_many[1:]  # the list is new: brute force this frame
            stop = nf if len(too_many) == 0 else start + int(too_many[0])
            m = stop - start
            if m == 0:
                self._build_list(oxygen[start], lengths[start])
                self._fresh = True
                continue
            self._fresh = False
            assign = np.broadcast_to(self.assign, (m, self.n_hydrogen)).copy()
            bad_f, bad_h = np.nonzero(~ok[:m])
            if len(bad_f):
                self._brute_force(o[:m], hydrogen[sl][:m], box[:m], bad_f, bad_h, assign, v)
            out[start:stop] = assign
            vec[start:stop] = v[:m]
            self.assign = assign[-1].copy()
            start = stop
        return out, vec

    _fresh = False

    def _nn_lower_bound(self, o: np.ndarray, box: np.ndarray) -> np.ndarray:
        """Lower bound (nf, nO) on each O's nearest-O distance in each frame."""
        dref = o - self.ref_oxygen[None]
        minimum_image(dref, box)
        disp = np.sqrt(np.einsum("fij,fij->fi", dref, dref))
        unlisted = self.list_radius_A - disp - disp.max(axis=1, keepdims=True)
        nf, n_o = disp.shape
        k = self.neighbours.shape[1]
        dv = np.take(o, self.neighbours.ravel(), axis=1).reshape(nf, n_o, k, 3) - o[:, :, None, :]
        dv -= box[:, None, None, :] * np.round(dv / box[:, None, None, :])
        dist = np.sqrt(np.einsum("fikj,fikj->fik", dv, dv))
        dist[:, self.padding] = np.inf
        return np.minimum(dist.min(axis=2), unlisted)

    def _brute_force(self, o, h, box, bad_f, bad_h, assign, v, batch: int = 256) -> None:
        """Exact nearest O for the (frame, H) pairs that failed the bound."""
        self.brute_force_h += len(bad_f)
        for s in range(0, len(bad_f), batch):
            f, hh = bad_f[s : s + batch], bad_h[s : s + batch]
            dv = h[f, hh][:, None, :] - o[f]
            bx = box[f][:, None, :]
            dv -= bx * np.round(dv / bx)
            j = np.argmin(np.einsum("pij,pij->pi", dv, dv), axis=1)
            assign[f, hh] = j
            v[f, hh] = dv[np.arange(len(j)), j]


class OrientationKernel:
    """Per-block sums for ⟨cos θ⟩(d), P(cos θ | d) and O–H bond angle histograms."""

    def __init__(self, analysis: ChunkedAnalysis) -> None:
        self.analysis = analysis
        roles = analysis.roles
        self.assigner = HydrogenAssigner(len(roles.oxygen), len(roles.hydrogen))
        self.sums: dict[str, dict[str, BlockSums]] = {}
        self.o_h_counts = np.zeros(5, dtype=np.int64)  # O with 0,1,2,3,≥4 H, summed over frames

    def _sums(self, name: str) -> dict[str, BlockSums]:
        if name not in self.sums:
            nb, n = self.analysis.n_blocks, self.analysis.grid.n_bins
            self.sums[name] = {
                "cos_sum": BlockSums(n, nb),
                "n_water": BlockSums(n, nb),
                "hist_dipole": BlockSums((n, N_COS_BINS), nb),
                "hist_oh": BlockSums((n, N_COS_BINS), nb),
            }
        return self.sums[name]

    def accumulate(self, chunk: Chunk) -> None:
        n_o = chunk.oxygen.shape[1]
        nf = chunk.n_frames
        assign, vec = self.assigner.assign_chunk(chunk.oxygen, chunk.hydrogen, chunk.lengths)
        flat = (assign + (np.arange(nf) * n_o)[:, None]).ravel()
        count = np.bincount(flat, minlength=nf * n_o).reshape(nf, n_o)
        self.o_h_counts += np.bincount(np.minimum(count.ravel(), 4), minlength=5)
        mu = np.empty((nf, n_o, 3))
        for c in range(3):
            mu[:, :, c] = np.bincount(flat, weights=vec[:, :, c].ravel(), minlength=nf * n_o).reshape(nf, n_o)
        intact = count == 2
        mu_norm = np.sqrt(np.einsum("fij,fij->fi", mu, mu))
        cos_dip = ratio(mu[:, :, 2], mu_norm)[intact]
        oh_len = np.sqrt(np.einsum("fij,fij->fi", vec, vec))
        cos_oh = ratio(vec[:, :, 2], oh_len)
        h_intact = np.take_along_axis(intact, assign, axis=1)
        cos_oh = cos_oh[h_intact]
        n_bins = self.analysis.grid.n_bins
        for face in chunk.interfaces:
            sums = self._sums(face.name)
            b_o = face.bins["O"][intact]
            cos = face.sign * cos_dip
            sums["cos_sum"].add(chunk.block, np.bincount(b_o, weights=cos, minlength=n_bins))
            sums["n_water"].add(chunk.block, np.bincount(b_o, minlength=n_bins))
            sums["hist_dipole"].add(chunk.block, _hist2d(b_o, cos, n_bins))
            b_h = np.take_along_axis(face.bins["O"], assign, axis=1)[h_intact]
            sums["hist_oh"].add(chunk.block, _hist2d(b_h, face.sign * cos_oh, n_bins))

    def block_cos(self, name: str) -> np.ndarray:
        s = self.sums[name]
        return ratio(s["cos_sum"].sums, s["n_water"].sums)


def _hist2d(bins: np.ndarray, cos: np.ndarray, n_bins: int) -> np.ndarray:
    cbin = ((cos + 1.0) * (0.5 * N_COS_BINS)).astype(np.intp)
    np.clip(cbin, 0, N_COS_BINS - 1, out=cbin)
    h = np.bincount(bins * N_COS_BINS + cbin, minlength=n_bins * N_COS_BINS)
    return h.reshape(n_bins, N_COS_BINS)


def cos_bin_centers() -> np.ndarray:
    return -1.0 + (np.arange(N_COS_BINS) + 0.5) * (2.0 / N_COS_BINS)


class WaterOrientation(ChunkedAnalysis):
    """⟨cos θ⟩(d) of the water dipole, pooled over frames, with block errors.

    ``results.<interface>``: ``z_A``, ``cos_theta``, ``cos_theta_err``, ``n_water`` (counts).
    """

    kernel_classes = (OrientationKernel,)

    def _conclude_kernels(self) -> None:
        kernel = self.kernels[0]
        for name in self.interface_names:
            s = kernel.sums[name]
            self.results[name] = {
                "z_A": self.grid.centers,
                "cos_theta": ratio(s["cos_sum"].total, s["n_water"].total),
                "cos_theta_err": sem(kernel.block_cos(name)),
                "n_water": s["n_water"].total,
            }
        self.results.searches = kernel.assigner.searches
        self.results.partial_searches = kernel.assigner.partial_searches
