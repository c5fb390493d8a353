"""Import DFT (or other) labelled data: VASP OUTCAR / vasprun.xml through ASE, extxyz.

Energies are taken as the total energy the file reports (VASP: ASE's
``energy``, i.e. free energy TOTEN unless ``--vasp-energy sigma0``), forces per
atom, stress in ASE's convention. Atoms are re-ordered into elbench's order
(metal, then waters O,H,H as found by nearest-O assignment, then cations) only
when ``reorder=True``; by default the file's order is kept (training formats do
not need elbench's order; labelling and MD data files do).

The charge state is the cation count; a declared ``--charge-state`` that does
not match it is an error (naming the file and frame).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms

from elbench.dataset.frames import CHARGE_KEY, ENERGY_KEY, FORCES_KEY, STRESS_KEY, cation_count, infer_species
from elbench.dataset.units import convert_units
from elbench.errors import InputError

IMPORT_FORMATS = ("auto", "extxyz", "vasp-out", "vasp-xml")


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".extxyz", ".xyz")):
        return "extxyz"
    if "outcar" in name:
        return "vasp-out"
    if name.endswith(".xml") or "vasprun" in name:
        return "vasp-xml"
    raise InputError("cannot tell the file format from its name", file=path, key="format",
                     allowed="*.extxyz/*.xyz, OUTCAR*, vasprun*.xml, or pass --format")


def _from_calculator(atoms: Atoms, index: int, path: Path) -> Atoms:
    calc = atoms.calc
    if calc is None or "energy" not in calc.results or "forces" not in calc.results:
        raise InputError(f"frame {index} has no energy and forces (unlabelled frame)", file=path, key="energy/forces")
    out = Atoms(symbols=atoms.get_chemical_symbols(), positions=atoms.positions, cell=atoms.cell, pbc=True)
    out.info.update({k: v for k, v in atoms.info.items() if k in (CHARGE_KEY,)})
    out.info[ENERGY_KEY] = float(calc.results["energy"])
    out.arrays[FORCES_KEY] = np.asarray(calc.results["forces"], dtype=float)
    if "stress" in calc.results and calc.results["stress"] is not None:
        s = np.asarray(calc.results["stress"], dtype=float).ravel()
        if s.size == 6:
            xx, yy, zz, yz, xz, xy = s
            s = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        out.info[STRESS_KEY] = s.reshape(3, 3)
    return out


def _read_extxyz(path: Path, energy_key: str, forces_key: str, stress_key: str) -> list[Atoms]:
    from ase.io import read

    try:
        images = read(path, index=":", format="extxyz")
    except Exception as err:
        raise InputError(f"cannot read as extxyz: {err}", file=path) from None
    frames = []
    for index, atoms in enumerate(images):
        if energy_key in atoms.info and forces_key in atoms.arrays:
            out = atoms.copy()
            out.calc = None
            out.info = {k: v for k, v in atoms.info.items() if k == CHARGE_KEY}
            out.arrays = {k: v for k, v in atoms.arrays.items() if k in ("numbers", "positions")}
            out.info[ENERGY_KEY] = float(atoms.info[energy_key])
            out.arrays[FORCES_KEY] = np.asarray(atoms.arrays[forces_key], dtype=float)
            if stress_key in atoms.info:
                out.info[STRESS_KEY] = np.asarray(atoms.info[stress_key], dtype=float)
            frames.append(out)
        elif atoms.calc is not None:
            frames.append(_from_calculator(atoms, index, path))
        else:
            raise InputError(f"frame {index} has no '{energy_key}'/'{forces_key}' labels (unlabelled frame)",
                             file=path, key=energy_key, allowed="--energy-key/--forces-key naming the labels")
    return frames


def _read_vasp(path: Path, fmt: str) -> list[Atoms]:
    from ase.io import read

    ase_fmt = "vasp-out" if fmt == "vasp-out" else "vasp-xml"
    try:
        images = read(path, index=":", format=ase_fmt)
    except Exception as err:
        raise InputError(f"cannot read as {ase_fmt}: {err}", file=path) from None
    return [_from_calculator(a, i, path) for i, a in enumerate(images)]


def import_file(
    path: str | Path,
    *,
    fmt: str = "auto",
    charge_state: int | None = None,
    energy_key: str = "REF_energy",
    forces_key: str = "REF_forces",
    stress_key: str = "REF_stress",
    energy_unit: str = "eV",
    force_unit: str = "eV/A",
    stress_unit: str = "eV/A3",
) -> list[Atoms]:
    """Labelled frames from one file, converted to eV / eV/Å / eV/Å³, charge state set and checked."""
    path = Path(path)
    if not path.is_file():
        raise InputError("input file not found", file=path)
    if fmt not in IMPORT_FORMATS:
        raise InputError(f"unknown format '{fmt}'", key="format", allowed=", ".join(IMPORT_FORMATS))
    fmt = detect_format(path) if fmt == "auto" else fmt
    frames = _read_extxyz(path, energy_key, forces_key, stress_key) if fmt == "extxyz" else _read_vasp(path, fmt)
    if not frames:
        raise InputError("no frames in file", file=path)
    _, cation = infer_species(frames, path)
    convert_units(frames, energy_unit, force_unit, stress_unit)
    for index, atoms in enumerate(frames):
        n = cation_count(atoms, cation)
        declared = charge_state if charge_state is not None else atoms.info.get(CHARGE_KEY)
        if declared is not None and int(declared) != n:
            raise InputError(
                f"frame {index} has {n} {cation} cations but charge state {declared} was declared",
                file=path, key=CHARGE_KEY, allowed="the number of cations in the frame",
            )
        atoms.info[CHARGE_KEY] = n
        atoms.info["source"] = f"{path.name}:{index}"
    return frames
