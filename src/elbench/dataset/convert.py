"""Converters from elbench's extxyz to each MLIP family's training format, and back.

Formats (each written by elbench itself, float64 throughout, so a round trip
extxyz -> format -> extxyz preserves energies and forces exactly):

* ``deepmd`` (dp, dp-mp): the deepmd/npy layout, one system directory per atom
  ordering: ``type.raw`` (type index per atom), ``type_map.raw`` (the full
  [metal, O, H, cation] map, so every system shares one type map even without
  cations), ``set.000/{coord,energy,force,box,virial}.npy``. Virial in eV,
  ``virial = -stress * volume`` (deepmd's convention).
* ``mace``: extxyz with ``REF_energy``/``REF_forces``/``REF_stress`` (pass
  ``--energy_key REF_energy --forces_key REF_forces --stress_key REF_stress``).
* ``fairchem``: extxyz whose labels are ASE calculator results
  (``energy``/``forces``/``stress``), which fairchem's ASE datasets read through
  ``atoms.get_potential_energy()``.
* ``pacemaker`` (ace) and ``grace``: a gzip-pickled pandas DataFrame with columns
  ``ase_atoms``, ``energy``, ``energy_corrected`` (= energy; no per-element
  shift), ``forces`` (eV/Å); ``grace`` also ``stress`` (Voigt-6, eV/Å³, ASE
  sign) when the frames have it. Both read it with ``pd.read_pickle(..., compression="gzip")``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from elbench.dataset.frames import (CHARGE_KEY, ENERGY_KEY, FORCES_KEY, STRESS_KEY, frame_stress, read_frames,
                                    write_frames)
from elbench.engines.select import env_python
from elbench.errors import InputError, RunError
from elbench.io import atomic_path

#: Training-data formats (each family spec's ``training.data_format`` names one).
FORMATS = ("deepmd", "mace", "fairchem", "pacemaker", "grace")


def _voigt(stress: np.ndarray) -> np.ndarray:
    return np.array([stress[0, 0], stress[1, 1], stress[2, 2], stress[1, 2], stress[0, 2], stress[0, 1]])


def _stress_from_voigt(v: np.ndarray) -> np.ndarray:
    xx, yy, zz, yz, xz, xy = np.asarray(v, dtype=float)
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


def _labelled(atoms: Atoms, energy: float, forces: np.ndarray, stress: np.ndarray | None, cation: str | None) -> Atoms:
    out = Atoms(symbols=atoms.get_chemical_symbols(), positions=atoms.positions, cell=atoms.cell, pbc=True)
    out.info[ENERGY_KEY] = float(energy)
    out.arrays[FORCES_KEY] = np.array(forces, dtype=float).reshape(len(out), 3)
    if stress is not None:
        out.info[STRESS_KEY] = np.asarray(stress, dtype=float).reshape(3, 3)
    if cation is not None:
        out.info[CHARGE_KEY] = int(sum(1 for s in out.get_chemical_symbols() if s == cation))
    return out


# ---------------------------------------------------------------- deepmd/npy
def write_deepmd(frames: list[Atoms], out_dir: str | Path, type_map: list[str]) -> list[Path]:
    """One deepmd/npy system per distinct atom ordering; returns the system directories."""
    out_dir = Path(out_dir)
    systems: dict[tuple[str, ...], list[Atoms]] = {}
    for atoms in frames:
        systems.setdefault(tuple(atoms.get_chemical_symbols()), []).append(atoms)
    written = []
    for index, (symbols, group) in enumerate(systems.items()):
        missing = sorted(set(symbols) - set(type_map))
        if missing:
            raise InputError(f"elements {missing} are not in the type map {type_map}", key="type_map")
        n = sum(1 for s in symbols if s == type_map[-1])
        sys_dir = out_dir / f"sys{index:03d}_q{n}_N{len(symbols)}"
        set_dir = sys_dir / "set.000"
        set_dir.mkdir(parents=True, exist_ok=True)
        types = np.array([type_map.index(s) for s in symbols], dtype=int)
        (sys_dir / "type.raw").write_text("".join(f"{t}\n" for t in types))
        (sys_dir / "type_map.raw").write_text("".join(f"{e}\n" for e in type_map))
        np.save(set_dir / "coord.npy", np.array([a.positions.ravel() for a in group], dtype=np.float64))
        np.save(set_dir / "box.npy", np.array([np.asarray(a.cell).ravel() for a in group], dtype=np.float64))
        np.save(set_dir / "energy.npy", np.array([a.info[ENERGY_KEY] for a in group], dtype=np.float64))
        np.save(set_dir / "force.npy", np.array([np.asarray(a.arrays[FORCES_KEY]).ravel() for a in group], dtype=np.float64))
        stresses = [frame_stress(a) for a in group]
        if all(s is not None for s in stresses):
            virial = [(-s * a.get_volume()).ravel() for s, a in zip(stresses, group)]
            np.save(set_dir / "virial.npy", np.array(virial, dtype=np.float64))
        written.append(sys_dir)
    return written


def read_deepmd(out_dir: str | Path, cation: str | None = None) -> list[Atoms]:
    """Frames of every deepmd/npy system under out_dir (sorted by directory name)."""
    frames = []
    for sys_dir in sorted(p.parent for p in Path(out_dir).glob("**/type.raw")):
        type_map = (sys_dir / "type_map.raw").read_text().split()
        types = [int(t) for t in (sys_dir / "type.raw").read_text().split()]
        symbols = [type_map[t] for t in types]
        for set_dir in sorted(sys_dir.glob("set.*")):
            coord = np.load(set_dir / "coord.npy")
            box = np.load(set_dir / "box.npy")
            energy = np.load(set_dir / "energy.npy")
            force = np.load(set_dir / "force.npy")
            virial = np.load(set_dir / "virial.npy") if (set_dir / "virial.npy").is_file() else None
            for i in range(len(energy)):
                atoms = Atoms(symbols=symbols, positions=coord[i].reshape(-1, 3), cell=box[i].reshape(3, 3), pbc=True)
                stress = None if virial is None else -virial[i].reshape(3, 3) / atoms.get_volume()
                frames.append(_labelled(atoms, energy[i], force[i], stress, cation or type_map[-1]))
    return frames


# ---------------------------------------------------------------- extxyz flavours
def write_mace(frames: list[Atoms], path: str | Path) -> Path:
    return write_frames(path, frames)


def read_mace(path: str | Path) -> list[Atoms]:
    return read_frames(path)


def write_fairchem(frames: list[Atoms], path: str | Path) -> Path:
    """extxyz with calculator results (energy, forces, stress) as fairchem's ASE datasets read them."""
    from ase.io import write

    out = []
    for atoms in frames:
        copy = Atoms(symbols=atoms.get_chemical_symbols(), positions=atoms.positions, cell=atoms.cell, pbc=True)
        copy.info[CHARGE_KEY] = int(atoms.info.get(CHARGE_KEY, 0))
        results = {"energy": float(atoms.info[ENERGY_KEY]), "forces": np.asarray(atoms.arrays[FORCES_KEY], dtype=float)}
        stress = frame_stress(atoms)
        if stress is not None:
            results["stress"] = _voigt(stress)
        copy.calc = SinglePointCalculator(copy, **results)
        out.append(copy)
    with atomic_path(path) as tmp:
        write(tmp, out, format="extxyz")
    return Path(path)


