"""Read what ``elbench build`` wrote for one charge state (``systems/q<n>/``).

Only the keys the decks need are read; each is checked, so a stale or hand-edited
``system.json`` ends as one InputError naming the file and the key.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from elbench.elements import is_element
from elbench.errors import InputError
from elbench.type_map import read_header


@dataclass(frozen=True)
class SystemInfo:
    """One built system: element order, geometry, counts and its files."""

    type_map: list[str]
    geometry: str
    n_cations: int
    n_atoms: int
    cell_A: list[list[float]]
    n_fixed_atoms: int
    directory: Path | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def data_file(self) -> Path:
        return self._file("system.data")

    @property
    def full_data_file(self) -> Path:
        return self._file("system_full.data")

    def _file(self, name: str) -> Path:
        if self.directory is None:
            raise InputError(f"system has no directory; cannot find {name}")
        return self.directory / name

    def lateral_widths_A(self) -> tuple[float, float]:
        """Perpendicular widths of the cell along x and y (= lx, ly for orthogonal cells)."""
        a, b, c = (list(map(float, v)) for v in self.cell_A)
        cross = lambda u, v: [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
        norm = lambda u: math.sqrt(sum(x * x for x in u))
        volume = abs(sum(x * y for x, y in zip(a, cross(b, c))))
        return volume / norm(cross(b, c)), volume / norm(cross(c, a))


def system_from_dict(data: dict, *, directory: Path | None = None, file: str | Path = "system.json") -> SystemInfo:
    """Validate the keys of a ``system.json`` dict the decks use."""

    def need(key: str):
        if key not in data:
            raise InputError("key missing; re-run `elbench build`", file=file, key=key)
        return data[key]

    type_map = need("type_map")
    if not isinstance(type_map, list) or len(type_map) != 4 or not all(isinstance(t, str) and is_element(t) for t in type_map):
        raise InputError(f"type_map must list 4 element symbols; got {type_map!r}", file=file, key="type_map")
    geometry = need("geometry")
    if geometry not in ("slab", "sandwich"):
        raise InputError(f"unknown geometry {geometry!r}", file=file, key="geometry", allowed="slab, sandwich")
    counts = need("counts")
    n_atoms = counts.get("atoms") if isinstance(counts, dict) else None
    if not isinstance(n_atoms, int) or n_atoms <= 0:
        raise InputError("counts.atoms must be a positive integer", file=file, key="counts.atoms")
    n_cations = need("n_cations")
    n_fixed = need("n_fixed_atoms")
    for key, value in (("n_cations", n_cations), ("n_fixed_atoms", n_fixed)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value >= n_atoms:
            raise InputError(f"must be an integer in [0, {n_atoms}); got {value!r}", file=file, key=key)
    cell = need("cell_A")
    try:
        cell = [[float(x) for x in row] for row in cell]
        ok = len(cell) == 3 and all(len(row) == 3 and all(math.isfinite(x) for x in row) for row in cell)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError("cell_A must be a 3x3 list of numbers", file=file, key="cell_A")
    return SystemInfo(type_map, geometry, n_cations, n_atoms, cell, n_fixed, directory, extra=data)


def load_system(directory: str | Path) -> SystemInfo:
    """``system.json`` of ``systems/q<n>/``, checked against its data file's type map."""
    directory = Path(directory)
    path = directory / "system.json"
    if not path.is_file():
        raise InputError("system not built; run `elbench build` first", file=path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read: {err}", file=path) from None
    info = system_from_dict(data, directory=directory, file=path)
    check_data_type_map(info.data_file, info.type_map)
    return info


def check_data_type_map(path: Path, type_map: list[str]) -> None:
    """The data file must carry the same explicit element order as system.json."""
    if not path.is_file():
        raise InputError("data file missing; run `elbench build`", file=path)
    found = read_header(path)
    if found is None:
        raise InputError("no '# elbench type_map:' header line; re-run `elbench build`", file=path, key="type_map")
    if found != list(type_map):
        raise InputError(f"element order {found} differs from system.json {type_map}", file=path, key="type_map")
