"""Per-run lock files that survive a crash and are recognised as stale afterwards.

``run.lock`` holds the owner's host, pid, the pid's start time (so a reused pid is
not mistaken for the owner) and the SLURM job id when there is one. Taking a lock
happens under ``flock`` on a guard file, so two processes that both find a stale
lock cannot both take it over.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from elbench.io import atomic_write_json
from elbench.provenance import utc_now

LOCK_NAME = "run.lock"


def _pid_start_time(pid: int) -> str | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[19]  # starttime, field 22 of stat
    except (OSError, IndexError):
        return None


def _pid_alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    current = _pid_start_time(pid)
    return start is None or current is None or current == start


def _slurm_job_active(job_id: str) -> bool | None:
    squeue = shutil.which("squeue")
    if not squeue:
        return None
    try:
        proc = subprocess.run([squeue, "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return False if "Invalid job id" in proc.stderr else None
    return proc.stdout.strip() in ("RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED")


def lock_is_stale(info: dict) -> tuple[bool, str]:
    """Whether a lock's owner is gone, and why we think so."""
    host, pid = info.get("host"), info.get("pid")
    if host == platform.node() and isinstance(pid, int):
        if _pid_alive(pid, info.get("pid_start")):
            return False, f"held by pid {pid} on {host}"
        return True, f"pid {pid} on {host} is gone"
    job = info.get("slurm_job_id")
    if job:
        active = _slurm_job_active(str(job))
        if active is False:
            return True, f"SLURM job {job} is no longer running"
        if active is True:
            return False, f"held by SLURM job {job} on {host}"
    return False, f"held by pid {pid} on {host} (another host: cannot check; remove {LOCK_NAME} if it is dead)"


@dataclass
class LockResult:
    acquired: bool
    message: str
    took_over: bool = False


def read_lock(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / LOCK_NAME).read_text())
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def _guard(run_dir: Path):
    with open(run_dir / f".{LOCK_NAME}.guard", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def acquire(run_dir: Path) -> LockResult:
    """Take the run's lock unless a live process holds it; take over stale locks."""
    took_over = False
    with _guard(run_dir):
        info = read_lock(run_dir)
        if info is not None:
            own_job = os.environ.get("SLURM_JOB_ID")
            if own_job and str(info.get("slurm_job_id")) == own_job and info.get("pid") != os.getpid():
                stale, why = True, f"SLURM job {own_job} was requeued"
            else:
                stale, why = lock_is_stale(info)
            if not stale:
                return LockResult(False, why)
            took_over = True
        pid = os.getpid()
        atomic_write_json(
            run_dir / LOCK_NAME,
            {
                "host": platform.node(),
                "pid": pid,
                "pid_start": _pid_start_time(pid),
                "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
                "since_utc": utc_now(),
            },
        )
    return LockResult(True, "stale lock taken over" if took_over else "locked", took_over)


def release(run_dir: Path) -> None:
    with _guard(run_dir):
        info = read_lock(run_dir)
        if info and info.get("pid") == os.getpid() and info.get("host") == platform.node():
            (run_dir / LOCK_NAME).unlink(missing_ok=True)
