"""Labelled frames: the exchange format of every elbench dataset.

A dataset is a list of ASE ``Atoms`` in extxyz with the reference labels under
explicit keys (never the calculator's ``energy``/``forces``, which ASE silently
overwrites or drops):

* ``info["REF_energy"]``  total energy, eV
* ``arrays["REF_forces"]`` per-atom forces, eV/Å
* ``info["REF_stress"]``  3x3 stress, eV/Å³, ASE sign convention
  (stress = -virial / volume; positive under tension)
* ``info["charge_state"]`` number of cations n (surface charge -n e)

All frames of one dataset share one element order ``[metal, O, H, cation]``
(:func:`elbench.elements.system_type_map`); the cation may be absent (n = 0).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from elbench.elements import CATIONS, FCC_LATTICE_CONSTANT_A, system_type_map
from elbench.errors import InputError
from elbench.io import atomic_path

ENERGY_KEY = "REF_energy"
FORCES_KEY = "REF_forces"
STRESS_KEY = "REF_stress"
CHARGE_KEY = "charge_state"


@dataclass
class DatasetInfo:
    """What a validated list of frames contains."""

    metal: str
    cation: str
    type_map: list[str]
    n_frames: int
    per_charge_state: dict[int, int] = field(default_factory=dict)
    has_stress: bool = False

    def as_dict(self) -> dict:
        return {
            "metal": self.metal,
            "cation": self.cation,
            "type_map": self.type_map,
            "n_frames": self.n_frames,
            "per_charge_state": {str(k): v for k, v in sorted(self.per_charge_state.items())},
            "has_stress": self.has_stress,
        }


def read_frames(path: str | Path) -> list[Atoms]:
    """Read every frame of an extxyz file (InputError if missing, empty or unreadable)."""
    from ase.io import read

    path = Path(path)
    if not path.is_file():
        raise InputError("dataset file not found", file=path)
    try:
        frames = read(path, index=":", format="extxyz")
    except Exception as err:  # ASE raises many types for malformed files
        raise InputError(f"cannot read as extxyz: {err}", file=path) from None
    if not frames:
        raise InputError("no frames in file", file=path)
    return list(frames)


def write_frames(path: str | Path, frames: list[Atoms]) -> Path:
    """Write frames as extxyz atomically (labels under the REF_ keys, no calculator)."""
    from ase.io import write

    clean = [strip_calculator(a) for a in frames]
    with atomic_path(path) as tmp:
        write(tmp, clean, format="extxyz")
    return Path(path)


def strip_calculator(atoms: Atoms) -> Atoms:
    """A copy without calculator (labels live in info/arrays only)."""
    copy = atoms.copy()
    copy.calc = None
    return copy


def cation_count(atoms: Atoms, cation: str) -> int:
    return int(sum(1 for s in atoms.get_chemical_symbols() if s == cation))


def frame_stress(atoms: Atoms) -> np.ndarray | None:
    """3x3 stress (eV/Å³) or None; accepts Voigt-6 or 9 values."""
    value = atoms.info.get(STRESS_KEY)
    if value is None:
        return None
    arr = np.asarray(value, dtype=float).ravel()
    if arr.size == 9:
        return arr.reshape(3, 3)
    if arr.size == 6:
        xx, yy, zz, yz, xz, xy = arr
        return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    raise ValueError(f"{STRESS_KEY} has {arr.size} values (3x3 or Voigt-6 expected)")


def infer_species(frames: list[Atoms], file: str | Path | None = None) -> tuple[str, str]:
    """(metal, cation) of a dataset; InputError when frames mix element sets."""
    metals: Counter[str] = Counter()
    cations: Counter[str] = Counter()
    for index, atoms in enumerate(frames):
        symbols = set(atoms.get_chemical_symbols())
        unknown = symbols - set(FCC_LATTICE_CONSTANT_A) - set(CATIONS) - {"O", "H"}
        if unknown:
            raise InputError(
                f"frame {index} has elements {sorted(unknown)} that no elbench system contains",
                file=file,
                allowed=f"one metal of {', '.join(FCC_LATTICE_CONSTANT_A)}, O, H, one cation of {', '.join(CATIONS)}",
            )
        frame_metals = symbols & set(FCC_LATTICE_CONSTANT_A)
        if len(frame_metals) != 1:
            raise InputError(f"frame {index} has metals {sorted(frame_metals)}; exactly one metal is needed", file=file)
        if not {"O", "H"} <= symbols:
            raise InputError(f"frame {index} has no water (O and H)", file=file)
        metals.update(frame_metals)
        cations.update(symbols & set(CATIONS))
    if len(metals) > 1:
        raise InputError(f"frames mix element sets: metals {sorted(metals)}", file=file, allowed="one metal per dataset")
    if len(cations) > 1:
        raise InputError(f"frames mix element sets: cations {sorted(cations)}", file=file, allowed="one cation per dataset")
    metal = next(iter(metals))
    cation = next(iter(cations)) if cations else "Na"
    return metal, cation


def validate_frames(
    frames: list[Atoms],
    file: str | Path | None = None,
    *,
    require_stress: bool = False,
    cation: str | None = None,
) -> DatasetInfo:
    """Check labels, shapes and charge states of a dataset; InputError naming the first bad frame.

    ``charge_state`` is set from the cation count when a frame has none and checked
    against it when present.
    """
    if not frames:
        raise InputError("dataset has no frames", file=file)
    metal, found_cation = infer_species(frames, file)
    cation = cation or found_cation
    per_state: Counter[int] = Counter()
    stress_count = 0
    for index, atoms in enumerate(frames):
        key_where = f"frame {index}"
        if ENERGY_KEY not in atoms.info:
            raise InputError(f"{key_where} has no label '{ENERGY_KEY}' (unlabelled frame)", file=file, key=ENERGY_KEY,
                             allowed="label frames with `elbench dataset label` or import them with energies")
        if FORCES_KEY not in atoms.arrays:
            raise InputError(f"{key_where} has no per-atom '{FORCES_KEY}' (unlabelled frame)", file=file, key=FORCES_KEY)
        energy = atoms.info[ENERGY_KEY]
        if not isinstance(energy, (int, float, np.floating, np.integer)) or not np.isfinite(energy):
            raise InputError(f"{key_where}: {ENERGY_KEY} = {energy!r} is not a finite number", file=file, key=ENERGY_KEY)
        forces = atoms.arrays[FORCES_KEY]
        if np.shape(forces) != (len(atoms), 3) or not np.all(np.isfinite(forces)):
            raise InputError(f"{key_where}: {FORCES_KEY} must be finite with shape ({len(atoms)}, 3)", file=file, key=FORCES_KEY)
        if not atoms.pbc.all() or atoms.cell.rank != 3:
            raise InputError(f"{key_where} needs a 3D periodic cell (pbc T T T)", file=file, key="Lattice")
        try:
            stress = frame_stress(atoms)
        except ValueError as err:
            raise InputError(f"{key_where}: {err}", file=file, key=STRESS_KEY) from None
        if stress is not None:
            if not np.all(np.isfinite(stress)):
                raise InputError(f"{key_where}: {STRESS_KEY} is not finite", file=file, key=STRESS_KEY)
            stress_count += 1
        elif require_stress:
            raise InputError(f"{key_where} has no '{STRESS_KEY}'", file=file, key=STRESS_KEY)
        n = cation_count(atoms, cation)
        declared = atoms.info.get(CHARGE_KEY)
        if declared is not None and int(declared) != n:
            raise InputError(
                f"{key_where} declares {CHARGE_KEY}={declared} but has {n} {cation} cations",
                file=file, key=CHARGE_KEY, allowed="the number of cations in the frame",
            )
        atoms.info[CHARGE_KEY] = n
        per_state[n] += 1
    if 0 < stress_count < len(frames):
        raise InputError(f"only {stress_count} of {len(frames)} frames have '{STRESS_KEY}'; all or none", file=file, key=STRESS_KEY)
    return DatasetInfo(
        metal=metal,
        cation=cation,
        type_map=system_type_map(metal, cation),
        n_frames=len(frames),
        per_charge_state=dict(sorted(per_state.items())),
        has_stress=stress_count == len(frames),
    )


def group_by_charge_state(frames: list[Atoms]) -> dict[int, list[int]]:
    """Frame indices per charge state (frames must be validated first)."""
    groups: dict[int, list[int]] = {}
    for index, atoms in enumerate(frames):
        groups.setdefault(int(atoms.info[CHARGE_KEY]), []).append(index)
    return dict(sorted(groups.items()))
