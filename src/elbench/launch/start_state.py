"""The start state of a two-stage production: the shared reference equilibration's last state.

The equilibration (a rendered run of the classical reference, ``stage = "equilibration"`` in its
run.json) ends with ``write_data final.data nocoeff``: full atom style (molecule ids, charges),
image flags and velocities, in the reference's type order. :func:`make_start_file` converts it
into the ``start.data`` a production deck reads: atomic style, the production's type order,
the same positions, image flags and velocities, with the ``# elbench type_map:`` header. Types are
mapped element by element through the two run records' type maps (never through masses).

The conversion refuses, with one line and nothing written, a state whose atom count, cell or
per-atom elements differ from the production's own system (its ``system.data`` topology), and a
state with an element the production's type map lacks. The launcher calls it just before a
production's first segment; once ``start.data`` exists, ``lmp -in in.lammps`` in the run
directory works without elbench.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from elbench.elements import mass_amu
from elbench.errors import InputError
from elbench.io import atomic_write_text
from elbench.launch import state
from elbench.run_record import RunRecord
from elbench.type_map import header_line

#: header keywords of a LAMMPS data file's box (in the order write_data writes them)
_BOX = ("xlo xhi", "ylo yhi", "zlo zhi", "xy xz yz")
#: section names of a LAMMPS data file
_SECTIONS = {"Masses", "Atoms", "Velocities", "Bonds", "Angles", "Dihedrals", "Impropers", "Pair Coeffs",
             "PairIJ Coeffs", "Bond Coeffs", "Angle Coeffs", "Dihedral Coeffs", "Improper Coeffs"}
#: columns before x y z in the Atoms section of each atom style elbench writes or reads
_POSITION_COLUMN = {"atomic": 2, "full": 4, "charge": 3, "molecular": 3, "bond": 3, "angle": 3}
_TYPE_COLUMN = {"atomic": 1, "full": 2, "charge": 1, "molecular": 2, "bond": 2, "angle": 2}
#: relative tolerance on the cell between the start state and the production's system
CELL_RTOL = 1e-6


@dataclass
class DataState:
    """Atoms of a LAMMPS data file, sorted by id."""

    ids: np.ndarray
    types: np.ndarray
    positions: np.ndarray
    images: np.ndarray | None
    velocities: np.ndarray | None
    box: dict[str, tuple[float, ...]]
    n_types: int
    style: str

    @property
    def n_atoms(self) -> int:
        return len(self.ids)


def read_data_state(path: Path) -> DataState:
    """Ids, types, positions, image flags, velocities and box of a LAMMPS data file (atomic or full style)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", file=path) from None
    n_atoms = n_types = None
    box: dict[str, tuple[float, ...]] = {}
    sections: dict[str, list[list[str]]] = {}
    style = "atomic"
    current = None
    for raw in lines[1:]:  # the first line is the title
        text, _, comment = raw.partition("#")
        words = text.split()
        if not words:
            continue
        name = " ".join(words)
        if name in _SECTIONS:
            current = name
            sections[current] = []
            if name == "Atoms" and comment.strip():
                style = comment.split()[0]
            continue
        if current is None:
            if len(words) == 2 and words[1] == "atoms":
                n_atoms = int(words[0])
            elif len(words) == 3 and words[1:] == ["atom", "types"]:
                n_types = int(words[0])
            for key in _BOX:
                if name.endswith(key):
                    box[key] = tuple(float(w) for w in words[: len(words) - len(key.split())])
            continue
        sections[current].append(words)
    if n_atoms is None or n_types is None or "Atoms" not in sections or len(sections["Atoms"]) != n_atoms:
        raise InputError("not a complete LAMMPS data file (atoms, atom types, Atoms section)", file=path)
    if style not in _POSITION_COLUMN:
        raise InputError(f"atom style {style!r} is not read here", file=path, allowed=", ".join(_POSITION_COLUMN))
    col = _POSITION_COLUMN[style]
    rows = sections["Atoms"]
    try:
        ids = np.array([int(r[0]) for r in rows])
        types = np.array([int(r[_TYPE_COLUMN[style]]) for r in rows])
        xyz = np.array([[float(w) for w in r[col:col + 3]] for r in rows])
        images = np.array([[int(w) for w in r[col + 3:col + 6]] for r in rows]) if len(rows[0]) >= col + 6 else None
        order = np.argsort(ids)
        velocities = None
        if "Velocities" in sections:
            vrows = sections["Velocities"]
            vids = np.array([int(r[0]) for r in vrows])
            vel = np.array([[float(w) for w in r[1:4]] for r in vrows])
            if len(vids) != n_atoms or not np.array_equal(np.sort(vids), ids[order]):
                raise InputError("Velocities section does not cover every atom once", file=path)
            velocities = vel[np.argsort(vids)]
    except (ValueError, IndexError):
        raise InputError(f"malformed Atoms or Velocities section (atom style {style})", file=path) from None
    return DataState(ids[order], types[order], xyz[order], images[order] if images is not None else None,
                     velocities, box, n_types, style)


def _cell(box: dict[str, tuple[float, ...]]) -> np.ndarray:
    lengths = [box[k][1] - box[k][0] for k in _BOX[:3]]
    tilt = box.get("xy xz yz", (0.0, 0.0, 0.0))
    return np.array([*lengths, *tilt])


