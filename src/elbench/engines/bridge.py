"""The bridge engine: LAMMPS driven from Python, forces from an ASE calculator.

``python -m elbench.engines.bridge RUN_DIR`` runs ``RUN_DIR/in.lammps`` (the same
deck as the native engine, with the pair block replaced by ``pair_style zero`` and a
``fix ID all external pf/callback 1 1`` + ``fix_modify ID energy yes virial yes``).
The deck is executed line by line; right after the ``fix external`` line the callback
is registered. At every step the callback hands LAMMPS positions (mapped to elements
through the run's explicit type map, never through masses) to the family's calculator
and returns forces, energy and virial. LAMMPS integrates, thermostats, keeps frozen
atoms frozen (``fix setforce`` after the external fix in the deck) and dumps. Before
the deck, a preflight checks parity on the first frame (``preflight.json``).

One MPI rank only: the calculator sees the whole periodic system in one process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from elbench import families
from elbench.deck_reader import Deck, is_fix_external, read_deck
from elbench.engines.calculators import CalculatorSpec, make_calculator, spec_from_run
from elbench.engines.committee import CommitteeWriter
from elbench.engines.external import ExternalForces, box_pbc, calculator_pbc, check_type_maps, type_counts, type_numbers
from elbench.engines.lmp_python import new_lammps, world_size_from_launcher
from elbench.engines.preflight import previous_pass, run_preflight
from elbench.engines.select import env_python
from elbench.errors import InputError, RunError
from elbench.run_record import MODEL_DEVIATION_FILE, Calculator, RunRecord


# --------------------------------------------------------------------------- run files


def calculator_record(entry, manifest, *, verify: bool = True) -> Calculator:
    """The calculator of registry ``entry`` as the run record holds it: family, model file, its elements,
    options, committee members (render writes it; the bridge, the preflight and ``elbench rmse`` read it).

    ``verify=False`` when the caller has just hash-checked the entry's files.
    """
    if verify:
        manifest.verify_files(entry)
    options: dict[str, Any] = {}
    for role in ("atom_refs", "atom_energies"):
        path = manifest.file_path(entry, role)
        if path is not None:
            options[role] = str(path)
    options.update(families.get(entry.family).bridge_options)  # e.g. eSEN's task head
    models = [str((manifest.root / f.path).resolve()) for f in entry.files if f.role == "model"]
    # several role-"model" files: a committee; the first drives the MD
    return Calculator(family=entry.family, model=str(manifest.file_path(entry, "model")),
                      model_type_map=list(entry.type_map), cutoff_A=entry.cutoff_A, options=options,
                      committee=models[1:])


def command(run_dir: str | Path, environment: str) -> list[str]:
    """argv that runs a bridge run: the family environment's python on this module.

    ``render``'s ``bridge_command`` uses it for run.sh / run.json (run from inside RUN_DIR).
    """
    del run_dir  # run.sh cds into the run directory first
    return [str(env_python(environment)), "-m", "elbench.engines.bridge", "."]


# --------------------------------------------------------------------------- main


def check_single_rank(ranks: int) -> None:
    """The run record's MPI ranks and the launcher's world size are both 1, or InputError."""
    launched = world_size_from_launcher()
    if ranks > 1 or launched > 1:
        raise InputError(f"the bridge engine runs on one MPI rank (asked for {max(ranks, launched)}): the "
                         "calculator needs the whole system in one process; set mpi_ranks = 1 or use a "
                         "native pair style", key="mpi_ranks", allowed="1")


def validate_deck(deck: Deck) -> str:
    """The fix-external ID; refuses a deck with a force-producing pair style (double counting)."""
    fix_ids = [cmd.words[1] for cmd in deck.fix_externals()]
    if len(fix_ids) != 1:
        raise InputError(f"a bridge deck needs exactly one 'fix ID all external pf/callback' line, found "
                         f"{len(fix_ids)}: render the run with engine 'bridge'", file=deck.file, key="engine")
    bad = [s for s in deck.pair_styles() if s != "zero"]
    if bad:
        raise InputError(f"a bridge deck must use 'pair_style zero' (found {bad}): forces would be counted twice",
                         file=deck.file, key="pair_style", allowed="zero")
    return fix_ids[0]


def committee_writer(run: RunRecord, run_dir: Path, spec: CalculatorSpec):
    """A model-deviation writer (every thermo_interval_steps) when the run's calculator has a committee, else None."""
    models = run.committee
    if not models:
        return None
    calcs = [make_calculator(CalculatorSpec(spec.family, Path(m), spec.type_map, spec.options)) for m in models]
    return CommitteeWriter(calcs, run.thermo_interval_steps, run_dir / (run.model_deviation_file or MODEL_DEVIATION_FILE))


