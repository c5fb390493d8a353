"""Restart files: which of the two alternating files is valid and newest.

LAMMPS writes a magic string at both ends of a restart file, so a file cut short by
a crash is recognised cheaply; the timestep is then read by LAMMPS itself
(``read_restart`` + ``print``), which also catches any other corruption.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from elbench.engines.lammps_binary import LammpsBinary
from elbench.run_record import RESTART_FILES

MAGIC = b"LammpS RestartT\x00"


@dataclass(frozen=True)
class RestartInfo:
    path: Path
    step: int | None  # None: unreadable
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.step is not None


def _has_magic_ends(path: Path) -> bool:
    try:
        size = path.stat().st_size
        if size < 2 * len(MAGIC):
            return False
        with open(path, "rb") as handle:
            head = handle.read(len(MAGIC))
            handle.seek(size - len(MAGIC))
            tail = handle.read(len(MAGIC))
    except OSError:
        return False
    return head == MAGIC and tail == MAGIC


def probe_restart(path: Path, binary: LammpsBinary) -> RestartInfo:
    """Read a restart file with LAMMPS and return its timestep, or why it is unusable."""
    if not path.is_file():
        return RestartInfo(path, None, "missing")
    if not _has_magic_ends(path):
        return RestartInfo(path, None, "incomplete (no LAMMPS end marker)")
    # Without LAMMPS_PLUGIN_PATH first: plugins (DeePMD loads TensorFlow) make each probe slow,
    # and restart files rarely need them; retried with the plugins when a style is unknown.
    env = binary.environ()
    fast = {k: v for k, v in env.items() if k != "LAMMPS_PLUGIN_PATH"}
    for attempt_env in ([fast, env] if fast != env else [env]):
        proc = _run_probe(path, binary, attempt_env)
        if isinstance(proc, RestartInfo):
            return proc
        if proc.returncode == 0 or "Unrecognized" not in proc.stdout + proc.stderr:
            break
    match = re.search(r"^ELBENCH_STEP (\d+)", proc.stdout, re.M)
    if proc.returncode != 0 or not match:
        err = re.search(r"^ERROR.*$", proc.stdout + proc.stderr, re.M)
        return RestartInfo(path, None, err.group(0) if err else f"LAMMPS exit code {proc.returncode}")
    return RestartInfo(path, int(match.group(1)))


def _run_probe(path: Path, binary: LammpsBinary, env: dict) -> subprocess.CompletedProcess | RestartInfo:
    with tempfile.TemporaryDirectory(prefix="elbench-probe-") as tmp:
        deck = Path(tmp) / "probe.lammps"
        deck.write_text(f'read_restart "{path.resolve()}"\nprint "ELBENCH_STEP $(step)"\n')
        try:
            return subprocess.run([str(binary.path), "-in", str(deck), "-log", "none", "-nocite"],
                                  capture_output=True, text=True, env=env, cwd=tmp, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as err:
            return RestartInfo(path, None, f"probe failed: {err}")


def restart_infos(run_dir: Path, binary: LammpsBinary) -> list[RestartInfo]:
    return [probe_restart(run_dir / name, binary) for name in RESTART_FILES]


def latest_restart(run_dir: Path, binary: LammpsBinary) -> tuple[RestartInfo | None, list[RestartInfo]]:
    """The valid restart with the highest timestep (None if neither is valid) and all probes."""
    infos = restart_infos(run_dir, binary)
    valid = [info for info in infos if info.ok]
    best = max(valid, key=lambda info: info.step) if valid else None
    return best, infos


def restart_order(newest: str | None) -> tuple[str, str]:
    """Write the older file first, so the newest stays intact while the next one is written."""
    if newest is None:
        return RESTART_FILES
    older = [name for name in RESTART_FILES if name != newest][0]
    return (older, newest)