def read_fairchem(path: str | Path, cation: str | None = None) -> list[Atoms]:
    from ase.io import read

    frames = []
    for atoms in read(path, index=":", format="extxyz"):
        stress = atoms.calc.results.get("stress") if atoms.calc else None
        frames.append(_labelled(atoms, atoms.get_potential_energy(), atoms.get_forces(),
                                None if stress is None else _stress_from_voigt(stress), cation or "Na"))
    return frames


# ---------------------------------------------------------------- pandas (pacemaker, GRACE)
def write_dataframe(frames: list[Atoms], path: str | Path, with_stress: bool = False) -> Path:
    """A gzip-pickled DataFrame as pacemaker and gracemaker read it."""
    import pandas as pd

    rows = []
    for atoms in frames:
        bare = Atoms(symbols=atoms.get_chemical_symbols(), positions=atoms.positions, cell=atoms.cell, pbc=True)
        energy = float(atoms.info[ENERGY_KEY])
        row = {"ase_atoms": bare, "energy": energy, "energy_corrected": energy,
               "forces": np.asarray(atoms.arrays[FORCES_KEY], dtype=np.float64), CHARGE_KEY: int(atoms.info.get(CHARGE_KEY, 0))}
        stress = frame_stress(atoms)
        if with_stress and stress is not None:
            row["stress"] = _voigt(stress)
        rows.append(row)
    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_pickle(tmp, compression="gzip")
    return Path(path)


