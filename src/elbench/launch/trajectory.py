"""Trajectories written in segments: index their frames, read them, join them.

Each segment dumps to its own file. A frame is identified by its timestep; after a
crash a segment may hold frames past the restart the next segment starts from (and a
half-written last frame). Joining keeps, for every segment in the order they ran,
only its frames before the start of the next segment, and drops incomplete frames,
so the joined trajectory holds every dumped step exactly once, in order.

Formats: DCD (LAMMPS ``dump dcd``: steps from the header's ISTART/NSAVC), LAMMPS
text (``dump custom``/``atom``: ``ITEM: TIMESTEP``), XTC (steps in each frame).
Frames are copied byte for byte, so joining loses no precision.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from elbench.io import atomic_path


@dataclass(frozen=True)
class FrameRef:
    step: int
    start: int  # byte offset in the file
    end: int


@dataclass
class TrajIndex:
    """The complete frames of one trajectory file."""

    path: Path
    fmt: str
    header: bytes
    frames: list[FrameRef]
    natoms: int | None = None
    interval: int | None = None

    @property
    def steps(self) -> list[int]:
        return [f.step for f in self.frames]


def format_of(name: str | Path, declared: str | None = None) -> str:
    if declared in ("dcd", "xtc"):
        return declared
    if declared in ("custom", "atom", "text"):
        return "text"
    suffix = Path(name).suffix.lower()
    return {".dcd": "dcd", ".xtc": "xtc"}.get(suffix, "text")


# ---------------------------------------------------------------- DCD


def _dcd_layout(data: bytes) -> tuple[int, int, int, int, int, bool]:
    """(header_bytes, natoms, istart, nsavc, frame_bytes, has_cell) of a LAMMPS DCD."""
    if len(data) < 8 or data[4:8] != b"CORD":
        raise ValueError("not a DCD file (no CORD marker)")
    (len1,) = struct.unpack_from("<i", data, 0)
    istart, nsavc = struct.unpack_from("<ii", data, 12)
    icntrl = struct.unpack_from("<20i", data, 8)
    has_cell = icntrl[10] != 0
    pos = 4 + len1 + 4
    (len2,) = struct.unpack_from("<i", data, pos)
    pos += 4 + len2 + 4
    (len3,) = struct.unpack_from("<i", data, pos)
    (natoms,) = struct.unpack_from("<i", data, pos + 4)
    pos += 4 + len3 + 4
    frame = 3 * (4 + 4 * natoms + 4) + (4 + 48 + 4 if has_cell else 0)
    return pos, natoms, istart, nsavc, frame, has_cell


def index_dcd(path: Path) -> TrajIndex:
    """Frames of a DCD from its header and size alone (a partly written last frame is left out)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            data = handle.read(4096)
    except OSError:
        return TrajIndex(path, "dcd", b"", [])
    if len(data) < 100:
        return TrajIndex(path, "dcd", b"", [])
    header, natoms, istart, nsavc, frame, _ = _dcd_layout(data)
    count = max(0, (size - header) // frame)
    frames = [FrameRef(istart + i * nsavc, header + i * frame, header + (i + 1) * frame) for i in range(count)]
    return TrajIndex(path, "dcd", data[:header], frames, natoms, nsavc)


def _dcd_positions(chunk: bytes, natoms: int) -> tuple[np.ndarray, np.ndarray | None]:
    pos = 0
    box = None
    if len(chunk) == 3 * (8 + 4 * natoms) + 56:
        cell = np.frombuffer(chunk, dtype="<f8", count=6, offset=4)
        box = np.array([cell[0], cell[2], cell[5]])
        pos = 56
    xyz = []
    for _ in range(3):
        xyz.append(np.frombuffer(chunk, dtype="<f4", count=natoms, offset=pos + 4))
        pos += 8 + 4 * natoms
    return np.stack(xyz, axis=1).astype(float), box


def _dcd_header_for(header: bytes, nframes: int, istart: int, nsavc: int) -> bytes:
    out = bytearray(header)
    struct.pack_into("<iiii", out, 8, nframes, istart, nsavc, istart + max(nframes - 1, 0) * nsavc)
    return bytes(out)


# ---------------------------------------------------------------- LAMMPS text dumps


def index_text(path: Path) -> TrajIndex:
    data = path.read_bytes() if path.is_file() else b""
    frames: list[FrameRef] = []
    marker = b"ITEM: TIMESTEP"
    starts = []
    pos = data.find(marker)
    while pos != -1:
        starts.append(pos)
        pos = data.find(marker, pos + 1)
    starts.append(len(data))
    natoms = None
    for a, b in zip(starts[:-1], starts[1:]):
        lines = data[a:b].split(b"\n")
        try:
            step = int(lines[1])
            n_i = lines.index(b"ITEM: NUMBER OF ATOMS")
            n = int(lines[n_i + 1])
            atoms_i = next(i for i, line in enumerate(lines) if line.startswith(b"ITEM: ATOMS"))
        except (ValueError, IndexError, StopIteration):
            break
        body = lines[atoms_i + 1 : atoms_i + 1 + n]
        complete = len(body) == n and (b < len(data) or data.endswith(b"\n"))
        if not complete or (body and not body[-1].strip()):
            break
        natoms = n
        frames.append(FrameRef(step, a, b))
    return TrajIndex(path, "text", b"", frames, natoms)


def _text_positions(chunk: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    lines = chunk.decode().split("\n")
    box_i = next(i for i, line in enumerate(lines) if line.startswith("ITEM: BOX BOUNDS"))
    bounds = np.array([[float(v) for v in lines[box_i + k].split()[:2]] for k in (1, 2, 3)])
    atoms_i = next(i for i, line in enumerate(lines) if line.startswith("ITEM: ATOMS"))
    cols = lines[atoms_i].split()[2:]
    n = int(lines[lines.index("ITEM: NUMBER OF ATOMS") + 1])
    table = np.array([line.split() for line in lines[atoms_i + 1 : atoms_i + 1 + n]])
    names = [c for c in ("x", "xu", "xs") if c in cols]
    if not names:
        raise ValueError("text dump has no x/xu/xs column")
    x = names[0]
    y, z = x.replace("x", "y"), x.replace("x", "z")
    xyz = table[:, [cols.index(x), cols.index(y), cols.index(z)]].astype(float)
    if x == "xs":
        xyz = bounds[:, 0] + xyz * (bounds[:, 1] - bounds[:, 0])
    if "id" in cols:
        xyz = xyz[np.argsort(table[:, cols.index("id")].astype(int))]
    return xyz, bounds[:, 1] - bounds[:, 0]


# ---------------------------------------------------------------- XTC


def index_xtc(path: Path) -> TrajIndex:
    frames: list[FrameRef] = []
    if not path.is_file() or path.stat().st_size == 0:
        return TrajIndex(path, "xtc", b"", frames)
    from MDAnalysis.lib.formats.libmdaxdr import XTCFile

    size = path.stat().st_size
    natoms = None
    with XTCFile(str(path)) as xtc:
        offsets = list(xtc.offsets)
        bounds = offsets[1:] + [size]
        for i, (a, b) in enumerate(zip(offsets, bounds)):
            try:
                xtc.seek(i)
                frame = xtc.read()
            except (OSError, EOFError, RuntimeError, StopIteration):
                break
            natoms = len(frame.x)
            frames.append(FrameRef(int(frame.step), a, b))
    return TrajIndex(path, "xtc", b"", frames, natoms)


def _xtc_positions(path: Path, ref: FrameRef) -> tuple[np.ndarray, np.ndarray | None]:
    from MDAnalysis.lib.formats.libmdaxdr import XTCFile

    with XTCFile(str(path)) as xtc:
        idx = [f.start for f in index_xtc(path).frames].index(ref.start)
        xtc.seek(idx)
        frame = xtc.read()
    return np.asarray(frame.x, float) * 10.0, np.diag(frame.box) * 10.0


# ---------------------------------------------------------------- common


def index_file(path: Path, fmt: str) -> TrajIndex:
    if fmt == "dcd":
        return index_dcd(path)
    if fmt == "xtc":
        return index_xtc(path)
    return index_text(path)


def positions(index: TrajIndex, ref: FrameRef) -> tuple[np.ndarray, np.ndarray | None]:
    """Cartesian positions (Å, sorted by atom id) and box lengths of one frame."""
    if index.fmt == "xtc":
        return _xtc_positions(index.path, ref)
    with open(index.path, "rb") as handle:
        handle.seek(ref.start)
        chunk = handle.read(ref.end - ref.start)
    if index.fmt == "dcd":
        return _dcd_positions(chunk, index.natoms or 0)
    return _text_positions(chunk)


@dataclass(frozen=True)
class Piece:
    """Frames of one segment file that belong to the joined trajectory."""

    index: TrajIndex
    frames: list[FrameRef]


def select_frames(segments: Iterable[tuple[TrajIndex, int]], stop_step: int | None = None) -> list[Piece]:
    """For (index, start_step) per segment in run order: the frames each contributes.

    A later segment replaces every frame at or after its start step; frames at or
    after ``stop_step`` (the first bad step of a failed run) are left out.
    """
    pieces: list[Piece] = []
    for index, start in segments:
        pieces = [Piece(p.index, [f for f in p.frames if f.step < start]) for p in pieces]
        pieces.append(Piece(index, list(index.frames)))
    if stop_step is not None:
        pieces = [Piece(p.index, [f for f in p.frames if f.step < stop_step]) for p in pieces]
    pieces = [p for p in pieces if p.frames]
    steps = [f.step for p in pieces for f in p.frames]
    if any(b <= a for a, b in zip(steps, steps[1:])):
        raise ValueError(f"segment frames are not in increasing step order: {steps[:20]}...")
    return pieces


def write_joined(pieces: list[Piece], target: Path) -> int:
    """Write the selected frames into one file (same format); return the frame count."""
    frames = [(p.index, f) for p in pieces for f in p.frames]
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        if frames and frames[0][0].fmt == "dcd":
            first = frames[0][0]
            if any(ix.natoms != first.natoms for ix, _ in frames):
                raise ValueError("segments have different numbers of atoms")
            steps = [f.step for _, f in frames]
            interval = steps[1] - steps[0] if len(steps) > 1 else (first.interval or 1)
            if any(b - a != interval for a, b in zip(steps, steps[1:])):
                raise ValueError("DCD frames are not evenly spaced; cannot join into one DCD")
            out.write(_dcd_header_for(first.header, len(frames), steps[0], interval))
        for piece in pieces:
            with open(piece.index.path, "rb") as src:
                for ref in piece.frames:
                    src.seek(ref.start)
                    out.write(src.read(ref.end - ref.start))
    return len(frames)
