"""Helpers for the per-family MD tests: campaigns run the way a user runs them.

Every family test writes a campaign (``elbench init``, then ``elbench.toml`` edited: a
small system, the model, a short MD, the engine), and runs ``elbench build``,
``elbench render`` and ``elbench run`` as subprocesses. ``elbench run`` starts the
run's own ``run.json`` command: for the bridge, the family environment's python
(``~/.cache/elbench/envs/<env>``) on ``elbench.engines.bridge``, which reads the
calculator, committee and MPI ranks from the run record render wrote. A missing
environment fails the test with the command that creates it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from elbench import families
from elbench.engines.select import env_installed, env_python

REPO = Path(__file__).resolve().parents[1]
ELBENCH = str(Path(sys.executable).with_name("elbench"))
SMALL_SYSTEM = {"repeats": [4, 4], "layers": 2, "water_thickness_A": 8.0, "charge_states": [0, 2], "seed": 2026}
TIMESTEP_PS = 0.0005  # the campaign default, 0.5 fs


def require_env(family: str) -> Path:
    """The family env's python, or a test failure that says how to create the env."""
    env = families.get(family).environment
    if not env_installed(env):
        pytest.fail(f"environment '{env}' for family {family} is missing: create it with "
                    f"`scripts/setup-env {env}` (or `./dev env {env}`; `./dev test` creates all)", pytrace=False)
    return env_python(env)


def elbench(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """The elbench CLI as a user runs it (one OpenMP thread: the machine is shared)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([ELBENCH, *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout)


def _ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def edit_toml(toml: Path, values: dict) -> None:
    """Set ``key = value`` lines of an ``elbench init`` campaign (every key must exist in the template)."""
    lines = toml.read_text().splitlines()
    for key, value in values.items():
        hits = [i for i, ln in enumerate(lines) if ln.split("=")[0].strip() == key]
        assert len(hits) == 1, f"{key} appears {len(hits)} times in {toml}"
        lines[hits[0]] = f"{key} = {json.dumps(value) if isinstance(value, str) else value}"
    toml.write_text("\n".join(lines) + "\n")


def write_campaign(root: Path, model: str, *, n: int, steps: int = 50, dump_interval: int = 10,
                   thermo_interval: int = 10, engine: str = "bridge", equilibration_steps: int = 0,
                   manifest: Path | None = None, minimize_iterations: int = 0) -> Path:
    """``elbench init`` + a small system at charge state ``n``, ``model`` alone, a short NVT, ``engine``.

    Tiny test models have holes a minimizer finds, so the deck's minimisation is off by default.
    """
    _ok(elbench("init", root))
    toml = root / "elbench.toml"
    edit_toml(toml, {**SMALL_SYSTEM, "charge_states": [n], "models": [model],
                     "manifest": str(manifest) if manifest else "builtin",
                     "equilibration_ps": round(equilibration_steps * TIMESTEP_PS, 9),
                     "production_ps": round(steps * TIMESTEP_PS, 9), "dump_interval_steps": dump_interval,
                     "thermo_interval_steps": thermo_interval, "restart_interval_steps": 1000,
                     "minimize_max_iterations": minimize_iterations, "engine": engine})
    return toml


def render_run(root: Path, model: str, *, n: int, seed: int = 1, **kw) -> tuple[Path, Path]:
    """A campaign built and rendered with ``elbench build`` / ``elbench render``: (elbench.toml, run dir)."""
    toml = write_campaign(root, model, n=n, **kw)
    for verb in ("build", "render"):
        _ok(elbench(verb, "-c", toml, timeout=900))
    return toml, root / "runs" / model / f"q{n}" / f"s{seed}"


def run_campaign(toml: Path) -> subprocess.CompletedProcess:
    """``elbench run`` with the water-dissociation and close-contact bounds lifted: the tiny test models are
    not physical (ace-tiny brings an H within 0.56 Å of an O within 20 steps); the run still stops on NaN,
    lost atoms and runaway temperature, and the blow-up checks have their own tests (test_launch_runs.py)."""
    return _ok(elbench("run", "-c", toml, "--max-broken-water-fraction", "1.0", "--min-distance-A", "0.1"))


def read_traj(run_dir: Path, n_atoms: int):
    """The DCD through MDAnalysis with the run's data file as topology."""
    import MDAnalysis as mda

    u = mda.Universe(str(run_dir / "system.data"), str(run_dir / "traj.dcd"), format="DCD",
                     topology_format="DATA", atom_style="id type x y z", dt=TIMESTEP_PS)
    assert len(u.atoms) == n_atoms
    return u


def initial_positions(data_file: Path) -> "np.ndarray":
    """Positions of the data file, ordered by atom id."""
    import numpy as np

    lines = data_file.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("Atoms")) + 2
    rows = []
    for ln in lines[start:]:
        if not ln.strip():
            break
        rows.append([float(v) for v in ln.split()[:5]])
    arr = np.array(sorted(rows))
    return arr[:, 2:5]


def check_family_md(model: str, family: str, tmp_path: Path, *, n: int, steps: int = 50,
                    dump_interval: int = 10) -> dict:
    """50-step NVT through the bridge at charge state n, rendered and run with elbench:
    preflight parity, frozen atoms, readable dump."""
    import numpy as np

    require_env(family)
    camp = tmp_path / f"{model}-q{n}"
    toml, run_dir = render_run(camp, model, n=n, steps=steps, dump_interval=dump_interval)
    record = json.loads((run_dir / "run.json").read_text())
    assert record["engine"] == "bridge" and record["calculator"]["family"] == family
    run_campaign(toml)
    info = json.loads((camp / "systems" / f"q{n}" / "system.json").read_text())
    pre = json.loads((run_dir / "preflight.json").read_text())
    assert pre["passed"] is True
    assert pre["energy_diff_eV_per_atom"] < pre["tolerances"]["energy_eV_per_atom"]
    assert pre["force_max_abs_diff_eV_per_A"] < pre["tolerances"]["force_eV_per_A"]
    assert pre["force_max_abs_eV_per_A"] > 1e-3  # the model gives real, non-zero forces
    assert np.isfinite(pre["nve"]["drift_eV_per_atom_per_ps"])
    assert json.loads((run_dir / "run.json").read_text())["preflight"]["passed"] is True
    if "pressure_max_abs_diff_bar" in pre:  # virial reaches LAMMPS every step
        assert pre["pressure_max_abs_diff_bar"] < 1e-3 * max(1.0, pre["pressure_max_abs_bar"])
    summary = json.loads((run_dir / "bridge.json").read_text())
    assert summary["steps"] == steps
    n_atoms = info["counts"]["atoms"]
    u = read_traj(run_dir, n_atoms)
    assert len(u.trajectory) == steps // dump_interval + 1  # complete: the last frame was flushed
    x0 = initial_positions(run_dir / "system.data")
    fixed = info["n_fixed_atoms"]
    u.trajectory[-1]
    last = u.atoms.positions.astype(float)
    np.testing.assert_allclose(last[:fixed], x0[:fixed], atol=2e-4)  # frozen atoms stay put
    moved = np.linalg.norm(last[fixed:] - x0[fixed:], axis=1)
    assert moved.max() > 1e-3  # mobile atoms did move
    assert (run_dir / "log.lammps").is_file()
    return {"preflight": pre, "bridge": summary, "run_dir": run_dir}
