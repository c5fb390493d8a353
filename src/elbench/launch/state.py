"""Per-run state files, always written atomically.

``status.json`` is what ``elbench status`` and the report read: ``state`` is one of
pending | running | done | failed, with ``reason``, ``step`` (last step LAMMPS
reported), ``total_steps``, ``ns_done``, ``ns_per_day`` and times. ``launch.json``
is the provenance of the run: elbench and LAMMPS versions, the model hash, the host
and, for every segment, its exact command line, start/end and the restart it used.
"""

from __future__ import annotations

import json
from pathlib import Path

from elbench.io import atomic_write_json
from elbench.provenance import utc_now

STATUS = "status.json"
LAUNCH = "launch.json"
STATES = ("pending", "running", "done", "failed")


def read_status(run_dir: Path) -> dict:
    try:
        data = json.loads((run_dir / STATUS).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_status(run_dir: Path, **fields) -> dict:
    data = read_status(run_dir)
    data.update(fields)
    if data.get("state") not in STATES:
        data["state"] = "pending"
    data["updated_utc"] = utc_now()
    atomic_write_json(run_dir / STATUS, data)
    return data


def read_launch(run_dir: Path) -> dict:
    try:
        data = json.loads((run_dir / LAUNCH).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_launch(run_dir: Path, data: dict) -> None:
    atomic_write_json(run_dir / LAUNCH, data)
