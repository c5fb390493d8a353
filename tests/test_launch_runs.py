"""The launcher on the real LAMMPS binary: segments, SIGKILL + resume, corrupt restarts,
blow-ups, LAMMPS errors, edited run directories, locks, MPI and the bridge's rank limit.

Every run here is rendered by elbench from a small reference campaign, as a user renders
one (tests/reference_runs.py: ``elbench build`` once per module, ``elbench render`` per test
with the test's own MD settings). The few tests of hand-edited directories render first and
then edit the rendered files, as a user would.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from elbench.cli.main import app
from elbench.io import sha256_file
from elbench.launch import lock
from elbench.launch.logparse import read_log
from elbench.launch.runner import RunOptions, run_one
from elbench.launch.trajectory import index_dcd
from reference_runs import build_systems, render_runs

pytestmark = pytest.mark.lammps
ELBENCH = [str(Path(sys.executable).parent / "elbench")]


@pytest.fixture(scope="module")
def systems(tmp_path_factory) -> Path:
    """``elbench build`` once for the module (deterministic); every test renders from a copy."""
    return build_systems(tmp_path_factory.mktemp("launch-build"))


@pytest.fixture
def render(systems):
    """``render(root, **md)``: the one run dir of :func:`render_runs` (seed 1)."""
    return lambda root, **md: render_runs(root, systems, **md)[0]


def _edit_deck(d: Path, pattern: str, replacement: str) -> None:
    """Edit the rendered in.lammps as a user would (one regex substitution that must hit)."""
    deck, n = re.subn(pattern, replacement, (d / "in.lammps").read_text(), flags=re.M)
    assert n == 1, pattern
    (d / "in.lammps").write_text(deck)


def _inputs(d: Path) -> dict:
    return json.loads((d / "run.json").read_text())["inputs"]


def _status(d: Path) -> dict:
    return json.loads((d / "status.json").read_text())


def _launch(d: Path) -> dict:
    return json.loads((d / "launch.json").read_text())


def _frames(d: Path, name: str = "traj.dcd"):
    import MDAnalysis as mda

    u = mda.Universe(str(d / "system.data"), str(d / name), atom_style="id type x y z", format="DCD")
    box = u.trajectory[0].dimensions[:3]
    xyz = np.array([ts.positions.copy() for ts in u.trajectory])
    h_type = str(json.loads((d / "run.json").read_text())["type_map"].index("H") + 1)
    return _Frames(xyz, box, u.atoms.types != h_type)


class _Frames(np.ndarray):
    def __new__(cls, xyz, box, heavy):
        obj = np.asarray(xyz).view(cls)
        obj.box = box
        obj.heavy = heavy
        return obj


def _max_jump(xyz) -> float:
    """Largest minimum-image displacement of any Au, O or Na atom between consecutive frames (Å).

    H is left out: its O-H vibration moves it up to 0.75 Å in 10 fs (20 steps), while Au and O move
    less than 0.2 Å; a trajectory resumed from the wrong restart moves them further than 0.5 Å.
    """
    step = np.diff(np.asarray(xyz)[:, xyz.heavy], axis=0)
    step -= xyz.box * np.round(step / xyz.box)
    return float(np.abs(step).max())


def test_segments_chain_into_one_trajectory(tmp_path, render):
    d = render(tmp_path, eq_steps=100, prod_steps=300, dump_every=10, restart_every=50)
    out = run_one(d, RunOptions(segment_steps=120, poll_s=0.05))
    assert out.state == "done", out.message
    launch = _launch(d)
    segs = launch["segments"]
    assert [(s["start_step"], s["end_step"]) for s in segs] == [(0, 150), (150, 300), (300, 400)]
    assert [s["restart_from"] for s in segs] == [None, "restart.a", "restart.a"] or all(
        s["restart_from"] in ("restart.a", "restart.b") for s in segs[1:]
    )
    assert all(s["exit_code"] == 0 and s["command"][-4:] == ["-in", f"segments/{s['index']:03d}.in.lammps",
                                                               "-log", "none"] for s in segs)
    # provenance: versions, host, hashes, times
    assert launch["elbench_version"] and "Update" in launch["lammps"]["version"]
    assert {"MANYBODY", "KSPACE"} <= set(launch["lammps"]["packages"])
    assert set(launch["inputs_sha256"]) == set(_inputs(d)) == {"in.lammps", "system.data", "system_full.data"}
    assert all(s["started_utc"] <= s["ended_utc"] and s["host"] for s in segs)
    # every production frame exactly once, in order, and no jump at segment boundaries
    assert index_dcd(d / "traj.dcd").steps == list(range(100, 401, 10))
    xyz = _frames(d)
    assert len(xyz) == 31 and _max_jump(xyz) < 0.5
    # status: done, the whole timeline, ns from the timestep (0.5 fs)
    st = _status(d)
    assert st["state"] == "done" and st["step"] == 400 and st["ns_done"] == pytest.approx(400 * 0.5e-6)
    assert st["ns_per_day"] > 0
    # log.lammps holds the thermo rows of every segment
    rows, _ = read_log(d / "log.lammps")
    steps = sorted({int(r["Step"]) for r in rows})
    assert steps[0] == 0 and steps[-1] == 400 and len(steps) == 41
    assert not list((d / "segments").glob("*.traj.dcd"))  # joined, segment files removed
    # a done run is not run again
    assert run_one(d, RunOptions(resume=True)).state == "skipped"


def _newest_step(d: Path) -> int:
    logs = sorted((d / "segments").glob("*.log.lammps")) if (d / "segments").exists() else []
    if not logs:
        return -1
    rows, _ = read_log(logs[-1])
    return int(rows[-1]["Step"]) if rows else -1


def _start_and_wait(d: Path, cwd: Path, at_step: int, extra: list[str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(ELBENCH + ["run", "--run-dir", str(d), *extra], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    step = -1
    while time.time() < deadline and proc.poll() is None:
        step = _newest_step(d)
        if step >= at_step:
            break
        time.sleep(0.005)
    assert proc.poll() is None, f"run ended before step {at_step}: {proc.stdout.read().decode()}"
    return proc, step


def test_sigkill_at_a_random_step_then_resume_keeps_every_frame_once(tmp_path, render):
    d = render(tmp_path, eq_steps=100, prod_steps=3000, dump_every=20, restart_every=200, thermo_every=20)
    rng = random.Random(os.getpid())
    kill_at = rng.randrange(300, 2600)
    while kill_at % 1000 < 40 or kill_at % 1000 > 940:  # mid-segment, not while the runner switches segments
        kill_at = rng.randrange(300, 2600)
    # 0.5 ps segments of 1000 steps at 0.5 fs: the kill lands in segment 1, 2 or 3
    proc, step = _start_and_wait(d, tmp_path, kill_at, ["--segment-ps", "0.5"])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.3)  # LAMMPS dies with its parent (PDEATHSIG)
    # LAMMPS may have gone on for a few steps between our read and its death: its log says how far
    step = max(step, _newest_step(d))
    assert _status(d)["state"] == "running"  # what a crash leaves behind
    assert lock.read_lock(d)["pid"] == proc.pid  # a stale lock
    killed = _launch(d)["segments"][-1]
    assert "ended_utc" not in killed and killed["start_step"] <= step <= killed["end_step"]
    partial = index_dcd(d / "segments" / f"{killed['index']:03d}.traj.dcd").steps
    assert partial and partial[-1] >= step - 20

    skipped = subprocess.run(ELBENCH + ["run", "--run-dir", str(d)], cwd=tmp_path, capture_output=True, text=True)
    assert "use --resume" in skipped.stdout

    resumed = subprocess.run(ELBENCH + ["run", "--run-dir", str(d), "--resume", "--segment-ps", "0.5"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    segs = _launch(d)["segments"]
    after = segs[killed["index"]]  # the first segment after the kill
    assert after["restart_from"] in ("restart.a", "restart.b")
    # restart files are written before the thermo line of the same step: at most one thermo interval ahead
    assert after["start_step"] % 200 == 0 and killed["start_step"] <= after["start_step"] <= step + 20
    assert segs[-1]["end_step"] == 3100
    steps = index_dcd(d / "traj.dcd").steps
    assert steps == list(range(100, 3101, 20)), f"killed at step {step}"
    xyz = _frames(d)
    assert len(xyz) == len(steps) and _max_jump(xyz) < 0.5
    assert _status(d)["state"] == "done" and not (d / "run.lock").exists()


def test_sigterm_stops_cleanly_and_resume_finishes(tmp_path, render):
    d = render(tmp_path, eq_steps=0, prod_steps=3000, dump_every=20, restart_every=200, thermo_every=20)
    proc, step = _start_and_wait(d, tmp_path, 500, [])
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 3, out  # interrupted, resumable
    st = _status(d)
    assert st["state"] == "pending" and "interrupted" in st["reason"] and "--resume" in st["reason"]
    assert not (d / "run.lock").exists()
    resumed = subprocess.run(ELBENCH + ["run", "--run-dir", str(d), "--resume"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert index_dcd(d / "traj.dcd").steps == list(range(0, 3001, 20))


def test_corrupt_newest_restart_falls_back_to_the_other(tmp_path, render):
    d = render(tmp_path, eq_steps=0, prod_steps=300, dump_every=10, restart_every=50)
    first = run_one(d, RunOptions(segment_steps=200, max_segments=1, poll_s=0.05))
    assert first.state == "pending" and _status(d)["step"] == 200
    a, b = d / "restart.a", d / "restart.b"
    newest = max((a, b), key=lambda p: p.stat().st_mtime_ns)
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # cut short, as by a crash
    out = run_one(d, RunOptions(segment_steps=200, resume=True, poll_s=0.05))
    assert out.state == "done", out.message
    launch = _launch(d)
    probe = {p["file"]: p for p in launch["restart_probe"]}
    assert probe[newest.name]["step"] is None and "incomplete" in probe[newest.name]["problem"]
    assert launch["segments"][1]["start_step"] == 150  # the older restart
    assert index_dcd(d / "traj.dcd").steps == list(range(0, 301, 10))


def test_blowup_marks_failed_with_reason_and_keeps_good_frames(tmp_path, render):
    every = 1  # the water heats past the bound within a few steps: a frame every step keeps several good ones
    d = render(tmp_path, eq_steps=0, prod_steps=300, dump_every=every, thermo_every=every,
               timestep_fs=3.0)  # too long a timestep for flexible water (SPC/Fw O-H bonds)
    res = CliRunner().invoke(app, ["run", "--run-dir", str(d)])
    assert res.exit_code == 1
    st = _status(d)
    assert st["state"] == "failed"
    assert "Lost atoms" in st["reason"] or "above the bound" in st["reason"] or "closer than" in st["reason"]
    assert 0 < st["failed_step"] < 300
    steps = index_dcd(d / "traj.dcd").steps
    assert steps and steps == list(range(0, steps[-1] + 1, every)) and steps[-1] < st["failed_step"]
    assert st["last_good_frame_step"] == steps[-1]
    xyz = _frames(d)  # stays readable by MDAnalysis
    assert len(xyz) == len(steps) and np.isfinite(xyz).all()
    assert "failed" in res.stdout


def test_temperature_bound_stops_the_run(tmp_path, render):
    d = render(tmp_path, eq_steps=0, prod_steps=300, dump_every=10, thermo_every=10, temperature_K=3000.0)
    res = CliRunner().invoke(app, ["run", "--run-dir", str(d), "--max-temperature-K", "2000"])
    assert res.exit_code == 1
    st = _status(d)
    assert st["state"] == "failed" and "above the bound 2000 K" in st["reason"] and st["failed_step"] == 0


def test_lammps_error_gives_nonzero_exit_and_the_error_line(tmp_path, render):
    """A hand-edited deck (users may edit in.lammps and its hash in run.json) with a typo LAMMPS rejects."""
    d = render(tmp_path, eq_steps=0, prod_steps=100)
    _edit_deck(d, r"^(kspace_style\s+)pppm ", r"\1pppmzerro ")
    meta = json.loads((d / "run.json").read_text())
    meta["inputs"]["in.lammps"]["sha256"] = sha256_file(d / "in.lammps")
    (d / "run.json").write_text(json.dumps(meta))
    res = CliRunner().invoke(app, ["run", "--run-dir", str(d)])
    assert res.exit_code == 1
    st = _status(d)
    assert st["state"] == "failed" and "ERROR" in st["reason"] and "zerro" in st["reason"]


def test_hand_edited_run_dir_is_refused(tmp_path, render):
    d = render(tmp_path, eq_steps=0, prod_steps=100)
    _edit_deck(d, r"^thermo\s+10$", "thermo 20")
    res = CliRunner().invoke(app, ["run", "--run-dir", str(d)])
    assert res.exit_code == 2
    assert "in.lammps (edited)" in res.output and "run.json" in res.output
    assert not (d / "status.json").exists() and not (d / "segments").exists()


def test_resume_refuses_to_mix_segments_from_other_inputs(tmp_path, render):
    d = render(tmp_path / "a", eq_steps=0, prod_steps=300, restart_every=50)
    assert run_one(d, RunOptions(segment_steps=100, max_segments=1, poll_s=0.05)).state == "pending"
    # re-rendered with another thermostat (elsewhere: render --force would remove the outputs) and copied
    # over the started run: run.json matches the new deck, the old segment does not
    new = render(tmp_path / "b", eq_steps=0, prod_steps=300, restart_every=50, temperature_K=350.0)
    for name in ("in.lammps", "run.sh", "run.json"):
        shutil.copyfile(new / name, d / name)
    res = CliRunner().invoke(app, ["run", "--run-dir", str(d), "--resume"])
    assert res.exit_code == 2
    assert "not mixing segments from different inputs" in res.output and "in.lammps" in res.output


def test_locks_block_live_owners_and_stale_ones_are_taken_over(tmp_path, render):
    d = render(tmp_path, eq_steps=0, prod_steps=100)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        import platform

        from elbench.launch.lock import _pid_start_time

        info = {"host": platform.node(), "pid": sleeper.pid, "pid_start": _pid_start_time(sleeper.pid)}
        (d / "run.lock").write_text(json.dumps(info))
        out = run_one(d, RunOptions())
        assert out.state == "locked" and str(sleeper.pid) in out.message
        assert not (d / "status.json").exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    out = run_one(d, RunOptions(poll_s=0.05))  # the owner is gone: stale lock taken over
    assert out.state == "done"
    # a reused pid with another start time is not the owner either
    info["pid"], info["pid_start"] = os.getpid(), "1"
    assert lock.lock_is_stale(info)[0]


def test_two_runners_on_one_set_of_runs_never_run_a_run_twice(tmp_path, systems):
    dirs = render_runs(tmp_path, systems, eq_steps=0, prod_steps=1500, dump_every=50, thermo_every=50,
                       restart_every=500, seeds=(1, 2, 3))
    args = ELBENCH + ["run"] + [x for d in dirs for x in ("--run-dir", str(d))]
    procs = [subprocess.Popen(args + extra, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for extra in ([], ["--jobs", "2"])]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    for d in dirs:
        assert _status(d)["state"] == "done"
        assert len(_launch(d)["segments"]) == 1  # started exactly once
    combined = "\n".join(outs)
    assert combined.count("done ") + combined.count("done\u00a0") >= 3


def test_mpi_two_ranks_match_one_rank(tmp_path, render):
    thermo = {}
    for ranks in (1, 2):
        d = render(tmp_path / f"np{ranks}", eq_steps=0, prod_steps=200, dump_every=50, thermo_every=50, ranks=ranks)
        out = run_one(d, RunOptions(poll_s=0.05))
        assert out.state == "done", out.message
        argv = _launch(d)["segments"][0]["command"]
        if ranks == 2:
            assert Path(argv[0]).name == "mpirun" and argv[1:3] == ["-np", "2"]
            assert "on 2 procs" in (d / "log.lammps").read_text()
        rows, _ = read_log(d / "log.lammps")
        thermo[ranks] = np.array([[r["Step"], r["PotEng"], r["Temp"]] for r in rows])
    a, b = thermo[1], thermo[2]
    assert a.shape == b.shape and (a[:, 0] == b[:, 0]).all()
    assert np.allclose(a[:, 1], b[:, 1], rtol=0, atol=1e-3 * abs(a[0, 1]) / 100)
    assert np.allclose(a[:, 2], b[:, 2], rtol=1e-3, atol=0.5)


def test_bridge_refuses_more_than_one_rank(tmp_path, render):
    """render refuses a bridge model on two ranks (test_bad_input.py); the launcher refuses a run.json
    edited by hand into one: a rendered two-rank run whose engine was changed to the bridge."""
    d = render(tmp_path, ranks=2)
    meta = json.loads((d / "run.json").read_text())
    meta["engine"] = "bridge"
    (d / "run.json").write_text(json.dumps(meta))
    res = CliRunner().invoke(app, ["run", "--run-dir", str(d)])
    assert res.exit_code == 2
    assert "bridge engine runs on one MPI rank" in res.output and "asks for 2" in res.output


@pytest.mark.parametrize("fmt, name", [("custom", "traj.lammpstrj"), ("xtc", "traj.xtc")])
def test_text_and_xtc_segments_join_and_cut_frames_are_dropped(tmp_path, fmt, name, render):
    from elbench.launch.trajectory import index_file

    d = render(tmp_path, eq_steps=50, prod_steps=250, dump_every=25, restart_every=50, dump_format=fmt)
    assert run_one(d, RunOptions(segment_steps=100, poll_s=0.05, keep_segment_files=True)).state == "done"
    kind = "xtc" if fmt == "xtc" else "text"
    assert index_file(d / name, kind).steps == list(range(50, 301, 25))
    seg = d / "segments" / f"002.{name}"
    assert index_file(seg, kind).steps == [100, 125, 150, 175, 200]
    data = seg.read_bytes()
    seg.write_bytes(data[: len(data) - 37])  # a frame cut short by a crash
    assert index_file(seg, kind).steps == [100, 125, 150, 175]


def test_one_edited_run_stops_the_batch_before_anything_starts(tmp_path, systems):
    from elbench.errors import InputError
    from elbench.launch.campaign import run_many

    good, bad = render_runs(tmp_path, systems, eq_steps=0, prod_steps=50, seeds=(1, 2))
    (bad / "system.data").write_text((bad / "system.data").read_text() + "\n")
    with pytest.raises(InputError, match=r"system.data \(edited\)"):
        run_many([good, bad], RunOptions())
    assert not (good / "status.json").exists() and not (good / "segments").exists()


def test_stop_while_the_restart_file_is_checked_is_an_interruption(tmp_path, monkeypatch, render):
    """scontrol requeue / scancel signal the whole process group: the LAMMPS probe of the restart file
    written at a segment's end dies with it. That is an interruption (pending, resumable), not a failure."""
    from elbench.launch import runner

    d = render(tmp_path, eq_steps=0, prod_steps=200, dump_every=10, restart_every=50)
    opts = RunOptions(segment_steps=100, poll_s=0.05)
    real = runner.latest_restart
    calls = []

    def killed_probe(run_dir, binary):
        calls.append(run_dir)
        if len(calls) == 1:  # the check after the first segment: the signal arrives, the probe dies
            opts.stop.set()
            return None, []
        return real(run_dir, binary)

    monkeypatch.setattr(runner, "latest_restart", killed_probe)
    out = run_one(d, opts)
    assert out.state == "pending", out
    st = _status(d)
    assert st["state"] == "pending" and st["step"] == 100 and "--resume" in st["reason"]
    out = run_one(d, RunOptions(resume=True, segment_steps=100, poll_s=0.05))
    assert out.state == "done", out
    assert index_dcd(d / "traj.dcd").steps[-1] == 200
