"""LAMMPS data files of an interface: ``atom_style atomic`` and ``atom_style full``.

Both files carry the element order twice: in a header comment
``# elbench type_map: Au O H Na`` (the first line, which LAMMPS skips; written by
:mod:`elbench.type_map`) and as a ``# Au`` comment on each Masses line. All four
types are always listed, also when there are no cations. Atom ids and order are the same in both files.
Coordinates are wrapped into the cell along periodic directions.
"""

from __future__ import annotations

import numpy as np

from elbench import __version__
from elbench.build.assemble import Interface
from elbench.elements import mass_amu
from elbench.reference.forcefield import WATER
from elbench.type_map import header_line


def wrapped_positions(interface: Interface) -> np.ndarray:
    box = np.array(interface.cell_lengths_A)
    pos = interface.positions.copy()
    for axis, periodic in enumerate(interface.pbc):
        if periodic:
            pos[:, axis] = np.mod(pos[:, axis], box[axis])
            pos[:, axis][pos[:, axis] >= box[axis]] = 0.0  # mod can round up to the box length
    return pos


def image_flags(interface: Interface, pos: np.ndarray) -> np.ndarray:
    """(N, 3) image flags that make every water whole when LAMMPS unwraps it.

    Positions are wrapped atom by atom, so an H can sit on the far side of the cell
    from its O; its flag puts it back next to the O (no "Inconsistent image flags").
    """
    flags = np.zeros((len(pos), 3), dtype=int)
    box = np.array(interface.cell_lengths_A)
    first_o = interface.slab.n_atoms
    o = pos[first_o : first_o + 3 * interface.n_water : 3]
    for k in (1, 2):
        h = pos[first_o + k : first_o + 3 * interface.n_water : 3]
        img = -np.round((h - o) / box).astype(int)
        img[:, [not p for p in interface.pbc]] = 0
        flags[first_o + k : first_o + 3 * interface.n_water : 3] = img
    return flags


def _header(interface: Interface, style: str, counts: list[str]) -> list[str]:
    c = interface.config
    lx, ly, lz = interface.cell_lengths_A
    tm = interface.type_map
    return [
        header_line(tm),
        f"# {c.metal}(111)/water/{c.cation}+ charge state q{interface.n_cations} ({interface.n_cations} {c.cation}+, "
        f"{-interface.n_cations} e on the top metal layer), geometry {c.geometry}, seed {c.seed}, "
        f"atom_style {style}, elbench {__version__}",
        "",
        *counts,
        "",
        f"0.0 {lx:.8f} xlo xhi",
        f"0.0 {ly:.8f} ylo yhi",
        f"0.0 {lz:.8f} zlo zhi",
        "",
        "Masses",
        "",
        *[f"{i} {mass_amu(el):.6f} # {el}" for i, el in enumerate(tm, start=1)],
        "",
    ]


def atomic_data(interface: Interface) -> str:
    """Data file for ``atom_style atomic`` (id type x y z)."""
    lines = _header(interface, "atomic", [f"{interface.n_atoms} atoms", "4 atom types"])
    lines += ["Atoms # atomic", ""]
    pos = wrapped_positions(interface)
    for i, (t, (x, y, z)) in enumerate(zip(interface.types, pos), start=1):
        lines.append(f"{i} {t} {x:.8f} {y:.8f} {z:.8f}")
    return "\n".join(lines) + "\n"


def bonds_and_angles(interface: Interface) -> tuple[list[tuple[int, int]], list[tuple[int, int, int]]]:
    """1-based (O, H) bonds and (H, O, H) angles of the waters."""
    first_o = interface.slab.n_atoms + 1
    bonds: list[tuple[int, int]] = []
    angles: list[tuple[int, int, int]] = []
    for w in range(interface.n_water):
        o = first_o + 3 * w
        bonds += [(o, o + 1), (o, o + 2)]
        angles.append((o + 1, o, o + 2))
    return bonds, angles


def full_data(interface: Interface) -> str:
    """Data file for ``atom_style full`` (id mol type q x y z ix iy iz) with O–H bonds and H–O–H angles.

    Bond type 1 = O–H (SPC/Fw r0 = {r} Å), angle type 1 = H–O–H; charges from
    :func:`elbench.reference.forcefield.species_charges_e`.
    """
    bonds, angles = bonds_and_angles(interface)
    counts = [
        f"{interface.n_atoms} atoms",
        f"{len(bonds)} bonds",
        f"{len(angles)} angles",
        "4 atom types",
        "1 bond types",
        "1 angle types",
    ]
    lines = _header(interface, "full", counts)
    lines += ["Atoms # full", ""]
    pos = wrapped_positions(interface)
    flags = image_flags(interface, pos)
    for i, (mol, t, q, (x, y, z), (ix, iy, iz)) in enumerate(
        zip(interface.molecule_ids, interface.types, interface.charges_e, pos, flags), start=1
    ):
        lines.append(f"{i} {mol} {t} {q:.12f} {x:.8f} {y:.8f} {z:.8f} {ix} {iy} {iz}")
    if bonds:
        lines += ["", "Bonds", ""]
        lines += [f"{k} 1 {a} {b}" for k, (a, b) in enumerate(bonds, start=1)]
        lines += ["", "Angles", ""]
        lines += [f"{k} 1 {a} {b} {c}" for k, (a, b, c) in enumerate(angles, start=1)]
    return "\n".join(lines) + "\n"


full_data.__doc__ = (full_data.__doc__ or "").replace("{r}", str(WATER["r_OH_A"]))
