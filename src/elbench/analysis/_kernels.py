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
                best2, best_a = vx * vx + vy * vy + vz * vz, a  # squared distances: no root per candidate
                for m in range(k):
                    b = nbr[a, m]
                    if b == a:
                        break  # the list is padded with a itself after its last neighbour
                    wx = _mi(hx - o[f, b, 0], bx)
                    wy = _mi(hy - o[f, b, 1], by)
                    wz = _mi(hz - o[f, b, 2], bz)
                    dd2 = wx * wx + wy * wy + wz * wz
                    if dd2 < best2:
                        best2, best_a = dd2, b
                        vx, vy, vz = wx, wy, wz
                best = np.sqrt(best2)
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
def water_dipoles(assign, vec, f, count, mu):  # pragma: no cover - compiled
    """Frame f: the H count of each O (``count``) and its dipole Σ(r_H − r_O) (``mu``), from each H's O."""
    count[:] = 0
    mu[:, :] = 0.0
    for j in range(assign.shape[1]):
        a = assign[f, j]
        count[a] += 1
        mu[a, 0] += vec[f, j, 0]
        mu[a, 1] += vec[f, j, 1]
        mu[a, 2] += vec[f, j, 2]


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
        water_dipoles(assign, vec, f, count, mu)
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
def frame_cos_sums(assign, vec, bins_o, sign, scale, out):  # pragma: no cover - compiled
    """out[f, bin] += scale[f] · Σ sign·cos θ of the intact waters (O with two H) whose O is in bin, per frame."""
    nf, n_h = assign.shape
    n_o = bins_o.shape[1]
    count = np.zeros(n_o, dtype=np.int64)
    mu = np.zeros((n_o, 3), dtype=np.float64)
    for f in range(nf):
        water_dipoles(assign, vec, f, count, mu)
        for i in range(n_o):
            if count[i] != 2:
                continue
            norm = np.sqrt(mu[i, 0] ** 2 + mu[i, 1] ** 2 + mu[i, 2] ** 2)
            if norm == 0.0:
                continue
            out[f, bins_o[f, i]] += scale[f] * sign * mu[i, 2] / norm
    return out


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
def metal_planes(z, lz, layer_gap, labels, zu_ref, state, z_top, z_bottom, n_layers):  # pragma: no cover - compiled
    """Compiled :func:`elbench.analysis.surface.metal_planes` that follows the layers from frame to frame.

    ``labels`` (layer of each metal atom, 0 = bottom), ``zu_ref`` (its unwrapped z)
    and ``state[0]`` (number of layers, 0 = unknown) carry over between calls.
    Each frame takes every atom's periodic image nearest its previous unwrapped z
    and keeps last frame's layers when they are still what the sort would find:
    each layer spans at most ``layer_gap`` (no split inside), neighbouring
    layers are more than ``layer_gap`` apart (no merge), and the gap through the
    periodic boundary is larger than any other (the slab is cut at the same
    place). Otherwise the frame is sorted as :func:`~elbench.analysis.surface.metal_planes`
    does and the layers are relabelled. Means are summed in atom order, so they
    equal the sorted path's to rounding (~1e-13 Å). Returns the number of sorted frames.
    """
    nf, nm = z.shape
    zu = np.empty(nm, dtype=np.float64)
    lo = np.empty(nm, dtype=np.float64)
    hi = np.empty(nm, dtype=np.float64)
    sorts = 0
    for f in range(nf):
        period = lz[f]
        n_lay = state[0]
        ok = n_lay > 0
        if ok:
            for layer in range(n_lay):
                lo[layer] = np.inf
                hi[layer] = -np.inf
            for i in range(nm):
                v = z[f, i]
                d = zu_ref[i] - v
                if not -0.5 * period < d < 0.5 * period:  # usually the same image as last frame
                    v += period * np.rint(d / period)
                zu[i] = v
                layer = labels[i]
                if v < lo[layer]:
                    lo[layer] = v
                if v > hi[layer]:
                    hi[layer] = v
            widest = layer_gap
            for layer in range(n_lay):
                if hi[layer] - lo[layer] > layer_gap:
                    ok = False
                if layer > 0:
                    g = lo[layer] - hi[layer - 1]
                    if g <= layer_gap:
                        ok = False
                    if g > widest:
                        widest = g
            if lo[0] + period - hi[n_lay - 1] <= widest:
                ok = False
        if not ok:
            sorts += 1
            n_lay = _relabel(z[f], period, layer_gap, labels, zu)
            state[0] = n_lay
        shift = period * np.floor(np.min(zu) / period)
        top = 0.0
        n_top = 0
        bottom = 0.0
        n_bottom = 0
        for i in range(nm):
            v = zu[i] - shift
            zu_ref[i] = v
            if labels[i] == n_lay - 1:
                top += v
                n_top += 1
            if labels[i] == 0:
                bottom += v
                n_bottom += 1
        z_top[f] = top / n_top
        z_bottom[f] = bottom / n_bottom
        n_layers[f] = n_lay
    return sorts


@njit(cache=True, nogil=True)
def _relabel(z, period, layer_gap, labels, zu):  # pragma: no cover - compiled
    """Sort one frame's wrapped z, cut the slab at the largest gap, label its layers; returns their number."""
    nm = z.shape[0]
    w = np.empty(nm, dtype=np.float64)
    for i in range(nm):
        w[i] = z[i] - period * np.floor(z[i] / period)
    order = np.argsort(w)
    best = w[order[0]] + period - w[order[nm - 1]]
    k = nm - 1
    for i in range(nm - 1):
        g = w[order[i + 1]] - w[order[i]]
        if g > best:
            best = g
            k = i
    layer = 0
    prev = 0.0
    for j in range(nm):
        atom = order[(j + k + 1) % nm]
        v = w[atom] + (period if j >= nm - k - 1 else 0.0)
        if j > 0 and v - prev > layer_gap:
            layer += 1
        labels[atom] = layer
        zu[atom] = v
        prev = v
    return layer + 1


