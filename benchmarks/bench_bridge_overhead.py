"""Bridge overhead against the bare calculator on the same frames, same process (not a timed test).

Run with a family environment's python (the calculator must import there)::

    ~/.cache/elbench/envs/grace/bin/python benchmarks/bench_bridge_overhead.py RUN_DIR [--repeats 3]

RUN_DIR is a rendered bridge run (``benchmarks/bench_families.py --overhead 3`` makes them and runs this).
First an untimed bridge run records every frame the callback sees (positions, cell,
numbers). Then, ``--repeats`` times: the bare calculator, the bridge deck, the bare
calculator again (its two passes averaged, which cancels a load that drifts linearly).
The bridge deck runs through ``run_deck`` without preflight; its time per step is the
steady-state time between the first and the last callback (LAMMPS start-up and
read_data excluded). The bare calculator is ``calc.calculate`` with the same properties
on one reused ``ase.Atoms`` whose positions are set to each recorded frame. The
bridge's MD is deterministic (one thread, fixed seed), so the timed bridge runs see the
recorded frames; the final energies are compared to show it (``same_frames``).

Reported (medians over the repeats): overhead = bridge per step / bare per step - 1,
wall and CPU; and, inside the same bridge steps (insensitive to load changes between
the timings), the fraction of a step spent outside the calculator.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def record_frames(run_dir: Path) -> tuple[list, list[float]]:
    """Frames (numbers, positions, cell, pbc) the callback sees in one bridge run, and its energies."""
    from elbench.engines import bridge, external

    frames, energies = [], []
    original = external.ExternalForces.evaluate

    def recording(self, types, x):
        out = original(self, types, x)
        frames.append((self.atoms.numbers.copy(), self.atoms.positions.copy(), self.atoms.cell.array.copy(),
                       tuple(self.atoms.pbc)))
        energies.append(out[0])
        return out

    external.ExternalForces.evaluate = recording
    try:
        bridge.run_deck(run_dir, preflight=False, screen=False)
    finally:
        external.ExternalForces.evaluate = original
    return frames, energies


def bare(calc, frames: list) -> dict:
    """The calculator alone on the frames: one Atoms, positions set in place, calculate() once each."""
    from ase import Atoms
    from ase.calculators.calculator import all_changes

    numbers, positions, cell, pbc = frames[0]
    atoms = Atoms(numbers=numbers, positions=positions, cell=cell, pbc=pbc)
    props = ["energy", "forces"] + (["stress"] if "stress" in calc.implemented_properties else [])
    energies = []
    start, cpu = time.perf_counter(), time.process_time()
    for _, pos, _, _ in frames:
        atoms.positions[:] = pos
        calc.calculate(atoms, props, all_changes)
        energies.append(calc.results["energy"])
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"s_per_step": wall / len(frames), "cpu_s_per_step": cpu / len(frames), "last_energy": energies[-1]}


def bridge_timed(run_dir: Path) -> dict:
    from elbench.engines import bridge

    s = bridge.run_deck(run_dir, preflight=False, screen=False)
    return {"s_per_step": s["steady_seconds_per_step"], "cpu_s_per_step": s["steady_cpu_seconds_per_step"],
            "run_s_per_step": s["seconds_per_call"], "calculator_s_per_step": s["calculator_seconds_per_call"],
            "calculator_cpu_s_per_step": s["calculator_cpu_s"] / s["calls"],
            "last_energy": s["last_energy"], "calls": s["calls"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the result here (backends print to stdout)")
    opts = parser.parse_args()
    from elbench.engines.calculators import make_calculator, spec_from_run
    from elbench.run_record import RunRecord

    run_dir = opts.run_dir.resolve()
    frames, energies = record_frames(run_dir)
    calc = make_calculator(spec_from_run(RunRecord.load(run_dir), run_dir))
    rows = []
    for _ in range(opts.repeats):
        # bare, bridge, bare: the mean of the two bare passes cancels a load that drifts linearly
        c1, b, c2 = bare(calc, frames), bridge_timed(run_dir), bare(calc, frames)
        c = {k: (c1[k] + c2[k]) / 2 for k in ("s_per_step", "cpu_s_per_step")} | {"last_energy": c2["last_energy"]}
        rows.append({"bridge": b, "bare": c, "overhead": b["s_per_step"] / c["s_per_step"] - 1.0,
                     "overhead_cpu": b["cpu_s_per_step"] / c["cpu_s_per_step"] - 1.0,
                     # inside the same steps (robust to load changes between the two timings)
                     "outside_calculator_fraction": 1.0 - b["calculator_s_per_step"] / b["s_per_step"],
                     "outside_calculator_fraction_cpu": 1.0 - b["calculator_cpu_s_per_step"] / b["cpu_s_per_step"]})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    same = [abs(r["bridge"]["last_energy"] - energies[-1]) < 1e-9 and abs(r["bare"]["last_energy"] - energies[-1]) < 1e-9
            for r in rows]
    med = {key: statistics.median(r[key] for r in rows) for key in ("overhead", "overhead_cpu", "outside_calculator_fraction",
                                                             "outside_calculator_fraction_cpu")}
    med.update({f"{side}_{k}": statistics.median(r[side][k] for r in rows)
                for side in ("bridge", "bare") for k in ("s_per_step", "cpu_s_per_step")})
    result = {"run_dir": str(run_dir), "frames": len(frames), "atoms": int(len(frames[0][0])), "repeats": opts.repeats,
              "same_frames": all(same), "median": med, "rows": rows, "load_avg": os.getloadavg()}
    print(json.dumps(result))
    if opts.json:
        opts.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
