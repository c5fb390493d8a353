"""Chunks of DCD frames read straight into a numpy structured array (the layout LAMMPS's ``dump dcd`` writes).

A DCD file is a header followed by fixed-size frames of Fortran records: the
unit cell (6 float64, when periodic), then x, y and z of every atom (float32
each). When every frame has that layout (no fixed atoms, three dimensions,
little-endian records), a chunk of consecutive frames is one ``readinto`` of
its bytes into a reused buffer, and the analysis kernels read x, y and z there
as strided views: no per-frame decoding, no transposed copy. The record
markers of every frame read are checked, so a file that is not laid out this
way is refused rather than misread; the caller then falls back to MDAnalysis's
reader. Values are bit-identical to MDAnalysis's (both are the file's float32 /
float64 numbers).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Fortran record length of the unit cell: 6 float64
CELL_RECORD_BYTES = 48


@dataclass
class DcdBlock:
    """Frames ``lo:hi:step`` of a DCD file: coordinates (nf, n_atoms) float32 views and raw cells (nf, 6)."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    unitcell: np.ndarray


class DcdFrames:
    """The frames of an MDAnalysis ``DCDReader``'s file, read in chunks of at most ``max_frames``."""

    def __init__(self, path: Path, n_atoms: int, n_frames: int, header_bytes: int, periodic: bool, max_frames: int) -> None:
        self.n_atoms = n_atoms
        self.n_frames = n_frames
        self.periodic = periodic
        self.dtype = frame_dtype(n_atoms, periodic)
        self.header_bytes = header_bytes
        self._buffer = np.empty(max(1, max_frames), dtype=self.dtype)
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()

    @classmethod
    def from_reader(cls, reader, max_frames: int) -> "DcdFrames | None":
        """Chunked reading of an MDAnalysis DCD reader's file, or None when its frames are laid out otherwise."""
        dcd = reader._file
        try:
            n_atoms = int(dcd.header["natoms"])
            periodic = bool(dcd.is_periodic)
            frame_bytes = frame_dtype(n_atoms, periodic).itemsize
            if dcd.ndims != 3 or dcd._framesize != frame_bytes or dcd._firstframesize != frame_bytes:
                return None  # fixed atoms (first frame differs), a fourth dimension, or another record layout
            frames = cls(Path(os.fsdecode(dcd.fname)), n_atoms, int(reader.n_frames), int(dcd._header_size), periodic, max_frames)
        except (AttributeError, KeyError, OSError, ValueError, TypeError):
            return None
        try:
            if frames.n_frames:
                frames.block(0, 1, 1)
        except ValueError:
            frames.close()
            return None
        return frames

    def close(self) -> None:
        self._file.close()

    def block(self, lo: int, hi: int, step: int) -> DcdBlock:
        """Frames ``lo:hi:step`` (views into a reused buffer: valid until the next call).

        Raises ValueError when the frames are not all there or their records are
        not where the header puts them.
        """
        wanted = range(lo, min(hi, self.n_frames), step)
        nf = len(wanted)
        if nf > len(self._buffer) or lo < 0:
            raise ValueError(f"{nf} frames do not fit a buffer of {len(self._buffer)}")
        frames = self._buffer[:nf]
        size = self.dtype.itemsize
        if step == 1:
            self._read_into(frames, lo, size)
        else:
            for i, f in enumerate(wanted):
                self._read_into(frames[i : i + 1], f, size)
        if not self.records_ok(frames):
            raise ValueError(f"DCD frames {lo}:{hi}:{step} do not have the layout of their header")
        cell = frames["cell"] if self.periodic else np.zeros((nf, 6))
        return DcdBlock(frames["x"], frames["y"], frames["z"], np.array(cell, dtype=np.float64))

    def _read_into(self, frames: np.ndarray, first: int, size: int) -> None:
        self._file.seek(self.header_bytes + first * size)
        view = memoryview(frames.view(np.uint8).reshape(-1))
        if self._file.readinto(view) != len(view):
            raise ValueError(f"DCD file ends inside frame {first + len(frames) - 1}")

    def records_ok(self, frames: np.ndarray) -> bool:
        """Every Fortran record marker of ``frames`` holds its record's length."""
        coord = 4 * self.n_atoms
        ok = all(np.all(frames[f"m{c}{end}"] == coord) for c in "xyz" for end in "01")
        if self.periodic:
            ok = ok and bool(np.all(frames["mc0"] == CELL_RECORD_BYTES) and np.all(frames["mc1"] == CELL_RECORD_BYTES))
        return bool(ok)


def frame_dtype(n_atoms: int, periodic: bool) -> np.dtype:
    """One DCD frame: [cell record] then x, y, z records, each between two int32 length markers."""
    fields: list[tuple] = []
    if periodic:
        fields += [("mc0", "<i4"), ("cell", "<f8", (6,)), ("mc1", "<i4")]
    for c in "xyz":
        fields += [(f"m{c}0", "<i4"), (c, "<f4", (n_atoms,)), (f"m{c}1", "<i4")]
    return np.dtype(fields)
