"""`elbench run --engine auto|native|bridge`: unstarted runs switch engine, started ones never do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from family_runs import SMALL_SYSTEM, require_env

pytestmark = pytest.mark.lammps
ELBENCH = str(Path(sys.executable).with_name("elbench"))


def _campaign(root: Path) -> Path:
    subprocess.run([ELBENCH, "init", str(root)], check=True, capture_output=True)
    values = {**SMALL_SYSTEM, "models": '["dp-tiny"]', "charge_states": "[2]", "equilibration_ps": 0.005,
              "production_ps": 0.01, "dump_interval_steps": 10, "thermo_interval_steps": 10,
              "restart_interval_steps": 1000}
    toml = root / "elbench.toml"
    lines = toml.read_text().splitlines()
    lines = [f"{ln.split('=')[0].strip()} = {values[ln.split('=')[0].strip()]}" if ln.split("=")[0].strip() in values
             else ln for ln in lines]
    toml.write_text("\n".join(lines) + "\n")
    return toml


def _elbench(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([ELBENCH, *args], capture_output=True, text=True, env=env, timeout=1800)


def test_engine_switch_before_start_and_refusal_after(tmp_path):
    require_env("dp")
    toml = _campaign(tmp_path / "camp")
    for verb in ("build", "render"):
        assert _elbench(verb, "-c", str(toml)).returncode == 0
    run_dir = tmp_path / "camp" / "runs" / "dp-tiny" / "q2" / "s1"
    assert json.loads((run_dir / "run.json").read_text())["engine"] == "native"  # auto: the dp plugin loads

    bad = _elbench("run", "-c", str(toml), "--engine", "warp")
    assert bad.returncode == 2 and "auto, native, bridge" in bad.stderr
    assert not (run_dir / "status.json").exists()

    proc = _elbench("run", "-c", str(toml), "--engine", "bridge", "--max-broken-water-fraction", "1.0")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "engine of dp-tiny: bridge" in " ".join(proc.stdout.split())
    record = json.loads((run_dir / "run.json").read_text())
    assert record["engine"] == "bridge" and "elbench.engines.bridge" in " ".join(record["command"])
    assert "fix external" in " ".join((run_dir / "in.lammps").read_text().split()) or \
        "external pf/callback" in (run_dir / "in.lammps").read_text()
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "done" and status["step"] == 30

    refused = _elbench("run", "-c", str(toml), "--engine", "native")
    assert refused.returncode == 2
    assert "started with engine bridge" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert json.loads((run_dir / "run.json").read_text())["engine"] == "bridge"  # untouched
