"""Read LAMMPS logs as they grow: thermo rows, ERROR lines, performance.

The runner tails ``log.lammps`` of the running segment; :class:`LogTail` returns the
new thermo rows (as dicts keyed by the thermo header, e.g. ``Step``, ``Temp``) since
the last call, so progress and blow-up checks see every row once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

_PERF = re.compile(r"^Performance:\s+([\d.eE+-]+)\s+ns/day")
_ERROR = re.compile(r"^(ERROR(?: on proc \d+)?:.*)$")


@dataclass
class LogState:
    """What has been read from one log so far."""

    header: list[str] | None = None
    error: str | None = None
    ns_per_day: float | None = None
    lammps_version: str | None = None


@dataclass
class LogTail:
    """Incremental reader of one LAMMPS log file."""

    path: Path
    offset: int = 0
    buffer: str = ""
    state: LogState = field(default_factory=LogState)

    def poll(self) -> list[dict[str, float]]:
        """New complete thermo rows since the last poll."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            return []
        self.offset += len(chunk)
        text = self.buffer + chunk.decode("utf-8", errors="replace")
        lines = text.split("\n")
        self.buffer = lines.pop()
        rows: list[dict[str, float]] = []
        for line in lines:
            row = parse_line(line, self.state)
            if row is not None:
                rows.append(row)
        return rows


def parse_line(line: str, state: LogState) -> dict[str, float] | None:
    """Update ``state`` with one log line; return a thermo row if the line is one."""
    stripped = line.strip()
    if not stripped:
        return None
    if stripped.startswith("LAMMPS (") and state.lammps_version is None:
        state.lammps_version = stripped[len("LAMMPS (") :].rstrip(")")
        return None
    words = stripped.split()
    if words[0] == "Step" and len(words) > 1:
        state.header = words
        return None
    if stripped.startswith("Loop time of"):
        state.header = None
        return None
    match = _ERROR.match(stripped)
    if match and state.error is None:
        state.error = match.group(1)
        return None
    match = _PERF.match(stripped)
    if match:
        state.ns_per_day = float(match.group(1))
        return None
    if state.header and len(words) == len(state.header):
        try:
            values = [float(w) for w in words]
        except ValueError:
            return None
        if values[0] != int(values[0]):
            return None
        return dict(zip(state.header, values))
    return None


def read_log(path: Path) -> tuple[list[dict[str, float]], LogState]:
    """All thermo rows of a finished log and its final state."""
    tail = LogTail(path)
    rows = tail.poll()
    if tail.buffer:
        row = parse_line(tail.buffer, tail.state)
        if row is not None:
            rows.append(row)
    return rows, tail.state


def find_error_line(*texts: str) -> str | None:
    """The first LAMMPS ``ERROR:`` line in any of the texts (log, screen output)."""
    for text in texts:
        for line in text.splitlines():
            match = _ERROR.match(line.strip())
            if match:
                return match.group(1)
    return None


def temperature_of(row: dict[str, float]) -> float | None:
    for key in ("Temp", "c_tmobile", "c_temp_mobile", "c_Tmobile"):
        if key in row:
            return row[key]
    return None


def nonfinite_columns(row: dict[str, float]) -> list[str]:
    return [key for key, value in row.items() if not math.isfinite(value)]
