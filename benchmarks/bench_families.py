"""Per-family MD speed through elbench's engines on the same small interface (not a timed test).

For every family whose environment exists: a bridge NVT run of ``--steps`` steps, rendered
by ``elbench render`` (tests/family_runs.py), on the n = 2 system (121 atoms, repeats 4x4, 2 layers, 8 Å water), timed by the bridge itself
(``bridge.json``: wall time of the deck, time inside the calculator, calls), giving
steps/s, µs/atom/step and the bridge overhead = 1 - calculator time / wall time (the
bare calculator on the same frames). For dp, also the native ``pair_style deepmd`` run
with the env's real ``lmp`` (wall time from LAMMPS's "Loop time").

    ~/.cache/elbench/envs/core/bin/python benchmarks/bench_families.py [--steps 100] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from family_runs import render_run  # noqa: E402

from elbench import families  # noqa: E402
from elbench.engines.select import env_installed, env_python  # noqa: E402

MODELS = {"dp": "dp-tiny", "dp-mp": "dpa3-tiny", "ace": "ace-tiny", "grace": "grace-fs-tiny",
          "mace": "mace-tiny", "esen": "esen-tiny"}


def rendered(work: Path, model: str, engine: str, steps: int) -> Path:
    """The n = 2 run of ``model`` rendered by ``elbench render`` (no minimisation, one dump at the end)."""
    _toml, run_dir = render_run(work / f"{model}-{engine}", model, n=2, steps=steps, dump_interval=steps,
                                thermo_interval=steps, engine=engine)
    return run_dir


def bridge_row(family: str, model: str, work: Path, steps: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    run_dir = rendered(work, model, "bridge", steps)
    proc = subprocess.run([str(env_python(families.get(family).environment)), "-m", "elbench.engines.bridge",
                           str(run_dir), "--no-preflight"], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"family": family, "model": model, "engine": "bridge", "error": proc.stderr.strip()[-300:]}
    s = json.loads((run_dir / "bridge.json").read_text())
    n_atoms = json.loads((run_dir / "run.json").read_text())["n_atoms"]
    # steady state (first to last callback) where the bridge records it: start-up excluded
    per_step = s.get("steady_seconds_per_step", s["wall_s"] / s["calls"])
    cpu_step = s.get("steady_cpu_seconds_per_step", s["cpu_s"] / s["calls"])
    return {"family": family, "model": model, "engine": "bridge", "atoms": n_atoms, "steps": steps,
            "steps_per_s": 1.0 / per_step, "steps_per_cpu_s": 1.0 / cpu_step,
            "us_per_atom_step": per_step / n_atoms * 1e6, "cpu_us_per_atom_step": cpu_step / n_atoms * 1e6,
            "bridge_overhead_fraction": 1.0 - s["calculator_seconds_per_call"] / per_step,
            "bridge_overhead_fraction_cpu": 1.0 - s["calculator_cpu_s"] / s["calls"] / cpu_step,
            "run_dir": str(run_dir)}


def overhead_row(family: str, run_dir: Path, repeats: int) -> dict:
    """bench_bridge_overhead.py in the family's env: bridge vs bare calculator on the same frames."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        proc = subprocess.run([str(env_python(families.get(family).environment)), str(REPO / "benchmarks" / "bench_bridge_overhead.py"),
                               str(run_dir), "--repeats", str(repeats), "--json", out.name],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            return {"overhead_error": proc.stderr.strip()[-300:]}
        result = json.loads(Path(out.name).read_text())
    return {"side_by_side": {"same_frames": result["same_frames"], "repeats": repeats, **result["median"]}}


def native_dp_row(work: Path, steps: int) -> dict:
    from elbench.engines.select import env_lammps

    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    info = env_lammps("dp")  # path + env incl. the library paths deepmd's plugin needs
    run_dir = rendered(work, "dp-tiny", "native", steps)
    lmp_env = dict(env, **{k: (f"{v}:{env[k]}" if k in env and k.endswith("PATH") else v)
                           for k, v in info["env"].items()})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([info["path"], "-in", "in.lammps", "-log", "log.lammps"], cwd=run_dir,
                          capture_output=True, text=True, env=lmp_env)
    loops = re.findall(r"Loop time of ([0-9.eE+-]+) on \d+ procs for (\d+) steps with (\d+) atoms",
                       (run_dir / "log.lammps").read_text()) if proc.returncode == 0 else []
    if not loops:
        return {"family": "dp", "model": "dp-tiny", "engine": "native", "error": proc.stdout[-300:]}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)  # whole process, start-up included
    t, n, atoms = float(loops[-1][0]), int(loops[-1][1]), int(loops[-1][2])
    return {"family": "dp", "model": "dp-tiny", "engine": "native", "atoms": atoms, "steps": n,
            "steps_per_s": n / t, "us_per_atom_step": t / n / atoms * 1e6, "process_cpu_s": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--families", nargs="*", default=list(MODELS), help="families to run (default: all)")
    parser.add_argument("--overhead", type=int, default=0, metavar="REPEATS",
                        help="also time bridge vs bare calculator on the same frames, REPEATS times (0: no)")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="elbench-bench-"))
    rows = []
    for family, model in MODELS.items():
        if family not in opts.families:
            continue
        if not env_installed(families.get(family).environment):
            rows.append({"family": family, "model": model, "error": "environment not installed"})
            continue
        rows.append(bridge_row(family, model, work, opts.steps))
        if opts.overhead and "run_dir" in rows[-1]:
            rows[-1].update(overhead_row(family, Path(rows[-1]["run_dir"]), opts.overhead))
        print(json.dumps(rows[-1]), flush=True)
        if family == "dp":
            rows.append(native_dp_row(work, opts.steps))
            print(json.dumps(rows[-1]), flush=True)
    result = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                          "load_avg": os.getloadavg()}, "rows": rows}
    if opts.out:
        opts.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
