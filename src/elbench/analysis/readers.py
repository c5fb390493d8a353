"""Open a topology + trajectory pair as an MDAnalysis Universe with elements known.

Topologies are LAMMPS data files (``atom_style atomic``, ``charge`` or ``full``);
the element of each numeric type comes from elbench's header comment
``# elbench type_map: Au O H Na``, else from ``# Au`` comments on the Masses
lines, else from the masses themselves (standard atomic weights ± 0.1 u).

Trajectories: DCD and XTC written by ``lmp``, LAMMPS ``dump custom`` text files,
and extxyz read through ASE (MDAnalysis's XYZ reader drops the cell). DCD, XTC
and dumps are streamed frame by frame; extxyz frames are held in memory (a text
format meant for small files).

A trajectory that ends in a partial frame (a run killed mid-write) is opened
with its complete frames; :attr:`OpenedTrajectory.dropped_partial_frames` says
how many were left out so the caller can warn.
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from elbench.elements import is_element
from elbench.errors import InputError
from elbench.type_map import parse_line as parse_type_map_line

#: Trajectory formats by file suffix.
FORMAT_BY_SUFFIX = {
    ".dcd": "DCD",
    ".xtc": "XTC",
    ".lammpstrj": "LAMMPSDUMP",
    ".lammpsdump": "LAMMPSDUMP",
    ".dump": "LAMMPSDUMP",
    ".extxyz": "EXTXYZ",
    ".xyz": "EXTXYZ",
}
FORMATS = ("DCD", "XTC", "LAMMPSDUMP", "EXTXYZ")
#: elbench run.json dump formats → reader formats.
RUN_JSON_FORMATS = {"dcd": "DCD", "xtc": "XTC", "custom": "LAMMPSDUMP", "extxyz": "EXTXYZ"}

_ATOM_STYLES = {
    "atomic": "id type x y z",
    "charge": "id type charge x y z",
    "full": "id resid type charge x y z",
    "molecular": "id resid type x y z",
}


@dataclass
class DataFileInfo:
    """What elbench needs from a LAMMPS data file header."""

    path: Path
    n_atoms: int
    n_types: int
    type_map: list[str]
    atom_style: str
    type_map_source: str


@dataclass
class OpenedTrajectory:
    """A Universe plus the facts the analysis reports about its input."""

    universe: object
    data: DataFileInfo
    trajectory: Path
    format: str
    n_frames: int
    dropped_partial_frames: int = 0
    warnings: list[str] = field(default_factory=list)


def _strip_comment(line: str) -> tuple[str, str]:
    body, _, comment = line.partition("#")
    return body.strip(), comment.strip()


def _element_from_mass(mass: float) -> str | None:
    from ase.data import atomic_masses, chemical_symbols

    diffs = np.abs(np.asarray(atomic_masses[1:]) - mass)
    best = int(np.argmin(diffs))
    return chemical_symbols[best + 1] if diffs[best] <= 0.1 else None


def read_data_header(path: str | Path) -> DataFileInfo:
    """Parse counts, type map and atom style from a LAMMPS data file.

    Only the header, Masses and the first Atoms line are read, so large data
    files cost little.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("topology file not found", file=path)
    n_atoms = n_types = None
    header_map: list[str] | None = None
    mass_lines: dict[int, tuple[float, str]] = {}
    style_hint = ""
    first_atom_cols = 0
    section = ""
    try:
        with open(path, errors="strict") as handle:
            header_map = parse_type_map_line(handle.readline(), file=path)  # the title line
            for raw in handle:
                body, comment = _strip_comment(raw)
                if (found := parse_type_map_line(raw, file=path)) is not None:
                    header_map = found
                    continue
                if not body:
                    continue
                words = body.split()
                if section == "" and len(words) == 2 and words[1] == "atoms":
                    n_atoms = int(words[0])
                elif section == "" and len(words) == 3 and words[1:] == ["atom", "types"]:
                    n_types = int(words[0])
                elif words[0][0].isalpha():
                    section = words[0]
                    if section == "Atoms":
                        style_hint = comment.split()[0] if comment else ""
                elif section == "Masses":
                    mass_lines[int(words[0])] = (float(words[1]), comment.split()[0] if comment else "")
                elif section == "Atoms":
                    first_atom_cols = len(words)
                    break
    except (OSError, UnicodeDecodeError, ValueError, IndexError) as err:
        raise InputError(f"cannot read as a LAMMPS data file ({err})", file=path) from None
    if n_atoms is None or n_types is None or first_atom_cols == 0:
        raise InputError("not a LAMMPS data file (no 'atoms', 'atom types' or Atoms section)", file=path)
    atom_style = _atom_style(style_hint, first_atom_cols, path)
    type_map, source = _type_map(header_map, mass_lines, n_types, path)
    return DataFileInfo(path, n_atoms, n_types, type_map, atom_style, source)