def run_deck(run_dir: Path, *, preflight: bool = True, screen: bool = True, deck_name: str = "in.lammps") -> dict:
    """Run the bridge deck of ``run_dir``; returns a summary (steps, timings, preflight).

    ``deck_name``: the deck to execute (``elbench run`` passes a segment deck made from
    in.lammps); in.lammps is still what the checks read.
    """
    run_dir = Path(run_dir).resolve()
    run = RunRecord.load(run_dir)
    check_single_rank(run.mpi_ranks)
    deck = run_dir / "in.lammps"
    if not deck.is_file():
        raise InputError("in.lammps not found", file=deck)
    deck = read_deck(deck)
    fix_id = validate_deck(deck)
    data_file = (run_dir / deck.read_data()).resolve()
    type_map = check_type_maps(run.type_map, data_file)
    spec = spec_from_run(run, run_dir)
    calc = make_calculator(spec)
    summary: dict[str, Any] = {"family": spec.family, "model": str(spec.model), "engine": "bridge"}
    if preflight:
        # later segments of a run reuse the first segment's passed check (same model, same frame)
        summary["preflight"] = previous_pass(run_dir, spec, "bridge") or run_preflight(
            run_dir, run, spec=spec, calc=calc, engine="bridge")
    os.chdir(run_dir)
    args = ["-nocite", "-log", "log.lammps"] + ([] if screen else ["-screen", "none"])
    lmp = new_lammps(args)
    if lmp.extract_setting("world_size") > 1:
        lmp.close()
        check_single_rank(2)
    forces: ExternalForces | None = None
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        executed = deck if deck_name == "in.lammps" else read_deck(run_dir / deck_name)
        for cmd in executed.commands:
            if forces is None and cmd.name in ("run", "minimize", "rerun"):
                raise RunError("the deck runs before its fix external line")
            lmp.command(cmd.text)
            if forces is not None:
                forces.check()
            if is_fix_external(cmd):
                z_of_type = type_numbers(type_map, spec.type_map, type_counts(lmp), file=spec.model)
                forces = ExternalForces(lmp, fix_id, calc, z_of_type, calculator_pbc(spec.family, box_pbc(lmp)))
                forces.committee = committee_writer(run, run_dir, spec)
                forces.attach()
        summary["steps"] = int(lmp.get_thermo("step"))
    except Exception as err:
        if isinstance(err, (InputError, RunError)):
            raise
        raise RunError(f"LAMMPS (bridge) failed: {err}") from None
    finally:
        if forces is not None and forces.committee is not None:
            forces.committee.close()
        lmp.close()  # closes dumps (a DCD/XTC left open loses its last frames)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    summary.update(wall_s=wall, cpu_s=cpu, calls=forces.calls if forces else 0,
                   calculator_s=forces.calc_seconds if forces else 0.0,
                   calculator_cpu_s=forces.calc_cpu_seconds if forces else 0.0)
    if forces and forces.calls:
        summary["overhead_fraction"] = max(0.0, (wall - forces.calc_seconds) / wall)
        summary["seconds_per_call"] = wall / forces.calls
        summary["calculator_seconds_per_call"] = forces.calc_seconds / forces.calls
        # CPU time is the steadier measure on a shared machine (one thread per process)
        summary["overhead_fraction_cpu"] = max(0.0, (cpu - forces.calc_cpu_seconds) / cpu) if cpu > 0 else None
        summary["cpu_seconds_per_call"] = cpu / forces.calls
        summary["last_energy"] = forces.last_energy
    if forces and forces.calls > 1:
        # between the first and the latest callback: per MD step without start-up and read_data
        (w0, c0), (w1, c1) = forces.first_call_at, forces.last_call_at
        summary["steady_seconds_per_step"] = (w1 - w0) / (forces.calls - 1)
        summary["steady_cpu_seconds_per_step"] = (c1 - c0) / (forces.calls - 1)
    (run_dir / "bridge.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m elbench.engines.bridge",
                                     description="Run a rendered elbench deck with the fix-external bridge.")
    parser.add_argument("run_dir", help="directory with in.lammps and run.json")
    parser.add_argument("--deck", default="in.lammps", help="deck to execute, relative to the run directory")
    parser.add_argument("--no-preflight", action="store_true", help="skip the first-frame parity check")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    opts = parser.parse_args(argv)
    try:
        summary = run_deck(Path(opts.run_dir), preflight=not opts.no_preflight, deck_name=opts.deck)
    except (InputError, RunError) as err:
        if opts.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2 if isinstance(err, InputError) else 1
    print(f"elbench bridge: {summary.get('steps')} steps, {summary['wall_s']:.1f} s, "
          f"calculator {summary['calculator_s']:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
