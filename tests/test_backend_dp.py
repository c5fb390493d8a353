"""DeePMD se_e2_a (TF backend) in the dp env: native `pair_style deepmd` and the bridge.

* 50-step NVT through the bridge at n = 0 and n = 2 (preflight, frozen atoms, dump);
* native preflight: the plugin's pair style vs deepmd's Python calculator on the first frame;
* native vs bridge: 20 steps of the same deck give the same trajectory within 1e-8 Å;
* a real campaign (``binary = "auto"``): render picks native from the dp env's LAMMPS (its
  plugin styles, which ``lmp -h`` does not list), and ``elbench run`` preflights and runs it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import numpy as np
import pytest

from elbench.engines.select import env_binary, env_lammps
from elbench.potentials.manifest import load_manifest
from elbench.potentials.styles import choose_engine
from elbench.run_record import RunRecord
from family_runs import REPO, SMALL_SYSTEM, check_family_md, read_traj, render_run, require_env



@pytest.mark.lammps
@pytest.mark.parametrize("n", [0, 2])
def test_dp_tiny_bridge_nvt(n: int, tmp_path) -> None:
    check_family_md("dp-tiny", "dp", tmp_path, n=n)


def _precise_dump(run_dir, steps: int) -> None:
    """Replace the deck's DCD dump with a full-precision text dump of every step."""
    deck = (run_dir / "in.lammps").read_text()
    deck = re.sub(r"^dump\s+traj.*$", "dump traj all custom 1 traj.txt id x y z\n"
                  "dump_modify traj format float %.17g sort id", deck, flags=re.M)
    deck = re.sub(r"^restart\s.*$", "", deck, flags=re.M)
    (run_dir / "in.lammps").write_text(deck)


def _frames(path) -> np.ndarray:
    frames, lines = [], path.read_text().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("ITEM: NUMBER OF ATOMS"):
            n = int(lines[i + 1])
            start = i + 7  # N, BOX BOUNDS + 3 lines, ITEM: ATOMS
            frames.append(np.array([[float(v) for v in ln.split()[1:4]] for ln in lines[start:start + n]]))
            i = start + n
        else:
            i += 1
    return np.array(frames)