def _atom_style(hint: str, ncols: int, path: Path) -> str:
    if hint in _ATOM_STYLES:
        return hint
    if hint:
        raise InputError(f"unsupported atom style '{hint}'", file=path, key="Atoms", allowed=", ".join(_ATOM_STYLES))
    by_cols = {5: "atomic", 8: "atomic", 7: "full", 10: "full", 6: "charge", 9: "charge"}
    if ncols not in by_cols:
        raise InputError(f"cannot infer the atom style from {ncols} columns", file=path, key="Atoms")
    return by_cols[ncols]


def _type_map(header: list[str] | None, masses: dict, n_types: int, path: Path) -> tuple[list[str], str]:
    if header is not None:
        if len(header) != n_types or not all(is_element(s) for s in header):
            raise InputError(
                f"type_map header names {header} but the file has {n_types} atom types",
                file=path,
                key="elbench type_map",
            )
        return header, "header"
    if len(masses) == n_types and all(is_element(masses[t][1]) for t in masses):
        return [masses[t][1] for t in sorted(masses)], "masses-comments"
    if len(masses) == n_types:
        guessed = [_element_from_mass(masses[t][0]) for t in sorted(masses)]
        if all(guessed):
            return guessed, "masses"
    raise InputError(
        "cannot tell the element of each atom type",
        file=path,
        key="Masses",
        allowed="a '# elbench type_map: Au O H Na' header, '# Au' comments on Masses lines, or standard masses",
    )


def trajectory_format(path: Path, fmt: str | None) -> str:
    if fmt:
        key = fmt.upper()
        key = RUN_JSON_FORMATS.get(fmt.lower(), key)
        if key not in FORMATS:
            raise InputError(f"unknown trajectory format '{fmt}'", key="--format", allowed=", ".join(FORMATS))
        return key
    suffix = path.suffix.lower()
    if suffix not in FORMAT_BY_SUFFIX:
        raise InputError(
            "cannot tell the trajectory format from the file name",
            file=path,
            allowed=", ".join(sorted(FORMAT_BY_SUFFIX)) + " or --format",
        )
    return FORMAT_BY_SUFFIX[suffix]


