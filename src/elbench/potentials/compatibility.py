"""Checks of a registry entry against its files and a built system.

``elbench render`` calls the raising checks (:func:`check_type_map`,
:func:`check_cutoff`, ``Manifest.verify_files``) so a bad model stops the
render with one line; ``elbench potentials check`` collects every result of
:func:`check_potential` into a table instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from elbench.errors import InputError
from elbench.io import sha256_file


@dataclass(frozen=True)
class CheckResult:
    """One check of one potential: name, passed, and what was found."""

    check: str
    ok: bool
    detail: str


def check_type_map(entry, type_map: list[str], *, manifest_path=None) -> None:
    """Every element of the system must be in the model's element list (mapped by name)."""
    missing = [el for el in type_map if el not in entry.type_map]
    if missing:
        raise InputError(
            f"model '{entry.name}' has no {', '.join(missing)}; the system needs {' '.join(type_map)}",
            file=manifest_path,
            key=f"potential.{entry.name}.type_map",
            allowed=f"a model whose type_map covers {' '.join(type_map)}",
        )


def check_cutoff(entry, system, *, file=None) -> None:
    """Both lateral cell widths must be at least twice the model's cutoff (no self-images)."""
    lx, ly = system.lateral_widths_A()
    need = 2.0 * entry.cutoff_A
    if min(lx, ly) < need:
        raise InputError(
            f"lateral cell {lx:.2f} x {ly:.2f} A is smaller than 2 x cutoff_A of '{entry.name}' ({need:.2f} A); "
            "increase system.repeats",
            file=file,
            key="system.repeats",
            allowed=f"lateral widths >= {need:.2f} A",
        )


def _files_results(manifest, entry) -> list[CheckResult]:
    results = []
    if not entry.files:
        return [CheckResult("files", True, "no model files (runs in LAMMPS alone)")]
    for mf in entry.files:
        path = manifest.root / mf.path
        if not path.is_file():
            results.append(CheckResult(f"file {mf.path}", False, "missing"))
            continue
        actual = sha256_file(path)
        ok = actual == mf.sha256
        results.append(CheckResult(f"sha256 {mf.path}", ok, "matches" if ok else f"is {actual[:12]}…, registry {mf.sha256[:12]}…"))
    return results


def _raises(func, *args, **kwargs) -> tuple[bool, str]:
    try:
        func(*args, **kwargs)
    except InputError as err:
        return False, err.message
    return True, ""


def check_potential(manifest, entry, system=None) -> list[CheckResult]:
    """All checks of one entry; the system ones only when a built system is given."""
    results = _files_results(manifest, entry)
    if system is None:
        return results
    ok, why = _raises(check_type_map, entry, system.type_map)
    results.append(CheckResult("elements", ok, f"covers {' '.join(system.type_map)}" if ok else why))
    ok, why = _raises(check_cutoff, entry, system)
    lx, ly = system.lateral_widths_A()
    results.append(CheckResult("cell >= 2 x cutoff", ok,
                               f"{min(lx, ly):.2f} A >= {2 * entry.cutoff_A:.2f} A" if ok else why))
    return results