def read_dataframe(path: str | Path, cation: str | None = None) -> list[Atoms]:
    import pandas as pd

    df = pd.read_pickle(path, compression="gzip")
    frames = []
    for _, row in df.iterrows():
        stress = _stress_from_voigt(row["stress"]) if "stress" in df.columns and row["stress"] is not None else None
        frames.append(_labelled(row["ase_atoms"], row["energy"], row["forces"], stress, cation or "Na"))
    return frames


# ---------------------------------------------------------------- dispatch
def write_format(fmt: str, frames: list[Atoms], out: str | Path, type_map: list[str]) -> Path:
    """Write one split in one format; returns the path a training config points at."""
    out = Path(out)
    if fmt == "deepmd":
        write_deepmd(frames, out, type_map)
        return out
    if fmt == "mace":
        return write_mace(frames, out.with_suffix(".extxyz"))
    if fmt == "fairchem":
        return write_fairchem(frames, out.with_suffix(".extxyz"))
    if fmt == "pacemaker":
        return write_dataframe(frames, out.with_suffix(".pkl.gz"), with_stress=False)
    if fmt == "grace":
        return write_dataframe(frames, out.with_suffix(".pkl.gz"), with_stress=True)
    raise InputError(f"unknown format '{fmt}'", key="format", allowed=", ".join(FORMATS))


def read_format(fmt: str, path: str | Path, cation: str) -> list[Atoms]:
    if fmt == "deepmd":
        return read_deepmd(path, cation)
    if fmt == "mace":
        return read_mace(path)
    if fmt == "fairchem":
        return read_fairchem(path, cation)
    if fmt in ("pacemaker", "grace"):
        return read_dataframe(path, cation)
    raise InputError(f"unknown format '{fmt}'", key="format", allowed=", ".join(FORMATS))


def write_dataframe_in_env(src: Path, out: Path, with_stress: bool, environment: str) -> Path:
    """Write the DataFrame with the pandas of the environment that will read it.

    A pickled DataFrame is tied to its pandas version (pandas 3 pickles do not load in
    pandas 2), so pacemaker's and gracemaker's files are written by their own env.
    """
    import subprocess

    argv = [str(env_python(environment)), "-m", "elbench.dataset.convert", "dataframe", str(src), str(out)]
    if with_stress:
        argv.append("--stress")
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RunError(f"writing {out} in the '{environment}' environment failed: {proc.stderr.strip()[-400:]}")
    return out


def convert_splits(split_dir: str | Path, fmt: str, type_map: list[str], set_name: str, out_dir: str | Path,
                   environment: str | None = None) -> dict[str, Path]:
    """Convert split_dir/<set>/{train,valid,test}.extxyz to out_dir/<part>[.ext] in one format.

    With ``environment`` (an existing family env), pandas formats are written by that env's pandas.
    """
    paths = {}
    for part in ("train", "valid", "test"):
        src = Path(split_dir) / set_name / f"{part}.extxyz"
        if not src.is_file():
            continue
        if fmt in ("pacemaker", "grace") and environment and Path(env_python(environment)).exists():
            out = Path(out_dir) / f"{part}.pkl.gz"
            out.parent.mkdir(parents=True, exist_ok=True)
            paths[part] = write_dataframe_in_env(src, out, fmt == "grace", environment)
        else:
            paths[part] = write_format(fmt, read_frames(src), Path(out_dir) / part, type_map)
    if "train" not in paths:
        raise InputError(f"no training split for set '{set_name}'", file=Path(split_dir) / set_name, key="train")
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m elbench.dataset.convert dataframe IN.extxyz OUT.pkl.gz [--stress]`` (run in a family env)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[0] != "dataframe":
        print("usage: python -m elbench.dataset.convert dataframe IN.extxyz OUT.pkl.gz [--stress]", file=sys.stderr)
        return 2

    write_dataframe(read_frames(args[1]), args[2], with_stress="--stress" in args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
