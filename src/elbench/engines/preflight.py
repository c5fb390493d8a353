"""Preflight parity: LAMMPS vs the calculator on the run's first frame, and NVE drift.

On a separate LAMMPS instance built from the run's own deck (its units, atom style,
boundary, data file and pair block — native pair style or the bridge's fix
external), ``run 0`` gives energy, forces and pressure; ASE reads the same data
file with the run's explicit type map and the family's calculator evaluates it
directly. Agreement within tolerance (float64: |ΔE| < 1e-6 eV/atom, max |ΔF| <
1e-5 eV/Å) is required before production. A short NVE segment then gives the
energy drift per atom per ps. The result goes to ``preflight.json`` and into
``run.json["preflight"]``; a failed check raises :class:`RunError`.

``python -m elbench.engines.preflight RUN_DIR`` runs it for native runs (in the
family's environment, before ``lmp``); the bridge runs it itself.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from ase.data import atomic_numbers
from ase.io.lammpsdata import read_lammps_data

from elbench import families
from elbench.deck_reader import Command, Deck, is_fix_external, read_deck
from elbench.engines.calculators import make_calculator, spec_from_run
from elbench.engines.external import (ExternalForces, box_pbc, calculator_pbc, check_type_maps, type_counts,
                                      type_numbers)
from elbench.engines.lmp_python import new_lammps
from elbench.errors import InputError, RunError
from elbench.io import atomic_write_json, sha256_file
from elbench.run_record import Preflight, RunRecord

TOLERANCES = {
    "float64": {"energy_eV_per_atom": 1e-6, "force_eV_per_A": 1e-5},
    "float32": {"energy_eV_per_atom": 1e-4, "force_eV_per_A": 1e-3},
}

_SETUP_COMMANDS = {"units", "atom_style", "boundary", "dimension", "atom_modify", "newton", "read_data",
                   "mass", "neighbor", "neigh_modify", "box", "plugin"}
_PAIR_COMMANDS = {"pair_style", "pair_coeff", "pair_modify"}


def preflight_deck(deck: Deck, engine: str) -> list[Command]:
    """The deck's setup commands and its force block (pair block, plus fix external for the bridge)."""
    external_ids = {cmd.words[1] for cmd in deck.fix_externals()} if engine == "bridge" else set()
    return [cmd for cmd in deck.commands
            if cmd.name in _SETUP_COMMANDS or cmd.name in _PAIR_COMMANDS
            or (is_fix_external(cmd) and cmd.words[1] in external_ids)
            or (cmd.name == "fix_modify" and len(cmd.words) > 1 and cmd.words[1] in external_ids)]


def direct_atoms(data_file: Path, type_map: list[str], atom_style: str, pbc: tuple[bool, bool, bool]):
    """ASE Atoms from the data file with elements from the explicit type map (sorted by id)."""
    z_of_type = {t: atomic_numbers[el] for t, el in enumerate(type_map, start=1)}
    atoms = read_lammps_data(str(data_file), Z_of_type=z_of_type, atom_style=atom_style, units="metal",
                             sort_by_id=True)
    atoms.pbc = pbc
    return atoms


def _gather(lmp, name: str) -> np.ndarray:
    """A per-atom (N,3) double array ordered by atom id."""
    return np.array(lmp.gather_atoms(name, 1, 3), dtype=float).reshape(-1, 3)


def _pressure_tensor(lmp) -> np.ndarray:
    return np.array([lmp.get_thermo(k) for k in ("pxx", "pyy", "pzz", "pyz", "pxz", "pxy")])