@pytest.mark.lammps
def test_dp_native_matches_bridge(tmp_path) -> None:
    python = require_env("dp")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    info = env_lammps("dp")
    assert info is not None and "deepmd" in info["pair"], "the dp env's LAMMPS must load pair_style deepmd (plugin)"
    entry = load_manifest(REPO / "potentials" / "manifest.toml").get("dp-tiny")
    assert choose_engine(env_binary("dp"), entry, requested="auto") == ("native", "binary has pair style deepmd")
    # the same campaign rendered for each engine (elbench render); the decks are then edited and run directly
    _, native = render_run(tmp_path / "native", "dp-tiny", n=2, engine="native", steps=20, dump_interval=1)
    _, bridge = render_run(tmp_path / "bridge", "dp-tiny", n=2, engine="bridge", steps=20, dump_interval=1)
    for run_dir in (native, bridge):
        _precise_dump(run_dir, 20)
    # native: preflight in the dp env, then the real lmp binary with the deepmd plugin
    pre = subprocess.run([str(python), "-m", "elbench.engines.preflight", str(native), "--engine", "native"],
                         capture_output=True, text=True, env=env, timeout=900)
    assert pre.returncode == 0, pre.stderr[-2000:]
    record = json.loads((native / "preflight.json").read_text())
    assert record["passed"] and record["energy_diff_eV_per_atom"] < 1e-6 and record["force_max_abs_diff_eV_per_A"] < 1e-5
    lmp_env = dict(env, **{k: (f"{v}:{env[k]}" if k in env and k.endswith("PATH") else v) for k, v in info["env"].items()})
    proc = subprocess.run([info["path"], "-in", "in.lammps", "-log", "log.lammps"], cwd=native, capture_output=True,
                          text=True, env=lmp_env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    proc = subprocess.run([str(python), "-m", "elbench.engines.bridge", str(bridge), "--no-preflight"],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    a, b = _frames(native / "traj.txt"), _frames(bridge / "traj.txt")
    assert a.shape == b.shape and a.shape[0] == 21
    assert np.max(np.abs(a - b)) < 1e-8
    assert np.max(np.abs(a[-1] - a[0])) > 1e-3  # atoms moved


def _campaign_toml(text: str, values: dict) -> str:
    lines = text.splitlines()
    for key, value in values.items():
        lines = [f"{key} = {value}" if ln.split("=")[0].strip() == key else ln for ln in lines]
    return "\n".join(lines) + "\n"


@pytest.mark.lammps
def test_dp_campaign_renders_and_runs_native(tmp_path) -> None:
    """models = ["dp-tiny"], binary = "auto": native in the dp env's LAMMPS, preflight recorded, 50 steps done."""
    require_env("dp")
    elbench = os.path.join(os.path.dirname(os.sys.executable), "elbench")
    camp = tmp_path / "camp"
    subprocess.run([elbench, "init", str(camp)], check=True, capture_output=True)
    toml = camp / "elbench.toml"
    values = {**SMALL_SYSTEM, "models": '["dp-tiny"]', "charge_states": [2], "equilibration_ps": 0.005,
              "production_ps": 0.02, "dump_interval_steps": 10, "thermo_interval_steps": 10,
              "restart_interval_steps": 1000}
    toml.write_text(_campaign_toml(toml.read_text(), values))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for verb in ("build", "render"):
        proc = subprocess.run([elbench, verb, "-c", str(toml)], capture_output=True, text=True, env=env, timeout=900)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    run_dir = camp / "runs" / "dp-tiny" / "q2" / "s1"
    run = json.loads((run_dir / "run.json").read_text())
    info = env_lammps("dp")
    assert run["engine"] == "native", run["engine_reason"]
    assert run["pair_style"].startswith("deepmd")
    assert info["path"] in run["command"] and "/envs/dp/" in info["path"]
    assert re.search(r"^pair_style\s+deepmd\s", (run_dir / "in.lammps").read_text(), re.M)
    # the deck's minimizer finds a hole of the 2000-step tiny model (E drops ~24 eV, waters split):
    # the water-dissociation bound is lifted; the run still stops on NaN/lost atoms/temperature
    proc = subprocess.run([elbench, "run", "-c", str(toml), "--max-broken-water-fraction", "1.0"],
                          capture_output=True, text=True, env=env, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "done" and status["step"] == 50
    pre = json.loads((run_dir / "preflight.json").read_text())
    assert pre["engine"] == "native" and pre["passed"] is True
    assert pre["energy_diff_eV_per_atom"] < 1e-6 and pre["force_max_abs_diff_eV_per_A"] < 1e-5
    assert pre["force_max_abs_eV_per_A"] > 1e-3 and np.isfinite(pre["nve"]["drift_eV_per_atom_per_ps"])
    recorded = json.loads((run_dir / "run.json").read_text())["preflight"]
    assert recorded["passed"] is True and recorded["energy_diff_eV_per_atom"] == pre["energy_diff_eV_per_atom"]
    n_atoms = json.loads((camp / "systems" / "q2" / "system.json").read_text())["counts"]["atoms"]
    u = read_traj(run_dir, n_atoms)
    assert len(u.trajectory) == 40 // 10 + 1  # production frames 10, 20, 30, 40, 50 (step 10 on)
    assert np.all(np.isfinite(u.atoms.positions))


@pytest.mark.lammps
def test_native_preflight_failure_fails_the_run(tmp_path) -> None:
    """A native run whose preflight cannot pass (the model file the check loads is corrupt) is failed, with why."""
    from elbench.launch.runner import RunOptions, run_one

    require_env("dp")
    camp = tmp_path / "camp"
    elbench = os.path.join(os.path.dirname(os.sys.executable), "elbench")
    subprocess.run([elbench, "init", str(camp)], check=True, capture_output=True)
    toml = camp / "elbench.toml"
    toml.write_text(_campaign_toml(toml.read_text(), {**SMALL_SYSTEM, "models": '["dp-tiny"]', "charge_states": [0],
                                                      "equilibration_ps": 0.0, "production_ps": 0.005}))
    for verb in ("build", "render"):
        proc = subprocess.run([elbench, verb, "-c", str(toml)], capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    run_dir = camp / "runs" / "dp-tiny" / "q0" / "s1"
    run = json.loads((run_dir / "run.json").read_text())
    assert run["engine"] == "native"
    # the preflight reads the run record's calculator: point it at a model file that is no graph
    bad = tmp_path / "reg"
    bad.mkdir()
    (bad / "bad.pb").write_bytes(b"not a tensorflow graph")
    record = RunRecord.load(run_dir)
    calculator = record.calculator.model_copy(update={"model": str(bad / "bad.pb")})
    record.model_copy(update={"calculator": calculator}).save(run_dir)
    outcome = run_one(run_dir, RunOptions())
    assert outcome.state == "failed" and "preflight failed" in outcome.message
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "failed" and status["reason"].startswith("preflight failed")
    assert json.loads((run_dir / "preflight.json").read_text())["passed"] is False
    assert json.loads((run_dir / "run.json").read_text())["preflight"]["passed"] is False
    assert not (run_dir / "log.lammps").exists()  # no segment started