def open_trajectory(
    trajectory: str | Path,
    topology: str | Path,
    *,
    fmt: str | None = None,
    dt_ps: float | None = None,
) -> OpenedTrajectory:
    """Open ``trajectory`` with the atoms (and elements) of the data file ``topology``."""
    import MDAnalysis as mda

    traj = Path(trajectory)
    if not traj.is_file():
        raise InputError("trajectory file not found", file=traj)
    if not os.access(traj, os.R_OK):
        raise InputError("trajectory file is not readable", file=traj)
    if traj.stat().st_size == 0:
        raise InputError("trajectory is empty (0 bytes)", file=traj)
    data = read_data_header(topology)
    kind = trajectory_format(traj, fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            universe = mda.Universe(
                str(data.path), topology_format="DATA", atom_style=_ATOM_STYLES[data.atom_style]
            )
        except Exception as err:  # MDAnalysis raises many kinds on bad files
            raise InputError(f"cannot read topology ({type(err).__name__}: {err})", file=data.path) from None
        if universe.atoms.n_atoms != data.n_atoms:
            raise InputError(
                f"header says {data.n_atoms} atoms but {universe.atoms.n_atoms} were read", file=data.path
            )
        _set_elements(universe, data)
        if kind == "EXTXYZ":
            _load_extxyz(universe, traj, data)
        else:
            _load_mda(universe, traj, kind, dt_ps)
    opened = OpenedTrajectory(universe, data, traj, kind, 0)
    _drop_partial_frames(opened)
    if opened.n_frames == 0:
        raise InputError("trajectory holds no complete frame", file=traj)
    return opened


def _set_elements(universe, data: DataFileInfo) -> None:
    types = universe.atoms.types.astype(int)
    if types.min() < 1 or types.max() > data.n_types:
        raise InputError(f"atom types outside 1..{data.n_types}", file=data.path, key="Atoms")
    elements = np.asarray(data.type_map, dtype=object)[types - 1]
    universe.add_TopologyAttr("elements", elements.astype(str))


def _load_mda(universe, traj: Path, kind: str, dt_ps: float | None) -> None:
    kwargs = {"format": kind}
    if kind == "LAMMPSDUMP":
        kwargs["lammps_coordinate_convention"] = "auto"
        if dt_ps is not None:
            kwargs["dt"] = dt_ps
    elif dt_ps is not None:
        kwargs["dt"] = dt_ps
    # start-up time: MDAnalysis (imported by open_trajectory when it runs)
    from MDAnalysis.coordinates.core import get_reader_for

    try:
        kwargs["format"] = guarded_reader(get_reader_for(str(traj), format=kind))
        universe.load_new(str(traj), **kwargs)
    except ValueError as err:
        if "atoms" in str(err).lower():
            raise InputError(
                f"atom count differs from the topology's {universe.atoms.n_atoms} ({err})", file=traj
            ) from None
        raise InputError(f"cannot read {kind} trajectory ({err})", file=traj) from None
    except Exception as err:
        raise InputError(f"cannot read {kind} trajectory ({type(err).__name__}: {err})", file=traj) from None


@functools.cache
def guarded_reader(cls: type) -> type:
    """MDAnalysis reader class ``cls`` whose ``close()`` survives an ``__init__`` that raised.

    ``ReaderBase.__del__`` calls ``close()``. A DCD or XTC reader whose file failed
    to open (not a DCD, a bad XTC magic number) never got its ``_file`` / ``_xdr``,
    so its ``close()`` raises AttributeError in the garbage collector, which Python
    prints as "Exception ignored in ... __del__" with a traceback after elbench's
    one-line error. Here a reader whose ``__init__`` raised is closed as far as it
    was opened and that AttributeError is dropped; the ``__init__`` error itself
    still propagates (elbench reports it), and a fully opened reader closes as
    before. Same class otherwise (``plain_reader_class`` gives ``cls`` back).
    """

    class Guarded(cls):
        _elbench_plain = cls

        def __init__(self, *args, **kwargs):
            try:
                super().__init__(*args, **kwargs)
            except BaseException:
                self._elbench_init_failed = True
                raise

        def close(self):
            if not getattr(self, "_elbench_init_failed", False):
                return super().close()
            try:
                super().close()
            except AttributeError:
                pass  # the file it names was never opened

    Guarded.__name__ = Guarded.__qualname__ = cls.__name__
    return Guarded


def plain_reader_class(reader) -> type:
    """The MDAnalysis class of ``reader`` (the one :func:`guarded_reader` wrapped, if it was)."""
    return getattr(type(reader), "_elbench_plain", type(reader))


def _load_extxyz(universe, traj: Path, data: DataFileInfo) -> None:
    """Read all extxyz frames through ASE (cell kept) into a MemoryReader."""
    import ase.io
    from MDAnalysis.coordinates.memory import MemoryReader

    try:
        frames = ase.io.read(str(traj), index=":", format="extxyz")
    except Exception as err:
        raise InputError(f"cannot read extxyz ({type(err).__name__}: {err})", file=traj) from None
    if not frames:
        raise InputError("trajectory holds no complete frame", file=traj)
    n = universe.atoms.n_atoms
    coords = np.empty((len(frames), n, 3), dtype=np.float32)
    dims = np.empty((len(frames), 6), dtype=np.float32)
    expected = list(universe.atoms.elements)
    for i, atoms in enumerate(frames):
        if len(atoms) != n:
            raise InputError(f"frame {i} has {len(atoms)} atoms, the topology {n}", file=traj)
        if i == 0 and list(atoms.get_chemical_symbols()) != expected:
            raise InputError("element order differs from the topology's type map", file=traj)
        coords[i] = atoms.positions
        dims[i] = atoms.cell.cellpar()
    universe.load_new(coords, format=MemoryReader, dimensions=dims)


def _drop_partial_frames(opened: OpenedTrajectory) -> None:
    """Find whether the file ends in a partial frame; restrict to complete ones."""
    reader = opened.universe.trajectory
    n = reader.n_frames
    dropped = 0
    path = opened.trajectory
    if opened.format == "DCD":
        f = reader._file
        size = path.stat().st_size
        full = f._header_size + f._firstframesize + max(n - 1, 0) * f._framesize
        dropped = int(size > full) if n else int(size > f._header_size)
    elif opened.format == "XTC" and n:
        reader[n - 1]
        dropped = int(reader._xdr._bytes_tell() < path.stat().st_size)
    elif opened.format == "LAMMPSDUMP" and n:
        try:
            reader[n - 1]
        except Exception:
            dropped = 1
            n -= 1
    if n:
        reader[0]
    opened.n_frames = n
    opened.dropped_partial_frames = dropped
    if dropped:
        opened.warnings.append(
            f"{path}: trajectory ends in a partial frame; analysed the {n} complete frames, dropped {dropped}"
        )