@njit(cache=True, nogil=True)
def oxygen_neighbours(o, box, radius, k_max):  # pragma: no cover - compiled
    """Up to ``k_max`` nearest O within ``radius`` of each O (self-padded), their distances (inf-padded).

    Neighbours are sorted by (distance, index). Pairs come from the 27 surrounding
    cells of a periodic cell list (cells at least ``radius`` wide), each pair
    once; a box under three cells wide in any direction compares all pairs
    instead. Either way every pair within ``radius`` is found.
    """
    n = o.shape[0]
    nbr = np.empty((n, k_max), dtype=np.int64)
    dist = np.full((n, k_max), np.inf)
    count = np.zeros(n, dtype=np.int64)
    nc = np.ones(3, dtype=np.int64)
    for d in range(3):
        nc[d] = int(box[d] // radius) if radius > 0 else 0
    cells = nc[0] >= 3 and nc[1] >= 3 and nc[2] >= 3
    if not cells:
        nc[:] = 1
    n_cells = nc[0] * nc[1] * nc[2]
    cell_of = np.zeros(n, dtype=np.int64)
    start = np.zeros(n_cells + 1, dtype=np.int64)
    for i in range(n):
        c = 0
        for d in range(3):
            w = o[i, d] - box[d] * np.floor(o[i, d] / box[d])
            c = c * nc[d] + min(int(w / box[d] * nc[d]), nc[d] - 1)
        cell_of[i] = c
        start[c + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
    members = np.empty(n, dtype=np.int64)
    fill = start[:-1].copy()
    for i in range(n):
        members[fill[cell_of[i]]] = i
        fill[cell_of[i]] += 1
    reach = 1 if cells else 0
    r2_max = radius * radius * (1.0 + 1e-12)
    for i in range(n):
        c = cell_of[i]
        ci, cj, ck = c // (nc[1] * nc[2]), (c // nc[2]) % nc[1], c % nc[2]
        for di in range(-reach, reach + 1):
            for dj in range(-reach, reach + 1):
                for dk in range(-reach, reach + 1):
                    cc = (((ci + di) % nc[0]) * nc[1] + (cj + dj) % nc[1]) * nc[2] + (ck + dk) % nc[2]
                    for s in range(start[cc], start[cc + 1]):
                        j = members[s]
                        if j <= i:
                            continue  # each pair once
                        dx = _mi(o[j, 0] - o[i, 0], box[0])
                        dy = _mi(o[j, 1] - o[i, 1], box[1])
                        dz = _mi(o[j, 2] - o[i, 2], box[2])
                        r2 = dx * dx + dy * dy + dz * dz
                        if r2 > r2_max:  # clearly outside; the root decides at the edge
                            continue
                        r = np.sqrt(r2)
                        if r <= radius:
                            _keep_nearest(nbr, dist, count, i, j, r)
                            _keep_nearest(nbr, dist, count, j, i, r)
    for i in range(n):
        for s in range(count[i], k_max):
            nbr[i, s] = i
    return nbr, dist


@njit(cache=True, inline="always")
def _keep_nearest(nbr, dist, count, i, j, r):  # pragma: no cover - compiled
    """Insert neighbour ``j`` at distance ``r`` into row ``i``, kept sorted by (distance, index), the nearest k_max."""
    k_max = nbr.shape[1]
    s = count[i]
    if s == k_max:
        if dist[i, s - 1] < r or (dist[i, s - 1] == r and nbr[i, s - 1] < j):
            return
        s -= 1
    else:
        count[i] = s + 1
    while s > 0 and (dist[i, s - 1] > r or (dist[i, s - 1] == r and nbr[i, s - 1] > j)):
        dist[i, s] = dist[i, s - 1]
        nbr[i, s] = nbr[i, s - 1]
        s -= 1
    dist[i, s] = r
    nbr[i, s] = j


@njit(cache=True, nogil=True)
def gather_bins(x, y, z, idx, planes, signs, lz, edge0, dz, n_bins, xyz, bins):  # pragma: no cover - compiled
    """Copy atoms ``idx`` of ``x``, ``y``, ``z`` (nf, atoms; any strides) into ``xyz`` (nf, n, 3) and bin them.

    ``bins[s, f, i]`` is :func:`distance_bins` of atom i for face s (plane
    ``planes[s, f]``, sign ``signs[s]``): one read of each position instead of a
    numpy gather followed by a binning pass per face (same arithmetic, same bins).
    The coordinates may be views of a mapped DCD file, read here in place.
    """
    nf, n = xyz.shape[0], xyz.shape[1]
    n_faces = planes.shape[0]
    inv = 1.0 / dz
    for f in range(nf):
        period = lz[f]
        for i in range(n):
            a = idx[i]
            xyz[f, i, 0] = x[f, a]
            xyz[f, i, 1] = y[f, a]
            zi = z[f, a]
            xyz[f, i, 2] = zi
            for s in range(n_faces):
                d = signs[s] * (zi - planes[s, f]) - edge0
                d -= period * np.floor(d / period)
                k = int(d * inv)
                bins[s, f, i] = min(max(k, 0), n_bins - 1)
    return xyz
