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
from elbench.analysis.blocks import BlockRatio, BlockSums, ratio, weighted_block_mean
from elbench.analysis.density import number_to_mass_density
from elbench.analysis.first_layer import FirstLayer

#: Bins of cos θ in [-1, 1] for P(cos θ) and the O–H bond histograms.
N_COS_BINS = 40
#: O–H bonds with cos φ below −this are "H-down", above +this "H-up".
H_DOWN_COS = 0.5


def minimum_image(vectors: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """In-place minimum image of (nf, n, 3) vectors in orthorhombic cells (nf, 3)."""
    box = lengths[:, None, :]
    shift = np.divide(vectors, box)
    np.rint(shift, out=shift)
    shift *= box
    vectors -= shift
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
    """Nearest-O assignment of every H, exact in every frame, with few searches.

    At a reference frame T a KD-tree gives each O its O neighbours within
    ``list_radius_A`` and its nearest O–O distance nn_a(T). In a later frame,
    with displacements since T (disp_a for O_a, M the largest of all O):

    1. an H stays with its O_a if 2·d(H, O_a) < nn_a(T) − disp_a − M, since every
       other O is then farther (triangle inequality) — checked for all H at once;
    2. an H failing (1) is compared exactly with O_a's listed neighbours; the
       nearest of them is exact if it is closer than ``list_radius_A − disp_a −
       M − d(H, O_a)`` (the least distance to any unlisted O);
    3. an H failing (2) is compared with every O (brute force, minimum image).

    The reference is renewed when M exceeds ``refresh_A`` or when more than
    ``refresh_fraction`` of the H need step 2.
    """

    def __init__(
        self,
        n_oxygen: int,
        n_hydrogen: int,
        list_radius_A: float = 4.5,
        refresh_A: float = 1.2,
        refresh_fraction: float = 0.25,
        max_neighbours: int = 20,
        window_frames: int = 16,
        compiled: bool = True,
    ) -> None:
        self.n_oxygen = n_oxygen
        self.n_hydrogen = n_hydrogen
        self.list_radius_A = list_radius_A
        self.refresh_A = refresh_A
        self.refresh_fraction = refresh_fraction
        self.max_neighbours = max_neighbours
        self.window_frames = window_frames
        self.compiled = compiled
        self.assign: np.ndarray | None = None  # (nH,) current O index of each H
        self.searches = 0  # full KD-tree H→O searches
        self.list_builds = 0  # O–O neighbour lists made
        self.candidate_checks = 0  # (frame, H) pairs resolved by step 2
        self.brute_force_h = 0  # (frame, H) pairs resolved by step 3

    def _build_list(self, oxygen: np.ndarray, lengths: np.ndarray) -> None:
        box = np.asarray(lengths, dtype=np.float64)
        self_idx = np.arange(self.n_oxygen)[:, None]
        k = min(self.max_neighbours, self.n_oxygen - 1)
        if self.compiled and self.n_oxygen <= 3000 and k > 0:
            # all O pairs in a compiled loop: cheaper than a KD-tree below a few thousand O
            # start-up time: numba, only when the compiled kernels are used
            from elbench.analysis._kernels import oxygen_neighbours

            nbr, nbr_d = oxygen_neighbours(oxygen.astype(np.float64), box, float(self.list_radius_A), k)
        else:
            o = _wrap(oxygen.astype(np.float64), box)
            tree = cKDTree(o, boxsize=box)
            dist, idx = tree.query(o, k=k + 1, distance_upper_bound=self.list_radius_A)
            dist, idx = np.atleast_2d(dist), np.atleast_2d(idx)
            if dist.shape[0] != self.n_oxygen:
                dist, idx = dist.T, idx.T
            idx = np.where(~np.isfinite(dist), self_idx, idx)
            nbr, nbr_d = idx[:, 1:], dist[:, 1:]
        # the list is complete up to list_reach: the radius, or less where max_neighbours O fell inside it
        last = nbr_d[:, -1] if nbr.shape[1] else np.full(self.n_oxygen, np.inf)
        self.list_reach = float(min(self.list_radius_A, np.min(last)))
        first = nbr_d[:, 0] if nbr.shape[1] else np.full(self.n_oxygen, np.inf)
        # no O within reach means the nearest is at least list_reach away (never "infinitely" far)
        self.nn_oo = np.minimum(first, self.list_reach).astype(np.float32)
        self.neighbours = np.ascontiguousarray(nbr if nbr.shape[1] else self_idx, dtype=np.intp)
        self.ref_oxygen = np.ascontiguousarray(oxygen, dtype=np.float32)
        self.list_builds += 1
        self._fresh = True

    def assign_chunk(self, oxygen: np.ndarray, hydrogen: np.ndarray, lengths: np.ndarray):
        """Assignments (nf, nH) and minimum-image O→H vectors (nf, nH, 3, float32) for a chunk."""
        if self.compiled:
            return self._assign_compiled(oxygen, hydrogen, lengths)
        nf = oxygen.shape[0]
        if self.assign is None:
            _, idx = nearest_oxygen(oxygen[0], hydrogen[0], lengths[0])
            self.assign = np.asarray(idx, dtype=np.intp)
            self.searches += 1
            self._build_list(oxygen[0], lengths[0])
        out = np.empty((nf, self.n_hydrogen), dtype=np.intp)
        vec = np.empty((nf, self.n_hydrogen, 3), dtype=np.float32)
        box_all = lengths.astype(np.float32)
        start = 0
        while start < nf:
            # a window of frames: work thrown away when the reference is renewed stays small
            window = slice(start, min(start + self.window_frames, nf))
            o = oxygen[window]
            h = hydrogen[window]
            box = box_all[window]
            dref = o - self.ref_oxygen[None]
            minimum_image(dref, box)
            disp = np.sqrt(np.einsum("fij,fij->fi", dref, dref))
            big = disp.max(axis=1)
            stale = np.flatnonzero(big > self.refresh_A)
            m = len(big) if len(stale) == 0 else int(stale[0])
            done = 0
            if m:
                done = self._segment(o[:m], h[:m], box[:m], disp[:m], big[:m], out[start : start + m], vec[start : start + m])
            if done == 0:  # O moved too far, or too many H need step 2: renew the reference here
                self._build_list(oxygen[start], lengths[start])
                continue
            self._fresh = False
            start += done
        return out, vec

    def _assign_compiled(self, oxygen, hydrogen, lengths):
        """The same three steps in one compiled loop (elbench.analysis._kernels)."""
        # start-up time: numba, only when the compiled kernels are used
        from elbench.analysis._kernels import assign_frames

        nf = oxygen.shape[0]
        o = np.ascontiguousarray(oxygen, dtype=np.float32)
        h = np.ascontiguousarray(hydrogen, dtype=np.float32)
        box = np.ascontiguousarray(lengths, dtype=np.float32)
        if self.assign is None:
            _, idx = nearest_oxygen(o[0], h[0], lengths[0])
            self.assign = np.asarray(idx, dtype=np.intp)
            self.searches += 1
            self._build_list(o[0], lengths[0])
            self._reference_hydrogen()
        out = np.empty((nf, self.n_hydrogen), dtype=np.intp)
        vec = np.empty((nf, self.n_hydrogen, 3), dtype=np.float32)
        start = 0
        while start < nf:
            done, step2, step3 = assign_frames(
                o[start:], h[start:], box[start:], self.ref_oxygen, self.nn_oo, self.neighbours,
                np.float32(self.list_reach), self.assign, np.float32(self.refresh_A), out[start:], vec[start:],
                self.ref_hydrogen, self.ref_assign, self.gap_h, self._fresh,
            )
            self._fresh = False
            self.candidate_checks += int(step2)
            self.brute_force_h += int(step3)
            start += int(done)
            if start < nf:
                self._build_list(o[start], lengths[start])
                self._reference_hydrogen()
        return out, vec

    def _reference_hydrogen(self) -> None:
        """Per-H data of the compiled step 1(b), filled by the kernel at the list's reference frame.

        ``ref_assign`` = -1 switches the per-H bound off until the kernel has
        written each H's O, its position and a lower bound on its distance to
        every other O (``gap_h``) in the reference frame.
        """
        self.ref_assign = np.full(self.n_hydrogen, -1, dtype=np.intp)
        self.ref_hydrogen = np.zeros((self.n_hydrogen, 3), dtype=np.float32)
        self.gap_h = np.zeros(self.n_hydrogen, dtype=np.float32)

    def _segment(self, o, h, box, disp, big, out, vec) -> int:
        """Assign frames of one reference; returns how many frames were done."""
        assign = self.assign
        v = h - np.take(o, assign, axis=1)
        minimum_image(v, box)
        d_ho = np.sqrt(np.einsum("fij,fij->fi", v, v))
        slack = np.take(disp, assign, axis=1) + big[:, None]
        fail = 2.0 * d_ho >= np.take(self.nn_oo, assign)[None, :] - slack
        n_fail = fail.sum(axis=1)
        limit = self.refresh_fraction * self.n_hydrogen
        over = np.flatnonzero(n_fail > limit)
        m = len(n_fail)
        if len(over):
            m = int(over[0]) if over[0] > 0 or not self._fresh else 1
        if m == 0:
            return 0  # renew the list at this frame first
        frames = np.broadcast_to(assign, (m, self.n_hydrogen)).copy()
        bad_f, bad_h = np.nonzero(fail[:m])
        if len(bad_f):
            self._candidates(o, h, box, disp, big, d_ho, bad_f, bad_h, frames, v)
        out[:m] = frames
        vec[:m] = v[:m]
        self.assign = frames[-1].copy()
        return m

    def _candidates(self, o, h, box, disp, big, d_ho, bad_f, bad_h, frames, v) -> None:
        """Step 2 (listed neighbours of the current O) and step 3 (all O) for failing H."""
        a = self.assign[bad_h]
        cand = self.neighbours[a]  # (p, K)
        dv = h[bad_f, bad_h][:, None, :] - o[bad_f[:, None], cand]
        bx = box[bad_f][:, None, :]
        dv -= bx * np.round(dv / bx)
        dist = np.sqrt(np.einsum("pkj,pkj->pk", dv, dv))
        j = np.argmin(dist, axis=1)
        rows = np.arange(len(j))
        best = dist[rows, j]
        cur = d_ho[bad_f, bad_h]
        closer = best < cur
        new_a = np.where(closer, cand[rows, j], a)
        new_d = np.where(closer, best, cur)
        frames[bad_f, bad_h] = new_a
        v[bad_f[closer], bad_h[closer]] = dv[rows[closer], j[closer]]
        self.candidate_checks += len(bad_f)
        unlisted = self.list_reach - disp[bad_f, a] - big[bad_f] - cur
        brute = new_d >= unlisted
        if np.any(brute):
            self._brute_force(o, h, box, bad_f[brute], bad_h[brute], frames, v)

    def _brute_force(self, o, h, box, bad_f, bad_h, assign, v, batch: int = 256) -> None:
        """Exact nearest O for the (frame, H) pairs no bound settles."""
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
    """Per-block sums for ⟨cos θ⟩(d), P(cos θ | d) and O–H bond angle histograms.

    Contributes the cos θ columns of profiles.csv and the first layer's ⟨cos θ⟩,
    H-down / H-up fractions and P(cos θ).
    """

    name = "orientation"

    def __init__(self, analysis: ChunkedAnalysis) -> None:
        self.analysis = analysis
        roles = analysis.roles
        self.assigner = HydrogenAssigner(len(roles.oxygen), len(roles.hydrogen), compiled=analysis.compiled)
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
        if self.assigner.compiled:
            self._accumulate_compiled(chunk)
        else:
            self._accumulate_numpy(chunk)

    def _accumulate_compiled(self, chunk: Chunk) -> None:
        # start-up time: numba, only when the compiled kernels are used
        from elbench.analysis._kernels import orientation_accumulate

        assign, vec = self.assigner.assign_chunk(chunk.oxygen, chunk.hydrogen, chunk.lengths)
        self.last_assignment = (assign, vec)  # this chunk's H→O assignment, for the dipole kernel
        for k, face in enumerate(chunk.interfaces):
            sums = self._sums(face.name)
            b = chunk.block
            orientation_accumulate(
                assign, vec, np.ascontiguousarray(face.bins["O"], dtype=np.intp), float(face.sign), N_COS_BINS,
                sums["cos_sum"].sums[b], sums["n_water"].sums[b], sums["hist_dipole"].sums[b],
                sums["hist_oh"].sums[b], self.o_h_counts, k == 0,
            )

    def _accumulate_numpy(self, chunk: Chunk) -> None:
        n_o = chunk.oxygen.shape[1]
        nf = chunk.n_frames
        assign, vec = self.assigner.assign_chunk(chunk.oxygen, chunk.hydrogen, chunk.lengths)
        self.last_assignment = (assign, vec)  # this chunk's H→O assignment, for the dipole kernel
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

    def collect(self, faces: list[str]) -> dict[str, np.ndarray]:
        """Per-block sums ``cos_sum``, ``n_water`` (n_blocks, n_bins), ``hist_dipole``, ``hist_oh`` (…, N_COS_BINS) over ``faces``."""
        return {key: sum(self.sums[f][key].sums for f in faces) for key in ("cos_sum", "n_water", "hist_dipole", "hist_oh")}

    def columns(self, b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """cos_theta (pooled over frames) and rho_cos_theta (with the density's n_O) and their ``_err``.

        Errors (``blocks.BlockRatio``): ⟨cos θ⟩'s is the pooled ratio's; ρ·⟨cos θ⟩'s is the
        standard error of the block values ρ_b·⟨cos θ⟩_b, 0 for a block with no water in
        the bin, as that block contributes to the pooled mean.
        """
        cos = BlockRatio(b["cos_sum"], b["n_water"])
        rho = number_to_mass_density(weighted_block_mean(b["n_O"], self.analysis.block_frames))
        cos_value = cos.value
        return {
            "cos_theta": cos_value,
            "rho_cos_theta_g_cm3": rho * cos_value,
            "cos_theta_err": cos.err,
            "rho_cos_theta_g_cm3_err": cos.weighted_err(number_to_mass_density(b["n_O"])),
        }

    def scalars(self, b: dict[str, np.ndarray], layer: FirstLayer, in_layer: np.ndarray) -> tuple[dict, dict]:
        """First-layer ⟨cos θ⟩ and H-down / H-up O–H fractions (with block values), and its P(cos θ)."""
        scalars: dict[str, BlockRatio] = {}
        cs, nw = b["cos_sum"][:, in_layer].sum(axis=1), b["n_water"][:, in_layer].sum(axis=1)
        scalars["first_layer_cos_theta"] = BlockRatio(cs, nw)
        oh = b["hist_oh"][:, in_layer, :].sum(axis=1)  # (blocks, cos bins)
        c = cos_bin_centers()
        n_oh = oh.sum(axis=1)
        for key, sel in (("h_down", c < -H_DOWN_COS), ("h_up", c > H_DOWN_COS)):
            part = oh[:, sel].sum(axis=1)
            scalars[f"first_layer_{key}_fraction"] = BlockRatio(part, n_oh)
        dip = b["hist_dipole"][:, in_layer, :].sum(axis=(0, 1))
        fields = {
            "first_layer_p_cos_theta": {
                "cos_theta": c.round(6).tolist(),
                "density": (dip / max(dip.sum(), 1) / (2.0 / N_COS_BINS)).tolist(),
            }
        }
        return fields, scalars

    def info(self) -> dict:
        """O with 0…4+ H per frame and the H→O assignment's work counters (``summary.json`` info)."""
        counts = self.o_h_counts / max(int(self.analysis.block_frames.sum()), 1)
        return {
            "oxygen_with_n_H_per_frame": {str(i): float(c) for i, c in enumerate(counts[:4])} | {"4+": float(counts[4])},
            "h_assignment": {
                "kd_tree_searches": self.assigner.searches,
                "neighbour_list_builds": self.assigner.list_builds,
                "candidate_checks": self.assigner.candidate_checks,
                "brute_force_checks": self.assigner.brute_force_h,
            },
        }


def _hist2d(bins: np.ndarray, cos: np.ndarray, n_bins: int) -> np.ndarray:
    cbin = ((cos + 1.0) * (0.5 * N_COS_BINS)).astype(np.intp)
    np.clip(cbin, 0, N_COS_BINS - 1, out=cbin)
    h = np.bincount(bins * N_COS_BINS + cbin, minlength=n_bins * N_COS_BINS)
    return h.reshape(n_bins, N_COS_BINS)


def cos_bin_centers() -> np.ndarray:
    return -1.0 + (np.arange(N_COS_BINS) + 0.5) * (2.0 / N_COS_BINS)
