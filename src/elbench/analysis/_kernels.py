"""Compiled (numba) inner loop of the H→O assignment; same logic as the numpy path.

``assign_frames`` runs steps 1–3 of :class:`~elbench.analysis.orientation.HydrogenAssigner`
for consecutive frames of one reference (neighbour list), fused into one loop
per frame and H, and stops at the first frame where the O have moved more than
``refresh_A`` (the caller renews the list there). Compiled once per machine
(``cache=True`` keeps the machine code next to this file).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _mi(d: float, box: float) -> float:
    # |d| < box/2 means rint(d/box) == 0: skip the division (same result, bit for bit)
    if -0.5 * box < d < 0.5 * box:
        return d
    return d - box * np.rint(d / box)


@njit(cache=True, nogil=True)
def assign_frames(
    o, h, box, ref_o, nn_oo, nbr, reach, assign, refresh_A, out, vec, ref_h, ref_a, gap_h, fresh
):  # pragma: no cover - compiled
    """Fill ``out`` (frames, nH) and ``vec`` (frames, nH, 3); return (frames done, step-2 count, step-3 count).

    Step 1 has two sufficient conditions; an H keeps its O_a when either holds.
    (a) the O–O bound of :class:`~elbench.analysis.orientation.HydrogenAssigner`.
    (b) a per-H bound. At the reference frame T the exact nearest O of H_j was
    ``ref_a[j]`` and every other O was at least ``gap_h[j]`` (second-nearest
    distance) from it. When ``fresh`` (frame 0 is the list's reference frame T)
    the kernel fills ``ref_a``, ``ref_h`` and ``gap_h`` there itself: gap = min(the
    distances to O_a's listed neighbours, reach − d(H, O_a)), a lower bound on
    the distance from H to every O but O_a at T (an unlisted O_b is ≥ reach from
    O_a, so ≥ reach − d(H, O_a) from H). Now, with δH the displacement of H_j since T, δ_b that of
    O_b, a = ref_a[j] its current O, N_a the listed neighbours of O_a and
    M_a = max over N_a of δ_b, M = max over all O:
    - b in N_a: d(H, O_b) ≥ d_T(H, O_b) − δH − δ_b ≥ gap − δH − M_a;
    - b not in N_a (d_T(O_a, O_b) ≥ reach): both
      d(H, O_b) ≥ gap − δH − M and d(H, O_b) ≥ d(O_a, O_b) − d(H, O_a)
      ≥ reach − δ_a − M − d(H, O_a) hold.
    So O_a is still strictly nearest if d(H, O_a) < gap − δH − M_a − ε and
    (d(H, O_a) < gap − δH − M − ε or 2·d(H, O_a) < reach − δ_a − M − ε); ε =
    1e-4 Å absorbs float32 rounding of the distances. When the current O is not
    ref_a[j] (the H changed O since T, or ref_a[j] = -1 before it is filled)
    only (a) is used. M_a is computed only for the O that need it.
    """
    nf, n_o = o.shape[0], o.shape[1]
    n_h = h.shape[1]
    k = nbr.shape[1]
    disp = np.empty(n_o, dtype=np.float32)
    near = np.empty(n_o, dtype=np.float32)  # M_a: largest displacement among O_a's listed neighbours
    near_frame = np.full(n_o, -1, dtype=np.int64)  # frame for which near[a] holds
    eps = 1e-4
    step2 = 0
    step3 = 0
    for f in range(nf):
        bx, by, bz = box[f, 0], box[f, 1], box[f, 2]
        big = 0.0
        for i in range(n_o):
            dx = _mi(o[f, i, 0] - ref_o[i, 0], bx)
            dy = _mi(o[f, i, 1] - ref_o[i, 1], by)
            dz = _mi(o[f, i, 2] - ref_o[i, 2], bz)
            d = np.sqrt(dx * dx + dy * dy + dz * dz)
            disp[i] = d
            if d > big:
                big = d
        if big > refresh_A:
            return f, step2, step3
        for j in range(n_h):
            a = assign[j]
            hx, hy, hz = h[f, j, 0], h[f, j, 1], h[f, j, 2]
            vx = _mi(hx - o[f, a, 0], bx)
            vy = _mi(hy - o[f, a, 1], by)
            vz = _mi(hz - o[f, a, 2], bz)
            d_ho = np.sqrt(vx * vx + vy * vy + vz * vz)
            keep = 2.0 * d_ho < nn_oo[a] - disp[a] - big
            if not keep and a == ref_a[j]:
                ux = _mi(hx - ref_h[j, 0], bx)
                uy = _mi(hy - ref_h[j, 1], by)
                uz = _mi(hz - ref_h[j, 2], bz)
                room = gap_h[j] - np.sqrt(ux * ux + uy * uy + uz * uz) - eps
                keep = d_ho < room - big
                if not keep and 2.0 * d_ho < reach - disp[a] - big - eps:
                    if near_frame[a] != f:
                        mx = 0.0
                        for m in range(k):
                            b = nbr[a, m]
                            if b == a:
                                break
                            if disp[b] > mx:
                                mx = disp[b]
                        near[a] = mx
                        near_frame[a] = f
                    keep = d_ho < room - near[a]
            if not keep:
                # step 2: the listed neighbours of the current O
                step2 += 1
                best, best_a = d_ho, a
                for m in range(k):
                    b = nbr[a, m]
                    if b == a:
                        break  # the list is padded with a itself after its last neighbour
                    wx = _mi(hx - o[f, b, 0], bx)
                    wy = _mi(hy - o[f, b, 1], by)
                    wz = _mi(hz - o[f, b, 2], bz)
                    dd = np.sqrt(wx * wx + wy * wy + wz * wz)
                    if dd < best:
                        best, best_a = dd, b
                        vx, vy, vz = wx, wy, wz
                if best >= reach - disp[a] - big - d_ho:
                    # step 3: every O
                    step3 += 1
                    for b in range(n_o):
                        wx = _mi(hx - o[f, b, 0], bx)
                        wy = _mi(hy - o[f, b, 1], by)
                        wz = _mi(hz - o[f, b, 2], bz)
                        dd = np.sqrt(wx * wx + wy * wy + wz * wz)
                        if dd < best:
                            best, best_a = dd, b
                            vx, vy, vz = wx, wy, wz
                a = best_a
                assign[j] = a
            out[f, j] = a
            if fresh and f == 0:
                d_own = np.sqrt(vx * vx + vy * vy + vz * vz)
                gap = reach - d_own
                for m in range(k):
                    b = nbr[a, m]
                    if b == a:
                        break
                    wx = _mi(hx - o[f, b, 0], bx)
                    wy = _mi(hy - o[f, b, 1], by)
                    wz = _mi(hz - o[f, b, 2], bz)
                    dd = np.sqrt(wx * wx + wy * wy + wz * wz)
                    if dd < gap:
                        gap = dd
                gap_h[j] = gap
                ref_a[j] = a
                ref_h[j, 0] = hx
                ref_h[j, 1] = hy
                ref_h[j, 2] = hz
            vec[f, j, 0] = vx
            vec[f, j, 1] = vy
            vec[f, j, 2] = vz
    return nf, step2, step3


@njit(cache=True, nogil=True)
def orientation_accumulate(
    assign, vec, bins_o, sign, n_cos, cos_sum, n_water, hist_dip, hist_oh, oh_counts, count_oh
):  # pragma: no cover - compiled
    """Per frame: H count and dipole of each O, then ⟨cos θ⟩ sums and cos histograms by O bin.

    Only O with exactly two H (intact waters) enter the sums; ``oh_counts``
    (O with 0..4+ H) is updated when ``count_oh`` is true (once per chunk).
    """
    nf, n_h = assign.shape
    n_o = bins_o.shape[1]
    count = np.zeros(n_o, dtype=np.int64)
    mu = np.zeros((n_o, 3), dtype=np.float64)
    for f in range(nf):
        count[:] = 0
        mu[:, :] = 0.0
        for j in range(n_h):
            a = assign[f, j]
            count[a] += 1
            mu[a, 0] += vec[f, j, 0]
            mu[a, 1] += vec[f, j, 1]
            mu[a, 2] += vec[f, j, 2]
        for i in range(n_o):
            c = count[i]
            if count_oh:
                oh_counts[min(c, 4)] += 1
            if c != 2:
                continue
            norm = np.sqrt(mu[i, 0] ** 2 + mu[i, 1] ** 2 + mu[i, 2] ** 2)
            if norm == 0.0:
                continue
            cos = sign * mu[i, 2] / norm
            b = bins_o[f, i]
            cos_sum[b] += cos
            n_water[b] += 1.0
            cb = min(max(int((cos + 1.0) * 0.5 * n_cos), 0), n_cos - 1)
            hist_dip[b, cb] += 1.0
        for j in range(n_h):
            a = assign[f, j]
            if count[a] != 2:
                continue
            r = np.sqrt(vec[f, j, 0] ** 2 + vec[f, j, 1] ** 2 + vec[f, j, 2] ** 2)
            if r == 0.0:
                continue
            cos = sign * vec[f, j, 2] / r
            cb = min(max(int((cos + 1.0) * 0.5 * n_cos), 0), n_cos - 1)
            hist_oh[bins_o[f, a], cb] += 1.0


@njit(cache=True, nogil=True)
def distance_bins(z, plane, sign, lz, edge0, dz, n_bins, out):  # pragma: no cover - compiled
    """Bin index of d = sign·(z − plane) wrapped into [edge0, edge0 + lz) for (nf, n) z values."""
    nf, n = z.shape
    inv = 1.0 / dz
    for f in range(nf):
        p, period = plane[f], lz[f]
        for i in range(n):
            d = sign * (z[f, i] - p) - edge0
            d -= period * np.floor(d / period)
            k = int(d * inv)
            out[f, i] = min(max(k, 0), n_bins - 1)
    return out


@njit(cache=True, nogil=True)
def coordination(oxygen, cation, box, cutoff, out):  # pragma: no cover - compiled
    """Number of O within ``cutoff`` (minimum image) of each cation, (nf, n_cation)."""
    nf, n_c = cation.shape[0], cation.shape[1]
    n_o = oxygen.shape[1]
    c2 = cutoff * cutoff
    for f in range(nf):
        bx, by, bz = box[f, 0], box[f, 1], box[f, 2]
        for c in range(n_c):
            cx, cy, cz = cation[f, c, 0], cation[f, c, 1], cation[f, c, 2]
            k = 0
            for i in range(n_o):
                dz = _mi(oxygen[f, i, 2] - cz, bz)
                if abs(dz) >= cutoff:
                    continue
                dx = _mi(oxygen[f, i, 0] - cx, bx)
                dy = _mi(oxygen[f, i, 1] - cy, by)
                if dx * dx + dy * dy + dz * dz < c2:
                    k += 1
            out[f, c] = k
    return out


@njit(cache=True, nogil=True)
def metal_planes(z, lz, layer_gap, z_top, z_bottom, n_layers):  # pragma: no cover - compiled
    """Compiled :func:`elbench.analysis.surface.metal_planes` (same steps, per frame)."""
    nf, nm = z.shape
    w = np.empty(nm, dtype=np.float64)
    zu = np.empty(nm, dtype=np.float64)
    for f in range(nf):
        period = lz[f]
        for i in range(nm):
            w[i] = z[f, i] - period * np.floor(z[f, i] / period)
        w.sort()
        best = w[0] + period - w[nm - 1]
        k = nm - 1
        for i in range(nm - 1):
            g = w[i + 1] - w[i]
            if g > best:
                best = g
                k = i
        for j in range(nm):
            zu[j] = w[(j + k + 1) % nm] + (period if j >= nm - k - 1 else 0.0)
        first = -1
        last = -1
        layers = 1
        for i in range(nm - 1):
            if zu[i + 1] - zu[i] > layer_gap:
                layers += 1
                if first < 0:
                    first = i
                last = i
        n_layers[f] = layers
        if first < 0:
            s = 0.0
            for i in range(nm):
                s += zu[i]
            z_top[f] = s / nm
            z_bottom[f] = s / nm
        else:
            s = 0.0
            for i in range(last + 1, nm):
                s += zu[i]
            z_top[f] = s / (nm - last - 1)
            s = 0.0
            for i in range(first + 1):
                s += zu[i]
            z_bottom[f] = s / (first + 1)


@njit(cache=True, nogil=True)
def oxygen_neighbours(o, box, radius, k_max):  # pragma: no cover - compiled
    """Up to ``k_max`` nearest O within ``radius`` of each O (self-padded), their distances (inf-padded)."""
    n = o.shape[0]
    nbr = np.empty((n, k_max), dtype=np.int64)
    dist = np.full((n, k_max), np.inf)
    cand = np.empty(n, dtype=np.int64)
    cand_d = np.empty(n, dtype=np.float64)
    for i in range(n):
        m = 0
        for j in range(n):
            if j == i:
                continue
            dx = _mi(o[j, 0] - o[i, 0], box[0])
            dy = _mi(o[j, 1] - o[i, 1], box[1])
            dz = _mi(o[j, 2] - o[i, 2], box[2])
            r = np.sqrt(dx * dx + dy * dy + dz * dz)
            if r <= radius:
                cand[m] = j
                cand_d[m] = r
                m += 1
        order = np.argsort(cand_d[:m])
        for s in range(k_max):
            if s < m:
                nbr[i, s] = cand[order[s]]
                dist[i, s] = cand_d[order[s]]
            else:
                nbr[i, s] = i
    return nbr, dist


@njit(cache=True, nogil=True)
def gather_bins(pos, idx, planes, signs, lz, edge0, dz, n_bins, xyz, bins):  # pragma: no cover - compiled
    """Copy atoms ``idx`` of ``pos`` (nf, atoms, 3) into ``xyz`` (nf, n, 3) and bin them in the same pass.

    ``bins[s, f, i]`` is :func:`distance_bins` of atom i for face s (plane
    ``planes[s, f]``, sign ``signs[s]``): one read of each position instead of a
    numpy gather followed by a binning pass per face (same arithmetic, same bins).
    """
    nf, n = xyz.shape[0], xyz.shape[1]
    n_faces = planes.shape[0]
    inv = 1.0 / dz
    for f in range(nf):
        period = lz[f]
        for i in range(n):
            a = idx[i]
            xyz[f, i, 0] = pos[f, a, 0]
            xyz[f, i, 1] = pos[f, a, 1]
            z = pos[f, a, 2]
            xyz[f, i, 2] = z
            for s in range(n_faces):
                d = signs[s] * (z - planes[s, f]) - edge0
                d -= period * np.floor(d / period)
                k = int(d * inv)
                bins[s, f, i] = min(max(k, 0), n_bins - 1)
    return xyz
