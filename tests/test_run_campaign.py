"""`elbench run -c` on a real built and rendered reference campaign (Au(111)/water/Na+)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaign_support import build_systems, campaign_toml
from elbench.cli.main import app
from elbench.launch.trajectory import index_dcd

pytestmark = pytest.mark.lammps
runner = CliRunner()


def _toml(**kw) -> str:
    """The shared test campaign (tests/campaign_support.py), 200 steps of 0.5 fs in segments of 80 steps."""
    return campaign_toml(**({"name": "runtest", "timestep_fs": 0.5, "segment_ps": 0.04} | kw))


@pytest.fixture(scope="module")
def systems(tmp_path_factory) -> Path:
    return build_systems(tmp_path_factory.mktemp("run-build"), _toml())


def _campaign(tmp_path: Path, systems: Path, *, render: bool = True, **kw) -> Path:
    path = tmp_path / "elbench.toml"
    path.write_text(_toml(**kw))
    shutil.copytree(systems, tmp_path / "systems")
    if render:
        res = runner.invoke(app, ["render", "-c", str(path)])
        assert res.exit_code == 0, res.output
    return path


def test_run_before_render_and_unknown_model_are_refused(tmp_path, systems):
    camp = _campaign(tmp_path, systems, render=False)
    res = runner.invoke(app, ["run", "-c", str(camp)])
    assert res.exit_code == 2 and "not rendered" in res.output and "elbench render" in res.output
    res = runner.invoke(app, ["run", "-c", str(camp), "--only", "nosuch"])
    assert res.exit_code == 2 and "allowed: reference" in res.output


def test_reference_campaign_runs_in_segments(tmp_path, systems):
    camp = _campaign(tmp_path, systems)
    res = runner.invoke(app, ["run", "-c", str(camp), "--only", "reference", "--jobs", "2"])
    assert res.exit_code == 0, res.output
    d = tmp_path / "runs" / "reference" / "q1" / "s1"
    st = json.loads((d / "status.json").read_text())
    assert st["state"] == "done" and st["step"] == 200
    launch = json.loads((d / "launch.json").read_text())
    # segment_ps = 0.04 ps at 0.5 fs = 80 steps (two restart intervals); the deck minimizes first
    assert [(s["start_step"], s["end_step"]) for s in launch["segments"]] == [(0, 80), (80, 160), (160, 200)]
    assert any(k.startswith("model:") for k in launch["model_sha256"]) or launch["model_sha256"] == {}
    assert "minimize" in (d / "segments" / "001.in.lammps").read_text()
    assert "minimize" not in [ln.split()[0] for ln in (d / "segments" / "002.in.lammps").read_text().splitlines()
                              if ln.strip() and not ln.startswith("#")]
    assert index_dcd(d / "traj.dcd").steps == list(range(40, 201, 20))
    table = runner.invoke(app, ["status", "-c", str(camp)])
    assert table.exit_code == 0 and "1 done" in table.stdout


def test_absurd_timestep_on_the_interface_fails_with_reason_and_keeps_frames(tmp_path, systems):
    camp = _campaign(tmp_path, systems, timestep_fs=5.0, dump_interval_steps=2, thermo_interval_steps=2,
                     equilibration_ps=0.0)
    res = runner.invoke(app, ["run", "-c", str(camp)])
    assert res.exit_code == 1
    d = tmp_path / "runs" / "reference" / "q1" / "s1"
    st = json.loads((d / "status.json").read_text())
    assert st["state"] == "failed"
    assert any(word in st["reason"] for word in ("water dissociation", "closer than", "above the bound",
                                                  "Lost atoms", "non-finite", "ERROR"))
    steps = index_dcd(d / "traj.dcd").steps
    assert steps and steps == list(range(0, st["failed_step"], 2)) and st["last_good_frame_step"] == steps[-1]
    views = json.loads(runner.invoke(app, ["status", "-c", str(camp), "--json"]).stdout)
    assert views[0]["state"] == "failed" and f"step {st['failed_step']}" in views[0]["reason"]


def _blowup_run(tmp_path: Path, systems: Path, blowup: dict, *options: str) -> dict:
    tmp_path.mkdir()
    camp = _campaign(tmp_path, systems, blowup=blowup)
    res = runner.invoke(app, ["run", "-c", str(camp), *options])
    assert res.exit_code == 1, res.output
    return json.loads((tmp_path / "runs" / "reference" / "q1" / "s1" / "status.json").read_text())


def test_md_blowup_section_sets_the_limits_and_the_cli_overrides_them(tmp_path, systems):
    """[md.blowup] values are the run's bounds; --max-temperature-K etc. override them when given."""
    st = _blowup_run(tmp_path / "cfg", systems, {"max_temperature_K": 1.0})
    assert st["state"] == "failed" and "above the bound 1 K" in st["reason"], st
    st = _blowup_run(tmp_path / "cli", systems, {"max_temperature_K": 1.0}, "--max-temperature-K", "2")
    assert "above the bound 2 K" in st["reason"], st
    st = _blowup_run(tmp_path / "dist", systems, {"min_distance_A": 4.0})
    assert "closer than" in st["reason"] and "4" in st["reason"], st


def test_md_blowup_defaults_and_bad_key(tmp_path):
    from elbench.config import load_campaign
    from elbench.launch.campaign import options_for

    path = tmp_path / "elbench.toml"
    path.write_text(_toml())
    limits = options_for(load_campaign(path)).limits
    assert (limits.max_temperature_K, limits.min_distance_A, limits.oh_max_A, limits.max_broken_water_fraction) == \
        (1000.0, 0.6, 1.35, 0.1)
    path.write_text(_toml(blowup={"max_broken_water_fraction": 0.3, "oh_max_A": 1.5}))
    limits = options_for(load_campaign(path)).limits
    assert (limits.max_broken_water_fraction, limits.oh_max_A, limits.min_distance_A) == (0.3, 1.5, 0.6)
    path.write_text(_toml(blowup={"max_broken_water_fraction": 0.3, "max_temperature_C": 500}))
    res = runner.invoke(app, ["run", "-c", str(path)])
    assert res.exit_code == 2 and "md.blowup.max_temperature_C" in res.output and "unknown key" in res.output, res.output