def nve_drift(lmp, n_atoms: int, *, timestep_fs: float, temperature_K: float, steps: int, seed: int) -> dict:
    """Energy drift (eV/atom/ps) of a short NVE segment from a slope fit over chunks."""
    lmp.command(f"timestep {timestep_fs / 1000.0:.10g}")
    lmp.command(f"velocity all create {temperature_K:.6g} {seed} dist gaussian mom yes rot no")
    lmp.command("fix elbench_preflight_nve all nve")
    chunk = max(1, steps // 4)
    times, energies = [0.0], [lmp.get_thermo("etotal")]
    lmp.command("run 0 post no")
    energies[0] = lmp.get_thermo("etotal")
    for i in range(1, steps // chunk + 1):
        lmp.command(f"run {chunk} post no")
        times.append(i * chunk * timestep_fs / 1000.0)
        energies.append(lmp.get_thermo("etotal"))
    slope = float(np.polyfit(times, energies, 1)[0]) if len(times) > 1 else 0.0
    return {"steps": chunk * (len(times) - 1), "timestep_fs": timestep_fs, "temperature_K": temperature_K,
            "drift_eV_per_atom_per_ps": slope / n_atoms,
            "max_deviation_eV_per_atom": float(np.max(np.abs(np.array(energies) - energies[0]))) / n_atoms}


def compare(lmp, atoms, calc) -> dict:
    """LAMMPS ``run 0`` values against the calculator's direct evaluation of the same frame."""
    n = len(atoms)
    e_lmp = float(lmp.get_thermo("pe"))
    f_lmp = _gather(lmp, "f")
    atoms.calc = calc
    e_calc = float(atoms.get_potential_energy())
    f_calc = np.asarray(atoms.get_forces(), dtype=float)
    out: dict[str, Any] = {
        "n_atoms": n,
        "energy_lammps_eV": e_lmp,
        "energy_calculator_eV": e_calc,
        "energy_diff_eV_per_atom": abs(e_lmp - e_calc) / n,
        "force_max_abs_diff_eV_per_A": float(np.max(np.abs(f_lmp - f_calc))),
        "force_max_abs_eV_per_A": float(np.max(np.abs(f_calc))),
    }
    if "stress" in getattr(calc, "implemented_properties", ()):
        nktv2p = float(lmp.extract_global("nktv2p"))
        p_calc = -np.asarray(atoms.get_stress(voigt=True), dtype=float) * nktv2p  # bar; no velocities at run 0
        p_lmp = _pressure_tensor(lmp)
        out["pressure_max_abs_diff_bar"] = float(np.max(np.abs(p_lmp - p_calc)))
        out["pressure_max_abs_bar"] = float(np.max(np.abs(p_calc)))
    return out


def _precision(spec) -> str:
    """float32 when the family only evaluates in single precision or the spec asks for it."""
    if families.get(spec.family).float32 or spec.option("dtype") == "float32":
        return "float32"
    return "float64"


def run_preflight(run_dir: Path, run: RunRecord, *, spec, calc, engine: str, nve_steps: int = 20,
                  write: bool = True) -> dict:
    """Parity check + NVE drift for ``run_dir``; writes preflight.json; RunError when it fails."""
    run_dir = Path(run_dir).resolve()
    deck = read_deck(run_dir / "in.lammps")
    data_file = (run_dir / deck.read_data()).resolve()
    type_map = check_type_maps(run.type_map, data_file)
    block = preflight_deck(deck, engine)
    atom_style = deck.atom_style()
    cwd = os.getcwd()
    os.chdir(run_dir)
    lmp = new_lammps(["-nocite", "-log", "none", "-screen", "none"], plugins=(engine == "native"))
    start = time.perf_counter()
    try:
        forces = None
        for cmd in block:
            lmp.command(cmd.text)
            if is_fix_external(cmd):
                fix_id = cmd.words[1]
                z_of_type = type_numbers(type_map, spec.type_map, type_counts(lmp), file=spec.model)
                forces = ExternalForces(lmp, fix_id, calc, z_of_type, calculator_pbc(spec.family, box_pbc(lmp)))
                lmp.set_fix_external_callback(fix_id, forces)
        if engine == "native":
            type_numbers(type_map, spec.type_map, type_counts(lmp), file=spec.model)
        lmp.command("thermo_style custom step pe etotal press pxx pyy pzz pxy pxz pyz")
        lmp.command("run 0 post no")
        if forces is not None:
            forces.check()
        atoms = direct_atoms(data_file, type_map, atom_style, calculator_pbc(spec.family, box_pbc(lmp)))
        result = compare(lmp, atoms, calc)
        drift = nve_drift(lmp, len(atoms), timestep_fs=run.timestep_fs, temperature_K=run.temperature_K,
                          steps=nve_steps, seed=run.seed + 7919)
        if forces is not None:
            forces.check()
    except (InputError, RunError):
        raise
    except Exception as err:
        raise RunError(f"preflight failed to evaluate: {err}") from None
    finally:
        lmp.close()
        os.chdir(cwd)
    precision = _precision(spec)
    tol = TOLERANCES[precision]
    ok = (result["energy_diff_eV_per_atom"] < tol["energy_eV_per_atom"]
          and result["force_max_abs_diff_eV_per_A"] < tol["force_eV_per_A"])
    model_sha = sha256_file(spec.model) if Path(spec.model).is_file() else None
    record = {"engine": engine, "family": spec.family, "model": str(spec.model), "model_sha256": model_sha,
              "precision": precision,
              "tolerances": tol, "passed": bool(ok), **result, "nve": drift,
              "seconds": time.perf_counter() - start}
    if write:
        atomic_write_json(run_dir / "preflight.json", record)
        _record_in_run_json(run_dir, run, record)
    if not ok:
        raise RunError(
            f"preflight parity failed in {run_dir}: |dE| = {result['energy_diff_eV_per_atom']:.3g} eV/atom "
            f"(tol {tol['energy_eV_per_atom']:g}), max |dF| = {result['force_max_abs_diff_eV_per_A']:.3g} eV/A "
            f"(tol {tol['force_eV_per_A']:g}); see preflight.json")
    return record


def previous_pass(run_dir: Path, spec, engine: str) -> dict | None:
    """A passed preflight.json of this run for the same model file (sha256) and engine, else None."""
    path = Path(run_dir) / "preflight.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    model = Path(spec.model)
    same = (record.get("passed") is True and record.get("engine") == engine and record.get("model") == str(model)
            and model.is_file() and record.get("model_sha256") == sha256_file(model))
    return record if same else None


def _record_in_run_json(run_dir: Path, run: RunRecord, record: dict) -> None:
    """The verdict into run.json (the record as loaded at the start of the check, plus ``preflight``)."""
    verdict = Preflight(**{k: record[k] for k in ("passed", "engine", "precision", "energy_diff_eV_per_atom",
                                                  "force_max_abs_diff_eV_per_A") if k in record},
                        nve_drift_eV_per_atom_per_ps=record["nve"]["drift_eV_per_atom_per_ps"])
    run.with_preflight(verdict).save(run_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m elbench.engines.preflight",
                                     description="First-frame parity of LAMMPS vs the model's calculator.")
    parser.add_argument("run_dir")
    parser.add_argument("--engine", choices=["native", "bridge"], default=None,
                        help="default: run.json's engine")
    parser.add_argument("--debug", action="store_true")
    opts = parser.parse_args(argv)
    run_dir = Path(opts.run_dir).resolve()
    try:
        run = RunRecord.load(run_dir)
        spec = spec_from_run(run, run_dir)
        record = run_preflight(run_dir, run, spec=spec, calc=make_calculator(spec), engine=opts.engine or run.engine)
    except (InputError, RunError) as err:
        if opts.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2 if isinstance(err, InputError) else 1
    print(f"preflight passed: |dE| {record['energy_diff_eV_per_atom']:.2e} eV/atom, "
          f"max |dF| {record['force_max_abs_diff_eV_per_A']:.2e} eV/A, "
          f"NVE drift {record['nve']['drift_eV_per_atom_per_ps']:.2e} eV/atom/ps", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
