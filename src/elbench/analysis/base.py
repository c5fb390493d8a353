"""Shared machinery: atom roles, and an AnalysisBase that works on chunks of frames.

Every observable is an MDAnalysis :class:`~MDAnalysis.analysis.base.AnalysisBase`
(``_prepare`` / ``_single_frame`` / ``_conclude``, ``run(start, stop, step)``).
``_single_frame`` only copies the frame into a fixed buffer of ``chunk_frames``
frames; the numerical work runs once per full buffer on arrays of shape
(frames, atoms, 3), so numpy's per-call overhead is paid once per chunk instead
of once per frame. Memory is fixed by the chunk size, not the trajectory length.
Chunks never straddle two averaging blocks.

Observables are *kernels* (``accumulate(chunk)``); one analysis may run several
kernels on the same chunk, which is how :class:`~elbench.analysis.interface.InterfaceAnalysis`
computes everything in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase

from elbench.analysis.blocks import block_of_frame
from elbench.analysis.dcd import DcdFrames
from elbench.analysis.readers import plain_reader_class
from elbench.analysis.surface import DEFAULT_LAYER_GAP_A, Planes, ProfileGrid, metal_planes
from elbench.elements import CATIONS, FCC_LATTICE_CONSTANT_A
from elbench.errors import InputError

GEOMETRIES = ("slab", "sandwich")


def _as_index(idx: np.ndarray) -> np.ndarray | slice:
    """A slice when ``idx`` is an arithmetic progression (cheap strided views), else the array."""
    if len(idx) == 0:
        return slice(0, 0)
    if len(idx) == 1:
        return slice(int(idx[0]), int(idx[0]) + 1)
    step = int(idx[1] - idx[0])
    if step > 0 and np.all(np.diff(idx) == step):
        return slice(int(idx[0]), int(idx[-1]) + 1, step)
    return idx


@dataclass
class Roles:
    """Atom indices of the metal, water O, water H and cation, by element."""

    metal_element: str
    cation_element: str
    metal: np.ndarray
    oxygen: np.ndarray
    hydrogen: np.ndarray
    cation: np.ndarray

    @classmethod
    def from_universe(
        cls, universe, metal: str | None = None, cation: str | None = None, type_map: list[str] | None = None
    ) -> "Roles":
        """Pick atoms by element; ``type_map`` (the data file's) names elements even with 0 atoms."""
        try:
            elements = np.asarray(universe.atoms.elements).astype(str)
        except Exception:
            raise InputError("the topology gives no elements; use a data file with a type map") from None
        named = list(type_map) if type_map else sorted(set(elements))
        metal = metal or _pick(named, FCC_LATTICE_CONSTANT_A, "metal")
        cation = cation or _pick(named, CATIONS, "cation", default="Na")
        for element, key in ((metal, "--metal"), (cation, "--cation")):
            if element not in named and not (key == "--cation" and not type_map and element not in elements):
                raise InputError(
                    f"element '{element}' is not named by the topology", key=key, allowed=", ".join(named)
                )
        roles = cls(
            str(metal),
            str(cation),
            np.flatnonzero(elements == metal),
            np.flatnonzero(elements == "O"),
            np.flatnonzero(elements == "H"),
            np.flatnonzero(elements == cation),
        )
        if len(roles.metal) == 0:
            raise InputError(f"no {metal} atoms in the topology", key="--metal", allowed=", ".join(named))
        if len(roles.oxygen) == 0 or len(roles.hydrogen) == 0:
            raise InputError("no water (O and H atoms) in the topology", allowed="a system with water")
        return roles


def _pick(present: list[str], allowed, what: str, default: str | None = None) -> str:
    found = [e for e in present if e in allowed]
    if len(found) == 1:
        return found[0]
    if not found and default is not None:
        return default
    raise InputError(
        f"cannot tell the {what} element from {present}", key=f"--{what}", allowed=", ".join(allowed)
    )


@dataclass
class InterfaceFrames:
    """One interface of a chunk: its plane, normal sign and per-species bins/distances."""

    name: str
    sign: int
    plane: np.ndarray
    bins: dict[str, np.ndarray] = field(default_factory=dict)
    dist: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Chunk:
    """Frames of one block, ready for the kernels."""

    block: int
    lengths: np.ndarray  # (nf, 3) Å
    area: np.ndarray  # (nf,) Å^2
    oxygen: np.ndarray  # (nf, nO, 3)
    hydrogen: np.ndarray
    cation: np.ndarray
    planes: Planes
    interfaces: list[InterfaceFrames]

    @property
    def n_frames(self) -> int:
        return len(self.area)


class ChunkedAnalysis(AnalysisBase):
    """AnalysisBase over chunks of frames; subclasses list their kernels.

    A kernel class has a ``name`` and is made with ``cls(analysis)`` in ``_prepare``;
    ``self.kernels`` maps each name to its kernel, and every chunk goes through
    each kernel's ``accumulate(chunk)`` in ``kernel_classes`` order.
    """

    kernel_classes: tuple = ()

    def __init__(
        self,
        atomgroup,
        *,
        metal: str | None = None,
        cation: str | None = None,
        type_map: list[str] | None = None,
        dz_A: float = 0.1,
        n_blocks: int = 5,
        geometry: str = "slab",
        layer_gap_A: float = DEFAULT_LAYER_GAP_A,
        chunk_frames: int = 64,
        compiled: bool = True,
        **kwargs,
    ) -> None:
        universe = atomgroup.universe
        super().__init__(universe.trajectory, **kwargs)
        if geometry not in GEOMETRIES:
            raise InputError(f"unknown geometry '{geometry}'", key="--geometry", allowed=", ".join(GEOMETRIES))
        if not dz_A > 0:
            raise InputError("bin width must be positive", key="--dz", allowed="> 0 Å")
        if n_blocks < 2:
            raise InputError("at least 2 blocks are needed for errors", key="--blocks", allowed=">= 2")
        self.universe = universe
        self.roles = Roles.from_universe(universe, metal, cation, type_map)
        self.dz_A = float(dz_A)
        self.n_blocks = int(n_blocks)
        self.geometry = geometry
        self.layer_gap_A = float(layer_gap_A)
        self.chunk_frames = int(chunk_frames)
        #: numba loops for the hot paths; False runs the reference numpy code (same results)
        self.compiled = bool(compiled)
        r = self.roles
        self._sel = {k: _as_index(v) for k, v in (("M", r.metal), ("O", r.oxygen), ("H", r.hydrogen), ("C", r.cation))}
        self._gather_index = {k: np.ascontiguousarray(v, dtype=np.intp) for k, v in (("O", r.oxygen), ("H", r.hydrogen), ("C", r.cation))}

    @property
    def interface_names(self) -> list[str]:
        return ["top", "bottom"] if self.geometry == "sandwich" else ["top"]

    # -- AnalysisBase contract -------------------------------------------------
    def _prepare(self) -> None:
        n = self.universe.atoms.n_atoms
        self._buffer = np.empty((self.chunk_frames, n, 3), dtype=np.float32)
        self._boxes = np.empty((self.chunk_frames, 6), dtype=np.float64)
        self._n_buffered = 0
        self._buffer_block = 0
        self.grid: ProfileGrid | None = None
        self.block_frames = np.zeros(self.n_blocks, dtype=np.int64)
        self._plane_sums = np.zeros(2)  # Σ thickness, Σ n_layers
        self._layers_range = [np.iinfo(np.int64).max, 0]
        # metal layers followed from frame to frame by the compiled surface search (labels, unwrapped z, count)
        n_metal = len(self.roles.metal)
        self._layer_state = (np.zeros(n_metal, dtype=np.int64), np.zeros(n_metal), np.zeros(1, dtype=np.int64))
        #: frames whose metal layers had to be found again by sorting (the rest kept the last frame's)
        self.layer_sorts = 0
        self.kernels = {cls.name: cls(self) for cls in self.kernel_classes}
        if self.n_frames < self.n_blocks:
            raise InputError(
                f"{self.n_frames} frames selected; block errors need at least {self.n_blocks}",
                key="--start/--stop/--step",
            )

    def _compute(self, indexed_frames: np.ndarray, verbose: bool | None = None, *, progressbar_kwargs=None):
        """Read evenly spaced DCD frames in chunks (no per-frame Python); else AnalysisBase's frame loop.

        Same chunks as the frame loop (``chunk_frames`` frames, never across
        blocks), so both paths give identical sums. This overrides MDAnalysis's
        private ``_compute`` and reads the DCD reader's private ``_file``:
        pyproject.toml pins MDAnalysis to the versions this was verified with.
        """
        frames = np.asarray(indexed_frames[:, 1], dtype=np.int64)
        reader = self._trajectory
        step = _even_step(frames)
        if verbose or step is None or not _reads_dcd_chunks(reader):
            self.read_path = "frame loop"
            return super()._compute(indexed_frames, verbose, progressbar_kwargs=progressbar_kwargs)
        self._prepare_sliced_trajectory(slicer=frames)
        self._prepare()
        n = len(frames)
        if n == 0:
            return self
        header = reader._file.header
        self.frames[:] = frames
        self.times[:] = (frames + header["istart"] / header["nsavc"]) * reader.ts.dt
        blocks = np.minimum(np.arange(n) * self.n_blocks // max(n, 1), self.n_blocks - 1)
        cells = _DcdCells()
        mapped = DcdFrames.from_reader(reader, self.chunk_frames)
        #: how the frames were read: straight into a buffer, or through MDAnalysis's DCD readframes
        self.read_path = "DCD chunks (direct)" if mapped is not None else "DCD chunks (MDAnalysis readframes)"
        try:
            lo = 0
            while lo < n:
                block = int(blocks[lo])
                hi = min(lo + self.chunk_frames, int(np.searchsorted(blocks, block, side="right")))
                xyz, unitcell = _read_dcd_chunk(reader, mapped, int(frames[lo]), int(frames[hi - 1]) + 1, step)
                self._process(xyz, cells.dimensions(unitcell), block)
                lo = hi
        finally:
            if mapped is not None:
                mapped.close()
            reader.rewind()
        self._ts = reader.ts
        return self

    def _single_frame(self) -> None:
        block = block_of_frame(self._frame_index, self.n_frames, self.n_blocks)
        if self._n_buffered and (block != self._buffer_block or self._n_buffered == self.chunk_frames):
            self._flush()
        self._buffer_block = block
        i = self._n_buffered
        self._buffer[i] = self._ts.positions
        dims = self._ts.dimensions
        if dims is None:
            raise InputError(f"frame {self._ts.frame} has no periodic cell", key="dimensions")
        self._boxes[i] = dims
        self._n_buffered += 1

    def _conclude(self) -> None:
        if self._n_buffered:
            self._flush()
        self._conclude_kernels()

    def _conclude_kernels(self) -> None:
        """Subclasses turn the kernels' sums into ``self.results``."""

    def plane_stats(self) -> dict:
        """Mean slab thickness (top minus bottom layer, Å) and the layer counts seen."""
        n = max(int(self.block_frames.sum()), 1)
        return {
            "mean_thickness_A": float(self._plane_sums[0] / n),
            "mean_n_layers": float(self._plane_sums[1] / n),
            "n_layers_min": self._layers_range[0],
            "n_layers_max": self._layers_range[1],
            "frames_sorted": self.layer_sorts,
        }

    # -- chunk processing ------------------------------------------------------
    def _flush(self) -> None:
        nf = self._n_buffered
        self._n_buffered = 0
        self._process(_components(self._buffer[:nf]), self._boxes[:nf], self._buffer_block)

    def _process(self, xyz: tuple[np.ndarray, ...], boxes: np.ndarray, block: int) -> None:
        """Run every kernel on frames ``xyz`` (x, y, z, each (nf, atoms)) with cells ``boxes`` (nf, 6) of one block."""
        nf = len(boxes)
        chunk = self._make_chunk(xyz, boxes, block)
        self.block_frames[chunk.block] += nf
        layers = chunk.planes.n_layers
        self._plane_sums += (chunk.planes.thickness.sum(), layers.sum())
        self._layers_range = [min(self._layers_range[0], int(layers.min())), max(self._layers_range[1], int(layers.max()))]
        for kernel in self.kernels.values():
            kernel.accumulate(chunk)

    def _planes(self, z_metal: np.ndarray, lz: np.ndarray) -> Planes:
        if not self.compiled:
            self.layer_sorts += len(lz)
            return metal_planes(z_metal, lz, self.layer_gap_A)
        # start-up time: numba, only when the compiled kernels are used
        from elbench.analysis import _kernels

        nf = len(lz)
        top, bottom, layers = np.empty(nf), np.empty(nf), np.empty(nf, dtype=np.int64)
        labels, zu, state = self._layer_state
        self.layer_sorts += _kernels.metal_planes(
            np.ascontiguousarray(z_metal), lz, self.layer_gap_A, labels, zu, state, top, bottom, layers
        )
        return Planes(top, bottom, layers)

    def _bins(self, xyz: np.ndarray, plane: np.ndarray, sign: int, lz: np.ndarray) -> np.ndarray:
        """Bin of each atom's distance from the plane (compiled loop; numpy when ``compiled`` is off)."""
        if not self.compiled:
            return _bins_numpy(self.grid, xyz, plane, sign, lz)
        # start-up time: numba, only when the compiled kernels are used
        from elbench.analysis._kernels import distance_bins

        z = np.ascontiguousarray(xyz[:, :, 2])
        out = np.empty(z.shape, dtype=np.intp)
        g = self.grid
        return distance_bins(z, plane, float(sign), lz, g.edge0, g.dz, g.n_bins, out)

    def _make_chunk(self, xyz: tuple[np.ndarray, ...], boxes: np.ndarray, block: int) -> Chunk:
        if np.any(np.abs(boxes[:, 3:] - 90.0) > 1e-3):
            raise InputError("triclinic cells are not supported", key="cell angles", allowed="orthorhombic cells")
        lengths = boxes[:, :3].copy()
        if np.any(lengths <= 0):
            raise InputError("a frame has no periodic cell (zero box length)", key="dimensions")
        lz = lengths[:, 2]
        planes = self._planes(xyz[2][:, self._sel["M"]], lz)
        if self.grid is None:
            self.grid = ProfileGrid.for_cell(self.dz_A, float(lz[0]), float(planes.thickness[0]))
        faces = [(name, *((1, planes.z_top) if name == "top" else (-1, planes.z_bottom))) for name in self.interface_names]
        interfaces = [InterfaceFrames(name, sign, plane) for name, sign, plane in faces]
        if self.compiled:
            oxygen, hydrogen, cation = self._gather_bins_compiled(xyz, faces, lz, interfaces)
        else:
            # contiguous (nf, n, 3) copies: the kernels gather from these many times
            oxygen, hydrogen, cation = (np.stack([c[:, self._sel[k]] for c in xyz], axis=-1) for k in "OHC")
            for face in interfaces:
                for key, xyz in (("O", oxygen), ("H", hydrogen), ("C", cation)):
                    face.bins[key] = self._bins(xyz, face.plane, face.sign, lz)
        return Chunk(block, lengths, lengths[:, 0] * lengths[:, 1], oxygen, hydrogen, cation, planes, interfaces)

    def _gather_bins_compiled(self, xyz, faces, lz, interfaces):
        """O, H and cation copies and their bins per face in one compiled pass per species."""
        # start-up time: numba, only when the compiled kernels are used
        from elbench.analysis._kernels import gather_bins

        x, y, z = xyz
        nf, g = len(lz), self.grid
        planes = np.ascontiguousarray(np.array([plane for _, _, plane in faces], dtype=np.float64).reshape(len(faces), nf))
        signs = np.array([float(sign) for _, sign, _ in faces])
        out = []
        for key in ("O", "H", "C"):
            idx = self._gather_index[key]
            copy = np.empty((nf, len(idx), 3), dtype=z.dtype)
            bins = np.empty((len(faces), nf, len(idx)), dtype=np.intp)
            gather_bins(x, y, z, idx, planes, signs, lz, g.edge0, g.dz, g.n_bins, copy, bins)
            for s, face in enumerate(interfaces):
                face.bins[key] = bins[s]
            out.append(copy)
        return out


def _components(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y and z views (nf, atoms) of positions (nf, atoms, 3)."""
    return pos[..., 0], pos[..., 1], pos[..., 2]


def _read_dcd_chunk(reader, mapped: DcdFrames | None, lo: int, hi: int, step: int):
    """Frames ``lo:hi:step`` as (x, y, z) views and raw DCD cells: read into ``mapped``'s buffer, else MDAnalysis's readframes."""
    if mapped is not None:
        try:
            got = mapped.block(lo, hi, step)
            return (got.x, got.y, got.z), got.unitcell
        except ValueError:
            pass  # records not where the header puts them: let MDAnalysis read (or reject) these frames
    try:
        got = reader._file.readframes(lo, hi, step, order="fac")
    except OSError as err:
        raise InputError(f"cannot read DCD frames {lo}..{hi - 1}: {err} (corrupt file?)", file=reader.filename) from None
    return _components(got.xyz), got.unitcell


def _even_step(frames: np.ndarray) -> int | None:
    """The step of evenly spaced increasing frame numbers, else None."""
    if len(frames) < 2:
        return 1
    step = int(frames[1] - frames[0])
    return step if step > 0 and np.all(np.diff(frames) == step) else None


def _reads_dcd_chunks(reader) -> bool:
    """A plain MDAnalysis DCD reader in Å (no unit conversion, no on-the-fly transformations)."""
    from MDAnalysis.coordinates.DCD import DCDReader

    return (
        plain_reader_class(reader) is DCDReader
        and not getattr(reader, "_transformations", None)
        and reader.units.get("length") == "Angstrom"
        and not getattr(reader, "_auxs", None)
    )


class _DcdCells:
    """:func:`_dcd_dimensions` that converts a fixed cell (NVT) once, not once per chunk."""

    def __init__(self) -> None:
        self._raw: np.ndarray | None = None
        self._dims: np.ndarray | None = None

    def dimensions(self, unitcell: np.ndarray) -> np.ndarray:
        if self._raw is not None and np.all(unitcell == self._raw):
            return np.broadcast_to(self._dims, (len(unitcell), 6))
        dims = _dcd_dimensions(unitcell)
        if np.all(dims == dims[0]):
            self._raw, self._dims = unitcell[0].copy(), dims[0]
        return dims


def _dcd_dimensions(unitcell: np.ndarray) -> np.ndarray:
    """MDAnalysis's per-frame DCD cell conversion (``DCDReader._frame_to_ts``) for many frames.

    Raw ``[A, gamma, B, beta, alpha, C]`` → ``[A, B, C, alpha, beta, gamma]`` in
    float32 (as ``Timestep.dimensions`` stores it), returned as float64.
    """
    from MDAnalysis.lib.mdamath import triclinic_box

    uc = np.take(unitcell, [0, 2, 5, 4, 3, 1], axis=1).astype(np.float64)
    angles = uc[:, 3:]
    cosines = np.all((angles >= -1.0) & (angles <= 1.0), axis=1)
    uc[cosines, 3:] = 90.0 - np.arcsin(angles[cosines]) * 90.0 / (np.pi / 2)
    matrix = ~cosines & (np.any(uc < 0.0, axis=1) | np.any(uc[:, 3:] > 180.0, axis=1))
    for f in np.flatnonzero(matrix):
        h = unitcell[f]
        uc[f] = triclinic_box(h[[0, 1, 3]], h[[1, 2, 4]], h[[3, 4, 5]])
    return uc.astype(np.float32).astype(np.float64)


def _bins_numpy(grid: ProfileGrid, xyz: np.ndarray, plane, sign: int, lz) -> np.ndarray:
    return grid.bins(grid.distances(xyz[:, :, 2].astype(np.float64), plane, sign, lz))


def frame_weighted_hist(bins: np.ndarray, weights_per_frame: np.ndarray, n_bins: int, values=None) -> np.ndarray:
    """Σ_frames w_f · histogram_f(bins) (optionally of ``values``), with bins (nf, n)."""
    nf = bins.shape[0]
    w = weights_per_frame
    if nf == 1 or np.all(w == w[0]):
        h = np.bincount(bins.ravel(), weights=None if values is None else values.ravel(), minlength=n_bins)
        return h[:n_bins] * w[0]
    flat = (bins + (np.arange(nf) * n_bins)[:, None]).ravel()
    h = np.bincount(flat, weights=None if values is None else values.ravel(), minlength=nf * n_bins)
    return (h.reshape(nf, n_bins) * w[:, None]).sum(axis=0)
