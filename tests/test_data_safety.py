"""Nothing lost, nothing half-written: interrupts, crashes at a rename, re-runs without --force.

* SIGINT sent to a real ``elbench analyze`` / ``elbench render`` process in the middle
  of its work: exit 130 with one line, no output that looks complete, no temporary
  files; a re-run finishes the job (render keeps what was rendered, writes the rest).
* A crash at any rename of the analysis outputs never leaves a summary.json (the
  campaign's "up to date" marker) beside missing or older profiles.
* Status, results and reports are written through a temporary file and a rename.
* Re-running build, render, run and analyze without --force leaves finished runs and
  results byte-identical; a run or result that was lost is redone and nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from badinput_support import ELBENCH, campaign_copy, diff, error_lines, invoke, snapshot

Q0 = "runs/reference/q0/s1"
EXPECTED_RESULT_FILES = {"profiles.csv", "summary.json"}


def _wait_until(predicate, proc: subprocess.Popen, timeout_s: float = 120.0) -> None:
    t0 = time.monotonic()
    while not predicate():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process ended (rc {proc.returncode}) before the interrupt point:\n{out}\n{err}")
        if time.monotonic() - t0 > timeout_s:
            proc.kill()
            raise AssertionError("interrupt point never reached")
        time.sleep(0.005)


def _has_open(proc: subprocess.Popen, path: Path) -> bool:
    """True while the process holds ``path`` open (it is reading the trajectory)."""
    try:
        fds = os.listdir(f"/proc/{proc.pid}/fd")
    except FileNotFoundError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{proc.pid}/fd/{fd}") == str(path):
                return True
        except OSError:
            continue
    return False


def _interrupt(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return out, err


def _leftover_temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".tmp" in p.name or ".old-" in p.name]


@pytest.fixture(scope="module")
def long_trajectory(tmp_path_factory) -> tuple[Path, Path]:
    """A DCD of the real q0 run repeated to ~3000 frames (analysis takes seconds), and its topology."""
    import warnings

    import MDAnalysis as mda

    warnings.filterwarnings("ignore", message="DCDReader currently makes independent timesteps")

    root = campaign_copy(tmp_path_factory.mktemp("long"), "ran")
    topo = root / "systems/q0/system.data"
    u = mda.Universe(str(topo), str(root / Q0 / "traj.dcd"), topology_format="DATA", format="DCD",
                     atom_style="id type x y z")
    out = root / "long.dcd"
    frames = [(ts.positions.copy(), ts.dimensions.copy()) for ts in u.trajectory]
    with mda.Writer(str(out), n_atoms=u.atoms.n_atoms) as w:
        for i in range(3000):
            pos, dim = frames[i % len(frames)]
            u.trajectory.ts.positions = pos + np.float32(0.0)
            u.trajectory.ts.dimensions = dim
            w.write(u.atoms)
    u.trajectory.close()
    return out, topo


def test_sigint_during_analyze_leaves_no_results(long_trajectory, tmp_path: Path) -> None:
    traj, topo = long_trajectory
    out = tmp_path / "ana"
    proc = subprocess.Popen([ELBENCH, "analyze", str(traj), "--topology", str(topo), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_until(lambda: _has_open(proc, traj), proc)
    time.sleep(0.5)  # inside the frame loop
    stdout, stderr = _interrupt(proc)
    assert proc.returncode == 130, (proc.returncode, stdout, stderr)
    lines = error_lines(stderr)
    assert len(lines) == 1 and "interrupted" in lines[0], stderr
    assert "Traceback" not in stderr
    left = sorted(p.name for p in out.rglob("*")) if out.exists() else []
    assert not EXPECTED_RESULT_FILES & set(left) and not _leftover_temporaries(tmp_path), left
    again = invoke("analyze", traj, "--topology", topo, "--out", out, "--no-plots", "--stop", "50")
    assert again.exit_code == 0, again.output
    assert EXPECTED_RESULT_FILES <= {p.name for p in out.iterdir()}


def _many_runs(root: Path, n_seeds: int = 40) -> None:
    toml = root / "elbench.toml"
    toml.write_text(toml.read_text().replace("seeds = [1]", f"seeds = {list(range(1, n_seeds + 1))}"))


def _complete_run_dir(d: Path) -> bool:
    """in.lammps, run.sh, run.json, and every input run.json lists inside the directory with its sha256."""
    from elbench.io import sha256_file

    record = json.loads((d / "run.json").read_text())
    local = [spec for spec in record["inputs"].values() if not Path(spec["path"]).is_absolute()]
    return (d / "run.sh").is_file() and bool(local) and all(
        (d / spec["path"]).is_file() and sha256_file(d / spec["path"]) == spec["sha256"] for spec in local)


def test_sigint_during_render_keeps_whole_run_dirs_and_rerun_finishes(tmp_path: Path) -> None:
    root = campaign_copy(tmp_path, "built")
    _many_runs(root)
    runs = root / "runs/reference"
    proc = subprocess.Popen([ELBENCH, "render", "-c", str(root / "elbench.toml")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_until(lambda: runs.is_dir() and any((runs / "q0").glob("s*")) if (runs / "q0").is_dir() else False, proc)
    stdout, stderr = _interrupt(proc)
    assert proc.returncode == 130, (proc.returncode, stdout, stderr)
    assert not _leftover_temporaries(root), _leftover_temporaries(root)
    done = sorted(p for p in runs.glob("q*/s*") if p.is_dir())
    assert 0 < len(done) < 80, f"{len(done)} run directories: the interrupt came too late"
    for d in done:  # every directory there is complete: all files, hashes as run.json says
        assert (d / "run.json").is_file() and _complete_run_dir(d), d
    before = snapshot(runs)
    again = invoke("render", "-c", root / "elbench.toml")
    assert again.exit_code == 0, again.output
    assert len(list(runs.glob("q*/s*"))) == 80
    changes = diff(before, snapshot(runs))
    assert changes["changed"] == [] and changes["removed"] == [], changes  # what was rendered stays as it was
    assert again.stdout.count("unchanged") == len(done) and again.stdout.count("new") == 80 - len(done)


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_crash_at_any_rename_never_leaves_summary_without_profiles(fail_at: int, tmp_path: Path, monkeypatch) -> None:
    """summary.json marks a result 'up to date' for campaign mode, so it is renamed last."""
    import elbench.io as io

    root = campaign_copy(tmp_path, "ran")
    out = root / "results/reference/q0/s1"
    real_replace = os.replace
    calls = {"n": 0}

    def crashing_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", crashing_replace)
    result = invoke("analyze", root / Q0 / "traj.dcd", "--topology", root / "systems/q0/system.data", "--out", out)
    monkeypatch.setattr(io.os, "replace", real_replace)
    names = {p.name for p in out.iterdir()} if out.exists() else set()
    if calls["n"] < fail_at:  # fewer renames than fail_at: nothing crashed
        assert result.exit_code == 0 and EXPECTED_RESULT_FILES <= names
        return
    assert result.exit_code == 130, result.output
    assert "summary.json" not in names, names
    assert not _leftover_temporaries(root)


def test_status_results_and_reports_are_written_through_a_rename(tmp_path: Path, monkeypatch) -> None:
    """Every status.json, result and report file reaches its name by os.replace of a finished temporary."""
    import elbench.io as io

    root = campaign_copy(tmp_path, "rendered")
    targets: list[str] = []
    real_replace = os.replace

    def recording_replace(src, dst):
        assert Path(src).is_file() and Path(src).stat().st_size > 0, src
        targets.append(str(Path(dst).relative_to(root)) if str(dst).startswith(str(root)) else str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", recording_replace)
    for verb in ("run", "analyze", "report"):
        res = invoke(verb, "-c", root / "elbench.toml")
        assert res.exit_code == 0, res.output
    for n in (0, 2):
        for name in ("status.json",):
            assert f"runs/reference/q{n}/s1/{name}" in targets
        for name in ("profiles.csv", "summary.json"):
            assert f"results/reference/q{n}/s1/{name}" in targets
    for name in ("report/report.md", "report/report.html", "report/report.json"):
        assert name in targets


def _finished(root: Path) -> dict:
    return {k: v for k, v in snapshot(root).items()
            if k.startswith(("systems/", "results/")) or k.startswith("runs/") and not k.endswith(".guard")}


def test_rerunning_every_step_without_force_keeps_finished_work(tmp_path: Path) -> None:
    root = campaign_copy(tmp_path, "analyzed")
    before = _finished(root)
    for verb in ("build", "render", "run", "analyze"):
        res = invoke(verb, "-c", root / "elbench.toml")
        assert res.exit_code == 0, f"{verb}: {res.output}"
    assert diff(before, _finished(root)) == {"added": [], "removed": [], "changed": []}
    # changed settings: render refuses to replace finished runs without --force
    toml = root / "elbench.toml"
    toml.write_text(toml.read_text().replace("[md]\n", "[md]\ntemperature_K = 310\n"))
    res = invoke("render", "-c", toml)
    assert res.exit_code == 2 and "--force" in res.stderr
    assert diff(before, _finished(root)) == {"added": [], "removed": [], "changed": []}


def test_rerun_after_a_crash_redoes_only_what_was_lost(tmp_path: Path) -> None:
    """Results of one run lost (a crash before its rename): analyze redoes that run and leaves the other."""
    root = campaign_copy(tmp_path, "analyzed")
    shutil.rmtree(root / "results/reference/q2")
    kept = {k: v for k, v in snapshot(root).items() if k.startswith("results/reference/q0/")}
    res = invoke("analyze", "-c", root / "elbench.toml")
    assert res.exit_code == 0, res.output
    assert "up-to-date" in res.stdout and "analysed 1 runs" in " ".join(res.stdout.split())
    after = snapshot(root)
    assert {k: v for k, v in after.items() if k.startswith("results/reference/q0/")} == kept
    assert EXPECTED_RESULT_FILES <= {Path(k).name for k in after if k.startswith("results/reference/q2/")}


def test_run_keeps_done_runs_and_resumes_a_crashed_one(tmp_path: Path) -> None:
    """A run whose status.json was lost (a crash before it was written) is not restarted over its restart
    files without --resume; --resume finishes it with its trajectory whole; the done run is never touched."""
    root = campaign_copy(tmp_path, "ran")
    q0 = {k: v for k, v in snapshot(root).items() if k.startswith(Q0) and not k.endswith(".guard")}
    q2 = root / "runs/reference/q2/s1"
    frames = (q2 / "traj.dcd").read_bytes()
    (q2 / "status.json").unlink()
    kept = {k: v for k, v in snapshot(q2).items() if not k.endswith(".guard")}
    res = invoke("run", "-c", root / "elbench.toml")
    assert res.exit_code == 0 and "--resume" in res.stdout, res.output
    assert {k: v for k, v in snapshot(q2).items() if not k.endswith(".guard")} == kept
    res = invoke("run", "-c", root / "elbench.toml", "--resume")
    assert res.exit_code == 0, res.output
    assert {k: v for k, v in snapshot(root).items() if k.startswith(Q0) and not k.endswith(".guard")} == q0
    status = json.loads((q2 / "status.json").read_text())
    assert status["state"] == "done" and status["step"] == 60
    assert (q2 / "traj.dcd").read_bytes() == frames
