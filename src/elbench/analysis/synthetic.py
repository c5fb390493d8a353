"""Synthetic metal/water/cation frames whose observables are known exactly.

Used by the tests (fixed orientations, uniform slabs, isotropic waters, shifted
frames, sandwich cells) and the analysis benchmark. Waters are rigid SPC-like
(O–H 1.0 Å, H–O–H 109.47°) placed from an O position, a unit dipole direction
and a second direction fixing the molecular plane.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from elbench.elements import mass_amu
from elbench.type_map import header_line

OH_A = 1.0
HOH_DEG = 109.47


def metal_slab(metal: str = "Au", size=(4, 4, 3), a_A: float = 4.078) -> tuple[np.ndarray, np.ndarray]:
    """Orthogonal fcc(111) slab positions (bottom layer at z = 0) and its (Lx, Ly)."""
    from ase.build import fcc111

    slab = fcc111(metal, size=size, a=a_A, orthogonal=True, vacuum=0.0)
    pos = slab.positions.copy()
    pos[:, 2] -= pos[:, 2].min()
    order = np.argsort(pos[:, 2], kind="stable")
    return pos[order], slab.cell.lengths()[:2]


def random_unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1)[:, None]


def water_hydrogens(oxygen: np.ndarray, dipole: np.ndarray, plane: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """H positions of waters with O at ``oxygen`` and unit dipole ``dipole`` (n, 3)."""
    dipole = dipole / np.linalg.norm(dipole, axis=1)[:, None]
    if plane is None:
        trial = np.where(np.abs(dipole[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
        plane = trial
    perp = plane - (plane * dipole).sum(axis=1)[:, None] * dipole
    perp /= np.linalg.norm(perp, axis=1)[:, None]
    half = np.radians(HOH_DEG / 2.0)
    h1 = oxygen + OH_A * (np.cos(half) * dipole + np.sin(half) * perp)
    h2 = oxygen + OH_A * (np.cos(half) * dipole - np.sin(half) * perp)
    return h1, h2


@dataclass
class SyntheticSystem:
    """Atoms in elbench order: metal, then O,H,H per water, then cations."""

    metal: str
    cation: str
    types: np.ndarray  # 1..4
    cell: np.ndarray  # (Lx, Ly, Lz)
    n_metal: int
    n_water: int
    n_cation: int

    @property
    def type_map(self) -> list[str]:
        return [self.metal, "O", "H", self.cation]

    @property
    def n_atoms(self) -> int:
        return len(self.types)

    def frame(self, metal: np.ndarray, oxygen: np.ndarray, dipole: np.ndarray, cation: np.ndarray, plane=None) -> np.ndarray:
        """Positions (n_atoms, 3) of one frame from its parts."""
        h1, h2 = water_hydrogens(oxygen, dipole, plane)
        pos = np.empty((self.n_atoms, 3))
        pos[: self.n_metal] = metal
        w = slice(self.n_metal, self.n_metal + 3 * self.n_water)
        water = pos[w].reshape(self.n_water, 3, 3)
        water[:, 0], water[:, 1], water[:, 2] = oxygen, h1, h2
        pos[self.n_metal + 3 * self.n_water :] = cation
        return pos


def make_system(metal: str, cation: str, n_metal: int, n_water: int, n_cation: int, cell) -> SyntheticSystem:
    types = np.concatenate(
        [np.full(n_metal, 1), np.tile([2, 3, 3], n_water), np.full(n_cation, 4)]
    ).astype(int)
    return SyntheticSystem(metal, cation, types, np.asarray(cell, dtype=float), n_metal, n_water, n_cation)


def write_data(path: str | Path, system: SyntheticSystem, positions: np.ndarray, atom_style: str = "atomic", header: bool = True) -> Path:
    """A LAMMPS data file with elbench's type-map header and Masses comments."""
    path = Path(path)
    lx, ly, lz = system.cell
    lines = ["LAMMPS data file: synthetic elbench test system", ""]
    if header:
        lines.insert(1, header_line(system.type_map))
    lines += [f"{system.n_atoms} atoms", "4 atom types", ""]
    lines += [f"0.0 {lx:.10f} xlo xhi", f"0.0 {ly:.10f} ylo yhi", f"0.0 {lz:.10f} zlo zhi", "", "Masses", ""]
    lines += [f"{t} {mass_amu(el):.6f} # {el}" for t, el in enumerate(system.type_map, start=1)]
    lines += ["", f"Atoms # {atom_style}", ""]
    charges = {1: 0.0, 2: -0.8476, 3: 0.4238, 4: 1.0}
    for i, (t, (x, y, z)) in enumerate(zip(system.types, positions), start=1):
        if atom_style == "atomic":
            lines.append(f"{i} {t} {x:.8f} {y:.8f} {z:.8f}")
        else:
            mol = 0 if t in (1, 4) else 1 + (i - 1 - system.n_metal) // 3
            lines.append(f"{i} {mol} {t} {charges[int(t)]} {x:.8f} {y:.8f} {z:.8f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_trajectory(path: str | Path, frames, cell, fmt: str | None = None, symbols: list[str] | None = None) -> Path:
    """Write frames (iterable of (n, 3)) with a constant orthorhombic cell (DCD/XTC/dump/extxyz)."""
    import MDAnalysis as mda

    path = Path(path)
    frames = list(frames) if not isinstance(frames, np.ndarray) else frames
    n = len(frames[0])
    dims = [*map(float, cell), 90.0, 90.0, 90.0]
    suffix = (fmt or path.suffix.lstrip(".")).lower()
    if suffix in ("lammpstrj", "dump", "custom"):
        with open(path, "w") as out:
            for step, pos in enumerate(frames):
                out.write(f"ITEM: TIMESTEP\n{step * 10}\nITEM: NUMBER OF ATOMS\n{n}\n")
                out.write("ITEM: BOX BOUNDS pp pp pp\n" + "".join(f"0.0 {c:.8f}\n" for c in cell))
                out.write("ITEM: ATOMS id type x y z\n")
                out.write("".join(f"{i + 1} 1 {x:.6f} {y:.6f} {z:.6f}\n" for i, (x, y, z) in enumerate(pos)))
        return path
    if suffix in ("extxyz", "xyz"):
        import ase.io
        from ase import Atoms

        atoms = [Atoms(symbols=symbols, positions=p, cell=cell, pbc=True) for p in frames]
        ase.io.write(path, atoms, format="extxyz")
        return path
    u = mda.Universe.empty(n, trajectory=True)
    with mda.Writer(str(path), n) as writer:
        for pos in frames:
            u.atoms.positions = pos
            u.dimensions = dims
            writer.write(u.atoms)
    return path


def vibrating_interface(
    n_frames: int,
    *,
    size=(6, 8, 4),
    water_layers: int = 10,
    n_cation: int = 4,
    vacuum_A: float = 15.0,
    seed: int = 0,
):
    """A benchmark-sized Au(111)/water/Na system moving like a liquid at short times.

    Waters sit on an offset lattice at ~1 g cm⁻³ (no overlaps), vibrate and drift
    around their sites (Ornstein–Uhlenbeck, 0.25 Å stationary spread, 100-frame memory;
    nearest O–O distances 2.4–3.0 Å as in liquid water) and librate
    (dipole directions wander by ~25°); metal atoms jiggle by 0.08 Å. Returns
    (system, metal positions, frame generator). Timings on it are realistic for
    reading and binning; how often the H→O assignment must be re-searched
    depends on real dynamics (see benchmarks/README.md).
    """
    rng = np.random.default_rng(seed)
    metal, (lx, ly) = metal_slab("Au", size=size)
    top = metal[:, 2].max()
    nx, ny = 5, 6
    dz = nx * ny / (lx * ly * 0.0334)
    sites = []
    for k in range(water_layers):
        off = 0.5 * (k % 2)
        gx, gy = np.meshgrid((np.arange(nx) + off) * lx / nx, (np.arange(ny) + off) * ly / ny, indexing="ij")
        sites.append(np.column_stack([gx.ravel(), gy.ravel(), np.full(gx.size, top + 3.0 + k * dz)]))
    sites = np.vstack(sites)
    n_w = len(sites)
    lz = top + 3.0 + water_layers * dz + vacuum_A
    cat_sites = np.column_stack([rng.uniform(0, lx, n_cation), rng.uniform(0, ly, n_cation), top + 4.0 + 6.0 * np.arange(n_cation)])
    system = make_system("Au", "Na", len(metal), n_w, n_cation, (lx, ly, lz))
    base = random_unit(rng, n_w)
    plane = random_unit(rng, n_w)

    def frames():
        drift = rng.normal(scale=0.25, size=(n_w, 3))
        lib = rng.normal(scale=0.255, size=(n_w, 3))
        cdrift = rng.normal(scale=0.25, size=(n_cation, 3))
        a_drift, a_lib = np.exp(-1 / 100.0), np.exp(-1 / 30.0)
        for _ in range(n_frames):
            drift[:] = a_drift * drift + np.sqrt(1 - a_drift**2) * rng.normal(scale=0.25, size=drift.shape)
            lib[:] = a_lib * lib + np.sqrt(1 - a_lib**2) * rng.normal(scale=0.255, size=lib.shape)
            cdrift[:] = a_drift * cdrift + np.sqrt(1 - a_drift**2) * rng.normal(scale=0.25, size=cdrift.shape)
            oxygen = sites + drift + rng.normal(scale=0.03, size=sites.shape)
            pos = system.frame(metal + rng.normal(scale=0.08, size=metal.shape), oxygen, base + lib, cat_sites + cdrift, plane)
            yield np.mod(pos, system.cell)

    return system, frames
