"""Start the one-node loopback SLURM cluster for the tests (scripts/start-test-slurm).

CI starts from a clean machine where no daemon runs, so the test session starts the
cluster itself; the script is idempotent and takes well under a second when the
cluster is already up. If SLURM cannot start, the tests fail with what to do.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "start-test-slurm"
HOW_TO = (
    "SLURM could not be started for the scheduler tests. Install the Debian packages with "
    "`scripts/setup-system-deps` (slurm-wlm, munge; `./dev test` does this), run the tests as root, "
    "and see /tmp/elbench-slurm/*.log. Script output:\n"
)


def start_cluster() -> str:
    """Start (or reuse) the cluster; return its SLURM_CONF path or fail the test run."""
    try:
        proc = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as err:
        pytest.fail(HOW_TO + str(err), pytrace=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("SLURM_CONF=")]
    if proc.returncode != 0 or not lines:
        pytest.fail(HOW_TO + (proc.stdout + proc.stderr).strip(), pytrace=False)
    return lines[-1].split("=", 1)[1]


def wait_for_jobs(job_ids: list[str], timeout_s: float = 300.0) -> None:
    """Wait until none of the jobs is pending or running any more."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        proc = subprocess.run(["squeue", "-h", "-j", ",".join(job_ids)], capture_output=True, text=True)
        if proc.returncode == 0 and not proc.stdout.strip():
            return
        if proc.returncode != 0 and "Invalid job id" in proc.stderr:
            return
        time.sleep(1.0)
    listing = subprocess.run(["squeue"], capture_output=True, text=True).stdout
    raise AssertionError(f"jobs {job_ids} still in the queue after {timeout_s} s:\n{listing}")


def use_cluster(conf: str) -> None:
    os.environ["SLURM_CONF"] = conf
