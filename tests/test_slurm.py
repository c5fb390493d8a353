"""`elbench submit` and `elbench status` on a real one-node SLURM cluster started by the test session.

A small reference campaign (2 charge states, 200 steps each in 3 segments) is built,
rendered, submitted as a job array, run by slurmd, and checked through `elbench status`
and its outputs; a requeued task continues from its restart; bad input is refused
with the scheduler's own error in one line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaign_support import campaign_toml  # noqa: E402
from elbench.cli.main import app
from elbench.launch.trajectory import index_dcd

sys.path.insert(0, str(Path(__file__).parent))
from slurm.cluster import start_cluster, use_cluster, wait_for_jobs  # noqa: E402

pytestmark = [pytest.mark.lammps, pytest.mark.slow]
runner = CliRunner()

SLURM = {"time": "00:30:00", "cpus_per_task": 1, "setup_lines": ["echo elbench-setup-line-ran"]}


@pytest.fixture(scope="session")
def slurm_cluster() -> str:
    conf = start_cluster()
    use_cluster(conf)
    return conf


def _campaign(root: Path, *, name: str = "slurmtest", charge_states=(0, 1), production_ps: float = 0.08,
              segment_ps: float = 0.04, slurm_extra: dict | None = None, systems_from: Path | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "elbench.toml"
    path.write_text(campaign_toml(name=name, charge_states=list(charge_states), production_ps=production_ps,
                                  segment_ps=segment_ps, slurm=SLURM | (slurm_extra or {})))
    if systems_from is not None:
        import shutil

        shutil.copytree(systems_from, root / "systems")
    else:
        res = runner.invoke(app, ["build", "-c", str(path)])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["render", "-c", str(path)])
    assert res.exit_code == 0, res.output
    return path


@pytest.fixture(scope="module")
def built_systems(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("slurm-build")
    path = root / "elbench.toml"
    path.write_text(campaign_toml(name="b", charge_states=[0, 1], segment_ps=0.04, slurm=SLURM))
    res = runner.invoke(app, ["build", "-c", str(path)])
    assert res.exit_code == 0, res.output
    return root / "systems"


def _submissions(campaign: Path) -> list[dict]:
    return json.loads((campaign.parent / "jobs" / "submissions.json").read_text())


def _status_json(campaign: Path) -> list[dict]:
    res = runner.invoke(app, ["status", "-c", str(campaign), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_dry_run_prints_scripts_and_submits_nothing(tmp_path, built_systems):
    camp = _campaign(tmp_path, systems_from=built_systems,
                     slurm_extra={"partition": "gpu", "account": "proj1", "qos": "normal", "gpus_per_node": 2,
                                  "array_max_parallel": 1})
    res = runner.invoke(app, ["submit", "-c", str(camp), "--dry-run", "--per-model", "--scratch", "$TMPDIR"])
    assert res.exit_code == 0, res.output
    out = res.stdout
    for directive in ("--array=0-1%1", "--partition=gpu", "--account=proj1", "--qos=normal", "--gpus-per-node=2",
                      "--time=00:30:00", "--requeue", "--signal=B:USR1@300", "--cpus-per-task=1"):
        assert f"#SBATCH {directive}" in out
    assert out.count("#!/bin/bash") == 1 and "echo elbench-setup-line-ran" in out
    assert 'WORK_DIR="$TMPDIR/elbench-${SLURM_JOB_ID}"' in out
    assert "run -c" in out and "--resume" in out and "-in in.lammps" in out  # the run's lmp command, shown
    assert str(camp.parent / "runs" / "reference" / "q1" / "s1") in out
    assert not (camp.parent / "jobs").exists()


def test_optional_directives_are_left_out(tmp_path, built_systems):
    camp = _campaign(tmp_path, systems_from=built_systems)
    res = runner.invoke(app, ["submit", "-c", str(camp), "--dry-run"])
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    assert "#SBATCH --array=0-1" in lines
    for absent in ("--partition", "--account", "--qos", "--gpus-per-node"):
        assert not any(line.startswith(f"#SBATCH {absent}") for line in lines)
    assert 'WORK_DIR="$RUN_DIR"' in lines


def test_campaign_runs_on_slurm(tmp_path, built_systems, slurm_cluster):
    camp = _campaign(tmp_path, systems_from=built_systems)
    res = runner.invoke(app, ["submit", "-c", str(camp), "--hold"])
    assert res.exit_code == 0, res.output
    subs = _submissions(camp)
    assert len(subs) == 1 and len(subs[0]["runs"]) == 2
    job = subs[0]["job_id"]
    early = {v["run"]: v for v in _status_json(camp)}
    assert {v["job"] for v in early.values()} == {f"{job}_0", f"{job}_1"}
    assert all(v["state"] == "queued" and "JobHeld" in v["reason"] for v in early.values()), early
    again = runner.invoke(app, ["submit", "-c", str(camp)])
    assert "2 run(s) queued or running: not submitted" in again.stdout
    subprocess.run(["scontrol", "release", job], check=True, capture_output=True)
    wait_for_jobs([job], timeout_s=400)
    views = {v["run"]: v for v in _status_json(camp)}
    assert set(views) == {"reference/q0/s1", "reference/q1/s1"}
    for key, v in views.items():
        assert v["state"] == "done", v
        assert v["step"] == v["total_steps"] == 200
        assert v["ns_done"] == pytest.approx(200 * 0.5e-6) and v["ns_per_day"] > 0
        d = Path(v["path"])
        launch = json.loads((d / "launch.json").read_text())
        segs = launch["segments"]
        assert [(s["start_step"], s["end_step"]) for s in segs] == [(0, 80), (80, 160), (160, 200)]
        assert all(s["slurm_job_id"] and s["exit_code"] == 0 for s in segs)
        assert index_dcd(d / "traj.dcd").steps == list(range(40, 201, 20))
    logs = sorted((camp.parent / "jobs" / "logs").glob("*.out"))
    assert len(logs) == 2 and all("elbench-setup-line-ran" in p.read_text() for p in logs)
    table = runner.invoke(app, ["status", "-c", str(camp)])
    assert "2 done" in table.stdout
    again = runner.invoke(app, ["submit", "-c", str(camp)])
    assert "2 run(s) done: not submitted" in again.stdout and "nothing to submit" in again.stdout


@pytest.mark.parametrize("how", ["time-limit signal", "scontrol requeue"])
def test_requeued_task_continues_from_its_restart(how, tmp_path, built_systems, slurm_cluster):
    """USR1 is what `#SBATCH --signal=B:USR1@grace` sends before the time limit; the script stops
    elbench and requeues itself. `scontrol requeue` (preemption, an admin) kills the job and requeues it."""
    camp = _campaign(tmp_path, name="requeue", charge_states=(0,), production_ps=0.16, segment_ps=0.08,
                     systems_from=built_systems)
    res = runner.invoke(app, ["submit", "-c", str(camp)])
    assert res.exit_code == 0, res.output
    job = _submissions(camp)[0]["job_id"]
    d = camp.parent / "runs" / "reference" / "q0" / "s1"
    deadline = time.time() + 300
    while time.time() < deadline:
        st = json.loads((d / "status.json").read_text()) if (d / "status.json").exists() else {}
        if st.get("step", 0) >= 100 and st.get("state") == "running":
            break
        time.sleep(0.3)
    assert st.get("state") == "running", st
    if how == "scontrol requeue":
        subprocess.run(["scontrol", "requeue", f"{job}_0"], check=True, capture_output=True)
    else:
        subprocess.run(["scancel", "--batch", "--signal=USR1", f"{job}_0"], check=True, capture_output=True)
    # SLURM holds a requeued job for cred_expire seconds (10 s on the test cluster, 120 s by default)
    time.sleep(1.0)
    wait_for_jobs([job], timeout_s=400)
    st = json.loads((d / "status.json").read_text())
    assert st["state"] == "done", st
    # the interruption may land inside a segment or between two (then no segment exits non-zero):
    # the requeue itself is what the job log below shows, in both cases
    assert index_dcd(d / "traj.dcd").steps == list(range(40, 361, 20))
    log = next((camp.parent / "jobs" / "logs").glob("*.out")).read_text()
    assert "restart 1" in log
    if how != "scontrol requeue":
        assert "run interrupted; requeueing" in log


def test_unknown_partition_passes_the_scheduler_error_in_one_line(tmp_path, built_systems, slurm_cluster):
    camp = _campaign(tmp_path, systems_from=built_systems, slurm_extra={"partition": "nosuchpartition"})
    res = runner.invoke(app, ["submit", "-c", str(camp)])
    assert res.exit_code == 2
    err = res.output.strip()
    assert len(err.splitlines()) == 1 and "Invalid partition name specified" in err and "key 'slurm'" in err
    assert not (camp.parent / "jobs" / "submissions.json").exists()


def test_missing_sbatch_is_one_line(tmp_path, built_systems, monkeypatch):
    camp = _campaign(tmp_path, systems_from=built_systems)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    res = runner.invoke(app, ["submit", "-c", str(camp)])
    assert res.exit_code == 2
    assert "sbatch not found" in res.output and len(res.output.strip().splitlines()) == 1


def _two_stage_campaign(tmp_path: Path, built_systems: Path) -> Path:
    """md.start_from = "reference" with dp-tiny through the bridge (equilibrations of q0 and q1, then productions)."""
    import shutil

    from family_runs import require_env

    require_env("dp")
    path = tmp_path / "elbench.toml"
    path.write_text(campaign_toml(name="twostage", models=["dp-tiny"], charge_states=[0, 1], start_from="reference",
                                  reference_equilibration_ps=0.02, production_ps=0.02, segment_ps=0.04,
                                  lammps={"engine": "bridge"}, blowup={"max_broken_water_fraction": 1.0},
                                  slurm=SLURM))
    shutil.copytree(built_systems, tmp_path / "systems")
    assert runner.invoke(app, ["render", "-c", str(path)]).exit_code == 0
    return path


def test_two_stage_campaign_in_one_job(tmp_path, built_systems, slurm_cluster):
    path = _two_stage_campaign(tmp_path, built_systems)
    assert "--one-job" in runner.invoke(app, ["submit", "-c", str(path), "--one-job", "--per-model"]).output
    res = runner.invoke(app, ["submit", "-c", str(path), "--one-job"])
    assert res.exit_code == 0, res.output
    subs = _submissions(path)
    assert len(subs) == 1 and subs[0]["one_job"] and len(subs[0]["runs"]) == 4
    assert "#SBATCH --array=0-0" in Path(subs[0]["script"]).read_text()
    wait_for_jobs([subs[0]["job_id"]], timeout_s=500)
    views = {v["run"]: v for v in _status_json(path)}
    assert len(views) == 4 and all(v["state"] == "done" for v in views.values()), views
    assert {v["job"] for v in views.values()} == {f"{subs[0]['job_id']}_0"}


def test_two_stage_campaign_waits_for_its_equilibrations(tmp_path, built_systems, slurm_cluster):
    """md.start_from = "reference": the equilibration array first, the production array after it (afterok)."""
    path = _two_stage_campaign(tmp_path, built_systems)
    dry = runner.invoke(app, ["submit", "-c", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "after the equilibration array(s) (afterok)" in dry.stdout
    assert "--scratch is not supported" in runner.invoke(app, ["submit", "-c", str(path), "--scratch", "/tmp"]).output
    res = runner.invoke(app, ["submit", "-c", str(path)])
    assert res.exit_code == 0, res.output
    subs = _submissions(path)
    assert [s["name"] for s in subs] == ["equilibration", "campaign"]
    assert f"after afterok:{subs[0]['job_id']}" in res.stdout
    wait_for_jobs([s["job_id"] for s in subs], timeout_s=500)
    views = {v["run"]: v for v in _status_json(path)}
    assert set(views) == {"equilibration/q0/s1", "equilibration/q1/s1", "dp-tiny/q0/s1", "dp-tiny/q1/s1"}
    assert all(v["state"] == "done" for v in views.values()), views
    for n in (0, 1):
        launch = json.loads((tmp_path / "runs" / "dp-tiny" / f"q{n}" / "s1" / "launch.json").read_text())
        assert launch["start_state"]["file"] == "start.data" and launch["segments"][0]["slurm_job_id"]
