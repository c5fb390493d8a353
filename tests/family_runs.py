"""Helpers for the per-family MD tests: small systems, run directories, family envs.

Family code runs in the family's own environment (``~/.cache/elbench/envs/<env>``):
tests start ``<env>/bin/python -m elbench.engines.bridge RUN_DIR`` as a subprocess.
A missing environment fails the test with the command that creates it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from elbench.engines.calculators import family_environment
from elbench.engines.select import env_installed, env_python

REPO = Path(__file__).resolve().parents[1]
SMALL_SYSTEM = {"repeats": [4, 4], "layers": 2, "water_thickness_A": 8.0, "charge_states": [0, 2], "seed": 2026}


def require_env(family: str) -> Path:
    """The family env's python, or a test failure that says how to create the env."""
    env = family_environment(family)
    if not env_installed(env):
        pytest.fail(f"environment '{env}' for family {family} is missing: create it with "
                    f"`scripts/setup-env {env}` (or `./dev env {env}`; `./dev test` creates all)", pytrace=False)
    return env_python(env)


def build_small_campaign(root: Path) -> Path:
    """``elbench init`` + ``elbench build`` of a 121-125 atom Au(111)/water/Na system at n = 0 and 2."""
    elbench = Path(sys.executable).parent / "elbench"
    camp = root / "campaign"
    subprocess.run([str(elbench), "init", str(camp)], check=True, capture_output=True)
    toml = (camp / "elbench.toml").read_text().splitlines()
    for key, value in SMALL_SYSTEM.items():
        toml = [f"{key} = {value}" if ln.split("=")[0].strip() == key else ln for ln in toml]
    (camp / "elbench.toml").write_text("\n".join(toml) + "\n")
    subprocess.run([str(elbench), "build", "-c", str(camp / "elbench.toml")], check=True, capture_output=True)
    return camp


def make_run_dir(run_dir: Path, system_dir: Path, model: str, *, engine: str = "bridge", steps: int = 50,
                 equilibration: int = 0, dump_interval: int = 10, seed: int = 1, temperature_K: float = 300.0,
                 manifest: Path | None = None, dump_format: str = "dcd", mpi_ranks: int = 1,
                 minimize_iterations: int = 0) -> Path:
    """A run directory rendered with elbench's deck templates (in.lammps + run.json)."""
    from elbench.config import MDConfig
    from elbench.engines.bridge import bridge_spec
    from elbench.potentials.manifest import load_manifest
    from elbench.potentials.styles import pair_style_for
    from elbench.render.deck import deck_context, model_files, pair_context, render_deck
    from elbench.render.system import system_from_dict

    manifest_path = manifest or (REPO / "potentials" / "manifest.toml")
    reg = load_manifest(manifest_path)
    entry = reg.get(model)
    info = json.loads((system_dir / "system.json").read_text())
    system = system_from_dict(info, directory=system_dir)
    md = MDConfig(temperature_K=temperature_K, timestep_fs=0.5, equilibration_ps=equilibration * 0.0005,
                  production_ps=steps * 0.0005, dump_interval_steps=dump_interval, thermo_interval_steps=10,
                  restart_interval_steps=1000, seeds=[seed], dump_format=dump_format)
    style = None if engine == "bridge" else pair_style_for(entry)
    pair = pair_context(entry, engine=engine, style=style, files=model_files(reg, entry), system=system,
                        metal=system.type_map[0], cation=system.type_map[3])
    ctx = deck_context(md=md, entry=entry, system=system, charge_state=system.n_cations, seed=seed,
                       engine=engine, pair=pair)
    if "minimize_max_iterations" in ctx:  # tiny models have holes a minimizer finds: tests skip it
        ctx["minimize_max_iterations"] = minimize_iterations
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "in.lammps").write_text(render_deck(ctx))
    shutil.copy(system_dir / "system.data", run_dir / "system.data")
    spec = bridge_spec(entry, reg)
    spec.pop("__spec__")
    run = {"model": model, "family": entry.family, "charge_state": system.n_cations, "seed": seed,
           "engine": engine, "environment": entry.environment, "type_map": list(system.type_map),
           "timestep_fs": 0.5, "temperature_K": temperature_K, "mpi_ranks": mpi_ranks,
           "steps": {"equilibration": equilibration, "production": steps},
           "dump": {"file": ctx["dump_file"], "format": dump_format, "interval_steps": dump_interval},
           "manifest": str(manifest_path), "bridge": spec}
    (run_dir / "run.json").write_text(json.dumps(run, indent=2))
    return run_dir


def run_bridge(python: Path, run_dir: Path, *extra: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    return subprocess.run([str(python), "-m", "elbench.engines.bridge", str(run_dir), *extra],
                          capture_output=True, text=True, timeout=timeout, env=env)


def read_traj(run_dir: Path, n_atoms: int):
    """The DCD through MDAnalysis with the run's data file as topology."""
    import MDAnalysis as mda

    u = mda.Universe(str(run_dir / "system.data"), str(run_dir / "traj.dcd"), format="DCD",
                     topology_format="DATA", atom_style="id type x y z", dt=0.0005)
    assert len(u.atoms) == n_atoms
    return u


_CAMPAIGNS: dict[str, Path] = {}


def small_campaign(tmp_path_factory) -> Path:
    """One built small campaign per test session."""
    if "c" not in _CAMPAIGNS:
        _CAMPAIGNS["c"] = build_small_campaign(tmp_path_factory.mktemp("small"))
    return _CAMPAIGNS["c"]


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


def check_family_md(model: str, family: str, tmp_path: Path, campaign: Path, *, n: int, steps: int = 50,
                    dump_interval: int = 10) -> dict:
    """50-step NVT through the bridge at charge state n: preflight parity, frozen atoms, readable dump."""
    import numpy as np

    python = require_env(family)
    system_dir = campaign / "systems" / f"q{n}"
    info = json.loads((system_dir / "system.json").read_text())
    run_dir = make_run_dir(tmp_path / f"{model}-q{n}", system_dir, model, steps=steps, dump_interval=dump_interval)
    proc = run_bridge(python, run_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
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