def convert(source: DataState, source_type_map: list[str], topology: DataState, type_map: list[str], *,
            source_file: Path, target_file: Path) -> str:
    """The text of ``start.data``: ``source`` in atomic style with ``type_map``'s types; checked against ``topology``."""
    if source.velocities is None:
        raise InputError("the equilibration's state has no Velocities section", file=source_file)
    if source.n_atoms != topology.n_atoms:
        raise InputError(f"start state has {source.n_atoms} atoms, this run's system {topology.n_atoms}; "
                         "re-render the campaign (`elbench render --force`)", file=source_file)
    cell, want = _cell(source.box), _cell(topology.box)
    if not np.allclose(cell, want, rtol=CELL_RTOL, atol=1e-6):
        raise InputError(f"start state's cell {np.round(cell, 4).tolist()} differs from this run's system "
                         f"{np.round(want, 4).tolist()} (lx ly lz xy xz yz, A); re-render the campaign",
                         file=source_file)
    if len(source_type_map) < source.n_types:
        raise InputError(f"{source.n_types} atom types but the equilibration's type map names "
                         f"{len(source_type_map)} ({' '.join(source_type_map)})", file=source_file, key="type_map")
    missing = sorted({source_type_map[t - 1] for t in np.unique(source.types)} - set(type_map))
    if missing:
        raise InputError(f"this run's type map ({' '.join(type_map)}) lacks {' '.join(missing)} of the start state",
                         file=target_file, key="type_map")
    lookup = np.zeros(source.n_types + 1, dtype=int)
    for t, element in enumerate(source_type_map[: source.n_types], start=1):
        lookup[t] = type_map.index(element) + 1 if element in type_map else 0
    types = lookup[source.types]
    if not np.array_equal(source.ids, topology.ids) or not np.array_equal(types, topology.types):
        bad = int(np.argmax(types != topology.types)) if np.array_equal(source.ids, topology.ids) else 0
        raise InputError(f"start state's atoms differ from this run's system (first at atom id {source.ids[bad]}); "
                         "re-render the campaign", file=source_file)
    images = source.images if source.images is not None else np.zeros((source.n_atoms, 3), dtype=int)
    out = [header_line(type_map),
           f"# start state: {source_file} (the shared reference equilibration's last state; positions, image flags "
           f"and velocities), converted to atom_style atomic by elbench", "",
           f"{source.n_atoms} atoms", f"{len(type_map)} atom types", ""]
    for key in _BOX:
        if key in source.box:
            out.append(" ".join(f"{v:.17g}" for v in source.box[key]) + f" {key}")
    out += ["", "Masses", ""]
    out += [f"{i} {mass_amu(el):.6f} # {el}" for i, el in enumerate(type_map, start=1)]
    out += ["", "Atoms # atomic", ""]
    out += [f"{i} {t} {x:.17g} {y:.17g} {z:.17g} {a} {b} {c}"
            for i, t, (x, y, z), (a, b, c) in zip(source.ids, types, source.positions, images)]
    out += ["", "Velocities", ""]
    out += [f"{i} {vx:.17g} {vy:.17g} {vz:.17g}" for i, (vx, vy, vz) in zip(source.ids, source.velocities)]
    return "\n".join(out) + "\n"


def equilibration_problem(run_dir: Path, record: RunRecord) -> tuple[str, str] | None:
    """Why a two-stage production cannot start yet, as (kind, message), or None when its equilibration is done.

    kind "waiting": the equilibration has not finished (pending, running, interrupted: run or resume it);
    kind "blocked": it failed, is not rendered or left no state (re-render it: the production cannot start).
    """
    eq_dir = record.start_run_dir(run_dir)
    if eq_dir is None:
        return None
    status = state.read_status(eq_dir) if eq_dir.is_dir() else {}
    current = status.get("state")
    if current == "done" and (eq_dir / record.start_from.source).is_file():
        return None
    where = f"equilibration {eq_dir.parent.name}/{eq_dir.name}"
    if not (eq_dir / "run.json").is_file():
        return "blocked", f"{where} is not rendered ({eq_dir}); run `elbench render`"
    if current == "failed":
        return "blocked", f"{where} failed: {status.get('reason') or 'no reason recorded'}"
    if current == "done":
        return "blocked", f"{where} is done but left no {record.start_from.source}; re-render it"
    return "waiting", f"waiting for {where} ({current or 'not started'})"


def start_file_text(run_dir: Path, record: RunRecord) -> tuple[Path, str]:
    """(path, text) of a two-stage production's ``start.data``, checked; nothing is written.

    InputError (one line) on a failed or unfinished equilibration or a state that does not fit this run.
    """
    problem = equilibration_problem(run_dir, record)
    if problem is not None:
        raise InputError(f"cannot start: {problem[1]}", file=run_dir / "run.json", key="start_from")
    eq_dir = record.start_run_dir(run_dir)
    eq_record = RunRecord.load(eq_dir)
    source_file = eq_dir / record.start_from.source
    source = read_data_state(source_file)
    topology = read_data_state(run_dir / record.topology_file)
    target = run_dir / record.start_from.file
    return target, convert(source, list(eq_record.type_map), topology, list(record.type_map),
                           source_file=source_file, target_file=target)


def make_start_file(run_dir: Path, record: RunRecord | None = None) -> Path | None:
    """Write ``start.data`` of a two-stage production from its equilibration's ``final.data`` (None: not two-stage).

    Idempotent: an existing start file is rewritten with the same text; nothing is written on an InputError.
    """
    run_dir = Path(run_dir).resolve()
    record = record or RunRecord.load(run_dir)
    if record.start_from is None:
        return None
    target, text = start_file_text(run_dir, record)
    atomic_write_text(target, text)
    return target
