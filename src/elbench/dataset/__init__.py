"""Labelled datasets: sampling and labelling with the reference, DFT import, splits, format converters.

The exchange format is extxyz with ``REF_energy`` (eV), ``REF_forces`` (eV/Å),
``REF_stress`` (eV/Å³, ASE sign) and ``charge_state`` (see :mod:`.frames`).
A dataset file ``NAME.extxyz`` has a sidecar ``NAME.json`` with its contents,
unit checks and provenance (:func:`write_dataset`).
"""

from __future__ import annotations

from pathlib import Path

from ase import Atoms

from elbench.dataset.frames import DatasetInfo, read_frames, validate_frames, write_frames
from elbench.io import atomic_write_json, sha256_file
from elbench.provenance import provenance


def sidecar(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name.removesuffix(".extxyz") + ".json")


def write_dataset(path: str | Path, frames: list[Atoms], *, how: dict, unit_checks: dict | None = None,
                  inputs: dict | None = None) -> dict:
    """Validate, write NAME.extxyz and NAME.json (contents, how it was made, provenance)."""
    path = Path(path)
    info = validate_frames(frames, path)
    write_frames(path, frames)
    record = {
        "file": path.name,
        "sha256": sha256_file(path),
        "units": {"energy": "eV", "forces": "eV/A", "stress": "eV/A^3 (ASE sign: stress = -virial/volume)"},
        "keys": {"energy": "REF_energy", "forces": "REF_forces", "stress": "REF_stress", "charge_state": "charge_state"},
        **info.as_dict(),
        "how": how,
        "unit_checks": unit_checks or {},
        "provenance": provenance(inputs=inputs or {}),
    }
    atomic_write_json(sidecar(path), record)
    return record


__all__ = ["DatasetInfo", "read_frames", "validate_frames", "write_frames", "write_dataset", "sidecar"]
