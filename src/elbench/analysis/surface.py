"""The metal surface plane per frame, and distances measured from it.

Metal z coordinates are wrapped into the cell, the largest empty gap along z
(through the periodic boundary) is taken as the electrolyte/vacuum side, the
slab is unwrapped to one contiguous piece, and its layers are the clusters of z
separated by more than ``layer_gap_A``. The surface plane z_s is the mean z of
the topmost layer; in the ``sandwich`` geometry the bottom face (the mean z of
the lowest layer, normal pointing down) is a second interface. This works for
wrapped or unwrapped coordinates and for slabs cut by the periodic boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Gap in z (Å) that separates two metal layers; fcc(111) spacings are 1.9–2.4 Å.
DEFAULT_LAYER_GAP_A = 1.0


@dataclass
class Planes:
    """Per-frame surface planes of one chunk of frames (all in Å)."""

    z_top: np.ndarray
    z_bottom: np.ndarray
    n_layers: np.ndarray

    @property
    def thickness(self) -> np.ndarray:
        return self.z_top - self.z_bottom


def metal_planes(z_metal: np.ndarray, lz: np.ndarray, layer_gap_A: float = DEFAULT_LAYER_GAP_A) -> Planes:
    """Top and bottom layer mean z for each frame of ``z_metal`` (n_frames, n_metal)."""
    z = np.mod(np.asarray(z_metal, dtype=np.float64), lz[:, None])
    z.sort(axis=1)
    nf, nm = z.shape
    rows = np.arange(nf)
    gaps = np.empty((nf, nm))
    gaps[:, :-1] = np.diff(z, axis=1)
    gaps[:, -1] = z[:, 0] + lz - z[:, -1]
    k = np.argmax(gaps, axis=1)  # the slab starts after the largest gap
    cols = np.arange(nm)[None, :]
    zu = np.take_along_axis(z, (cols + k[:, None] + 1) % nm, axis=1)
    zu += np.where(cols >= nm - k[:, None] - 1, lz[:, None], 0.0)
    layer_gap = np.diff(zu, axis=1) > layer_gap_A
    cs = np.cumsum(zu, axis=1)
    has_gap = layer_gap.any(axis=1)
    last = nm - 2 - np.argmax(layer_gap[:, ::-1], axis=1)  # index in diff of the last gap
    first = np.argmax(layer_gap, axis=1)
    mean_all = cs[:, -1] / nm
    z_top = np.where(has_gap, (cs[:, -1] - cs[rows, last]) / np.maximum(nm - last - 1, 1), mean_all)
    z_bottom = np.where(has_gap, cs[rows, first] / (first + 1), mean_all)
    return Planes(z_top, z_bottom, layer_gap.sum(axis=1) + 1)


@dataclass(frozen=True)
class ProfileGrid:
    """Bins of the distance d from a surface plane, edges on multiples of dz.

    The grid spans one period: from the metal's mid-plane (d = -thickness/2)
    up through the electrolyte to the periodic image of that mid-plane, so
    every atom has one distance and one bin.
    """

    dz: float
    edge0: float
    n_bins: int

    @classmethod
    def for_cell(cls, dz: float, lz: float, thickness: float) -> "ProfileGrid":
        edge0 = float(np.floor(-0.5 * thickness / dz) * dz)
        return cls(dz, edge0, int(np.ceil(lz / dz - 1e-9)))

    @property
    def centers(self) -> np.ndarray:
        return self.edge0 + (np.arange(self.n_bins) + 0.5) * self.dz

    @property
    def edges(self) -> np.ndarray:
        return self.edge0 + np.arange(self.n_bins + 1) * self.dz

    def distances(self, z: np.ndarray, plane: np.ndarray, sign: int, lz: np.ndarray) -> np.ndarray:
        """Distance d (nf, n) from the plane along the normal, wrapped into the grid's period."""
        d = (z - plane[:, None]) if sign > 0 else (plane[:, None] - z)
        d -= self.edge0
        np.mod(d, lz[:, None], out=d)
        d += self.edge0
        return d

    def bins(self, d: np.ndarray) -> np.ndarray:
        """Bin index of each distance (clipped to the grid)."""
        idx = ((d - self.edge0) * (1.0 / self.dz)).astype(np.intp)
        np.clip(idx, 0, self.n_bins - 1, out=idx)
        return idx
