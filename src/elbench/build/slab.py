"""The fcc(111) metal slab: an orthogonal ASE cell, atoms ordered bottom layer → top layer.

The slab is built with :func:`ase.build.fcc111` (``orthogonal=True``, so the
lateral cell is rectangular) and re-ordered by layer so that the first atoms are
the bottom (fixed) layers and the last ``atoms_per_layer`` atoms are the top
layer that carries the counter-charge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ase.build import fcc111

from elbench.elements import FCC_LATTICE_CONSTANT_A

#: z of the bottom metal layer (Å). A margin above z = 0 keeps every atom strictly
#: inside a LAMMPS box that is non-periodic in z (``boundary p p f``).
METAL_BOTTOM_Z_A = 1.0


@dataclass(frozen=True)
class Slab:
    """Metal atoms of the slab and the lateral cell."""

    metal: str
    positions: np.ndarray  # (N, 3) Å, bottom layer first
    lx_A: float
    ly_A: float
    layers_z_A: tuple[float, ...]  # bottom → top
    atoms_per_layer: int

    @property
    def area_A2(self) -> float:
        return self.lx_A * self.ly_A

    @property
    def z_top_A(self) -> float:
        return self.layers_z_A[-1]

    @property
    def z_bottom_A(self) -> float:
        return self.layers_z_A[0]

    @property
    def n_atoms(self) -> int:
        return len(self.positions)


def fcc111_area_A2(metal: str, repeats: tuple[int, int]) -> float:
    """Lateral area of the orthogonal fcc(111) cell :func:`build_slab` makes, without building it."""
    a_nn = FCC_LATTICE_CONSTANT_A[metal] / math.sqrt(2.0)
    return repeats[0] * a_nn * repeats[1] * a_nn * math.sqrt(3.0) / 2.0


def build_slab(metal: str, repeats: tuple[int, int], layers: int) -> Slab:
    """An orthogonal fcc(111) slab with its bottom layer at :data:`METAL_BOTTOM_Z_A`."""
    a = FCC_LATTICE_CONSTANT_A[metal]
    nx, ny = repeats
    atoms = fcc111(metal, size=(nx, ny, layers), a=a, orthogonal=True)
    pos = atoms.get_positions()
    pos[:, 2] += METAL_BOTTOM_Z_A - pos[:, 2].min()
    # Order by layer, then y, then x; rounding makes the order immune to float noise.
    order = np.lexsort((np.round(pos[:, 0], 6), np.round(pos[:, 1], 6), np.round(pos[:, 2], 6)))
    pos = pos[order]
    z_layers = np.unique(np.round(pos[:, 2], 6))
    if len(z_layers) != layers:  # pragma: no cover - ASE contract
        raise RuntimeError(f"expected {layers} metal layers, found {len(z_layers)}")
    cell = atoms.get_cell()
    return Slab(
        metal=metal,
        positions=pos,
        lx_A=float(cell[0, 0]),
        ly_A=float(cell[1, 1]),
        layers_z_A=tuple(float(z) for z in z_layers),
        atoms_per_layer=len(pos) // layers,
    )
