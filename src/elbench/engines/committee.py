"""Model deviation of a committee, written while the bridge runs (DeePMD's ``model_devi.out`` layout).

The definitions (DeePMD's): for models k = 1..K and atom i, ``devi_f_i = sqrt(mean_k |F_i^k - <F_i>|^2)``
(eV/Å); max/min/avg over atoms. The virial deviation is the standard deviation over models
of each of the 9 virial components divided by the number of atoms (eV); max/min over
components, avg = norm/3. Reading and summarising the file is :mod:`elbench.analysis.model_deviation`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase.calculators.calculator import all_changes

COLUMNS = ("step", "max_devi_v", "min_devi_v", "avg_devi_v", "max_devi_f", "min_devi_f", "avg_devi_f")


# --------------------------------------------------------------------------- definitions


def force_deviation(forces: np.ndarray) -> np.ndarray:
    """Per-atom devi_f (n_atoms,) from forces (n_models, n_atoms, 3)."""
    f = np.asarray(forces, dtype=np.float64)
    return np.sqrt(np.mean(np.sum((f - f.mean(axis=0)) ** 2, axis=-1), axis=0))


def virial_deviation(virials: np.ndarray, n_atoms: int) -> tuple[float, float, float]:
    """(max, min, avg) devi_v from virials (n_models, 9) in eV, per atom as DeePMD writes it."""
    std = np.std(np.asarray(virials, dtype=np.float64).reshape(len(virials), 9), axis=0) / n_atoms
    return float(std.max()), float(std.min()), float(np.linalg.norm(std) / 3.0)


def header_line(atomic: bool) -> str:
    cols = "".join(f"{c:>19s}" for c in COLUMNS[1:])
    return f"#{'step':>11s}{cols}" + ("   devi_f of each atom (id order)" if atomic else "") + "\n"


def format_row(step: int, devi_v: tuple[float, float, float], devi_f_atoms: np.ndarray, atomic: bool) -> str:
    """One line of model_devi.out (DeePMD's layout) for per-atom force deviations ``devi_f_atoms``."""
    d = np.asarray(devi_f_atoms, dtype=np.float64)
    values = [*devi_v, d.max(), d.min(), d.mean()]
    row = f"{int(step):>12d}" + "".join(f" {v:18.10e}" for v in values)
    if atomic:
        row += "".join(f" {v:18.10e}" for v in d)
    return row + "\n"


# --------------------------------------------------------------------------- the bridge's committee


class CommitteeWriter:
    """Writes model_devi.out for a committee in the bridge: the driving model + extra calculators.

    Every ``out_freq`` steps the extra calculators are evaluated on the same ASE Atoms the
    driving calculator just saw; rows are in DeePMD's layout with per-atom columns in atom-id order.
    """

    def __init__(self, calcs: list, out_freq: int, path: Path, atomic: bool = True) -> None:
        self.calcs, self.out_freq, self.atomic = list(calcs), int(out_freq), atomic
        self.path = Path(path)
        self.fh = open(self.path, "a")
        if self.path.stat().st_size == 0:
            self.fh.write(header_line(atomic))

    def __call__(self, step: int, atoms, main_results: dict, tags: np.ndarray) -> None:
        if step % self.out_freq:
            return
        stress = main_results.get("stress")
        fs = [np.asarray(main_results["forces"], dtype=np.float64)]
        vs = [None if stress is None else -atoms.get_volume() * _voigt9(stress)]
        for calc in self.calcs:
            props = ["energy", "forces"] + (["stress"] if "stress" in getattr(calc, "implemented_properties", ()) else [])
            calc.calculate(atoms, props, all_changes)
            fs.append(np.asarray(calc.results["forces"], dtype=np.float64))
            stress = calc.results.get("stress")
            vs.append(None if stress is None else -atoms.get_volume() * _voigt9(stress))
        order = np.argsort(np.asarray(tags).reshape(-1))
        devi = force_deviation(np.array(fs))[order]
        if all(v is not None for v in vs):
            devi_v = virial_deviation(np.array([np.asarray(v).reshape(-1)[:9] for v in vs]), len(devi))
        else:
            devi_v = (0.0, 0.0, 0.0)
        self.fh.write(format_row(step, devi_v, devi, self.atomic))
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


def _voigt9(stress) -> np.ndarray:
    s = np.asarray(stress, dtype=np.float64).reshape(-1)
    if s.size == 9:
        return s
    xx, yy, zz, yz, xz, xy = s
    return np.array([xx, xy, xz, xy, yy, yz, xz, yz, zz])
