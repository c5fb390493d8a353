"""Unit conversions on import and plausibility checks that catch unit mistakes.

Every elbench dataset is in eV (energies), eV/Å (forces) and eV/Å³ (stress).
Importers convert declared units (``--energy-unit``, ``--force-unit``); the
checks below then refuse data whose numbers cannot be in those units:

1. **H force RMS window** (thermal water): the RMS force on H atoms of water at
   room temperature is ~1 eV/Å in DFT and in flexible classical water (SPC/Fw:
   sqrt(k_B T · k_OH) ≈ 1.1 eV/Å). Outside ``[0.25, 5]`` eV/Å the forces are
   refused: Hartree/bohr or Ry/bohr read as eV/Å (≈ 0.02–0.04), kcal/mol/Å
   (≈ 25), eV/nm (≈ 0.1). Catches force unit slips by factors ≥ 4.
2. **Energy–force consistency** on consecutive close frames (an AIMD OUTCAR):
   the energy change between two nearby frames equals the work
   -½ Σ (F_a + F_b)·(r_b − r_a). The fitted slope ΔE/W must be within
   ``[0.75, 1.33]``: eV/bohr read as eV/Å gives 1.89, Hartree energies 0.037.
   Needs ≥ 5 frame pairs whose atoms move < 0.15 Å; otherwise skipped (said in
   the report).
3. **Energy fluctuation** per composition (≥ 8 frames): the standard deviation
   of the total energy of a canonical sample is ~ k_B T sqrt(3 N / 2) (harmonic
   estimate, N atoms). The ratio must be within ``[0.15, 8]`` (T = 300 K):
   Hartree energies read as eV give ≈ 0.04, kcal/mol ≈ 23.

``--trust-units`` skips 1–3 (for minimised or non-thermal data); the choice is
recorded in the dataset's JSON. The thresholds are deliberately wide: they catch
factor mistakes, not small calibration differences.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from ase import Atoms
from scipy import constants as sc

from elbench.dataset.frames import ENERGY_KEY, FORCES_KEY, STRESS_KEY
from elbench.errors import InputError

EV_J = sc.electron_volt
HARTREE_EV = sc.physical_constants["Hartree energy in eV"][0]
RYDBERG_EV = HARTREE_EV / 2.0
BOHR_A = sc.physical_constants["Bohr radius"][0] * 1e10
KCAL_MOL_EV = 4184.0 / (sc.N_A * EV_J)
KJ_MOL_EV = 1000.0 / (sc.N_A * EV_J)
KB_EV_K = sc.k / EV_J
#: 1 eV/Å³ in bar and GPa.
EV_A3_BAR = EV_J / 1e-30 / 1e5
EV_A3_GPA = EV_J / 1e-30 / 1e9

ENERGY_UNITS: dict[str, float] = {"eV": 1.0, "Hartree": HARTREE_EV, "Ry": RYDBERG_EV, "kcal/mol": KCAL_MOL_EV, "kJ/mol": KJ_MOL_EV}
FORCE_UNITS: dict[str, float] = {
    "eV/A": 1.0,
    "eV/bohr": 1.0 / BOHR_A,
    "Hartree/bohr": HARTREE_EV / BOHR_A,
    "Ry/bohr": RYDBERG_EV / BOHR_A,
    "kcal/mol/A": KCAL_MOL_EV,
    "kJ/mol/A": KJ_MOL_EV,
}
STRESS_UNITS: dict[str, float] = {"eV/A3": 1.0, "GPa": 1.0 / EV_A3_GPA, "kbar": 0.1 / EV_A3_GPA, "bar": 1.0 / EV_A3_BAR}

H_FORCE_RMS_WINDOW_EV_A = (0.25, 5.0)
WORK_SLOPE_WINDOW = (0.75, 1.33)
FLUCTUATION_WINDOW = (0.15, 8.0)
CLOSE_FRAME_MAX_DISPLACEMENT_A = 0.15


def unit_factor(unit: str, table: dict[str, float], key: str) -> float:
    if unit not in table:
        raise InputError(f"unknown unit '{unit}'", key=key, allowed=", ".join(table))
    return table[unit]


def convert_units(frames: list[Atoms], energy_unit: str = "eV", force_unit: str = "eV/A", stress_unit: str = "eV/A3") -> None:
    """Convert labels in place from the declared units to eV, eV/Å, eV/Å³."""
    fe = unit_factor(energy_unit, ENERGY_UNITS, "energy-unit")
    ff = unit_factor(force_unit, FORCE_UNITS, "force-unit")
    fs = unit_factor(stress_unit, STRESS_UNITS, "stress-unit")
    for atoms in frames:
        if ENERGY_KEY in atoms.info:
            atoms.info[ENERGY_KEY] = float(atoms.info[ENERGY_KEY]) * fe
        if FORCES_KEY in atoms.arrays:
            atoms.arrays[FORCES_KEY] = np.asarray(atoms.arrays[FORCES_KEY], dtype=float) * ff
        if STRESS_KEY in atoms.info:
            atoms.info[STRESS_KEY] = np.asarray(atoms.info[STRESS_KEY], dtype=float) * fs


def h_force_rms(frames: list[Atoms]) -> float | None:
    values = [np.asarray(a.arrays[FORCES_KEY])[np.array(a.get_chemical_symbols()) == "H"] for a in frames]
    stacked = np.concatenate([v for v in values if len(v)]) if any(len(v) for v in values) else np.empty((0, 3))
    if len(stacked) < 10:
        return None
    return float(np.sqrt(np.mean(np.sum(stacked**2, axis=1))))


def work_energy_slope(frames: list[Atoms]) -> tuple[float | None, int]:
    """Slope of ΔE against the work of the mean forces over consecutive close frames."""
    de, work = [], []
    for a, b in zip(frames[:-1], frames[1:]):
        if len(a) != len(b) or a.get_chemical_symbols() != b.get_chemical_symbols():
            continue
        disp = b.positions - a.positions
        cell = np.asarray(a.cell)
        frac = np.linalg.solve(cell.T, disp.T).T
        disp = (frac - np.round(frac)) @ cell
        if np.max(np.linalg.norm(disp, axis=1)) > CLOSE_FRAME_MAX_DISPLACEMENT_A:
            continue
        w = -0.5 * float(np.sum((a.arrays[FORCES_KEY] + b.arrays[FORCES_KEY]) * disp))
        de.append(float(b.info[ENERGY_KEY]) - float(a.info[ENERGY_KEY]))
        work.append(w)
    if len(de) < 5:
        return None, len(de)
    w = np.array(work)
    if np.sum(w * w) <= 0:
        return None, len(de)
    return float(np.dot(w, np.array(de)) / np.dot(w, w)), len(de)


def fluctuation_ratio(frames: list[Atoms], temperature_K: float = 300.0) -> float | None:
    """Median over compositions of std(E) / (k_B T sqrt(1.5 N)); None with < 8 frames each."""
    by_comp: dict[tuple, list[float]] = defaultdict(list)
    for atoms in frames:
        by_comp[tuple(atoms.get_chemical_symbols())].append(float(atoms.info[ENERGY_KEY]))
    ratios = []
    for symbols, energies in by_comp.items():
        if len(energies) >= 8:
            expected = KB_EV_K * temperature_K * np.sqrt(1.5 * len(symbols))
            ratios.append(float(np.std(energies, ddof=1)) / expected)
    return float(np.median(ratios)) if ratios else None


def check_plausible_units(frames: list[Atoms], file: str | Path | None = None) -> dict:
    """Run the three checks; InputError on the first failure, else a record of what was checked."""
    record: dict = {"trusted": False}
    rms = h_force_rms(frames)
    record["h_force_rms_eV_A"] = rms
    lo, hi = H_FORCE_RMS_WINDOW_EV_A
    if rms is not None and not lo <= rms <= hi:
        guess = "Hartree/bohr or Ry/bohr" if rms < 0.08 else ("eV/nm" if rms < lo else "kcal/mol/A or kJ/mol/A")
        raise InputError(
            f"RMS force on H atoms is {rms:.4g} eV/Å, implausible for water near room temperature "
            f"(expected {lo}–{hi}); forces look like {guess}: declare --force-unit or pass --trust-units",
            file=file, key=FORCES_KEY, allowed=", ".join(FORCE_UNITS),
        )
    slope, pairs = work_energy_slope(frames)
    record["work_energy_slope"] = slope
    record["work_energy_pairs"] = pairs
    lo, hi = WORK_SLOPE_WINDOW
    if slope is not None and not lo <= slope <= hi:
        if 1.6 < slope < 2.2:
            guess = "forces in eV/bohr (declare --force-unit eV/bohr)"
        elif slope < 0.1:
            guess = "energies in Hartree or Ry (declare --energy-unit)"
        else:
            guess = "energies and forces in inconsistent units"
        raise InputError(
            f"energy changes between consecutive frames are {slope:.3g}x the work of the forces (expected 1): {guess}",
            file=file, key=ENERGY_KEY, allowed="consistent units; or --trust-units",
        )
    ratio = fluctuation_ratio(frames)
    record["energy_fluctuation_ratio"] = ratio
    lo, hi = FLUCTUATION_WINDOW
    if ratio is not None and not lo <= ratio <= hi:
        guess = "Hartree or Ry" if ratio < lo else "kcal/mol or kJ/mol"
        raise InputError(
            f"energy fluctuations are {ratio:.3g}x the thermal estimate k_B T sqrt(3N/2) at 300 K "
            f"(expected {lo}–{hi}); energies look like {guess}: declare --energy-unit or pass --trust-units",
            file=file, key=ENERGY_KEY, allowed=", ".join(ENERGY_UNITS),
        )
    return record
