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

from elbench.io import atomic_write_json, read_json
from elbench.provenance import utc_now

STATUS = "status.json"
LAUNCH = "launch.json"
STATES = ("pending", "running", "done", "failed")


#: status.json fields and the types they must have when present (bool is not an int here)
_INT_FIELDS = ("step", "total_steps", "failed_step", "last_good_frame_step")
_NUMBER_FIELDS = ("ns_done", "ns_total", "ns_per_day")
_TEXT_FIELDS = ("reason",)


def _shape_problem(data: object) -> str | None:
    """Why a parsed status.json is not one elbench wrote, or None when it is well formed."""
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    if data.get("state") not in STATES:
        return f"state {data.get('state')!r} is not one of {', '.join(STATES)}"
    for key in _INT_FIELDS:
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{key} {value!r} is not an integer"
    for key in _NUMBER_FIELDS:
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"{key} {value!r} is not a number"
    for key in _TEXT_FIELDS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            return f"{key} {value!r} is not text"
    return None


def read_status_checked(run_dir: Path) -> tuple[dict, str | None]:
    """The run's status and, when status.json exists but is unreadable or malformed, why.

    A missing status.json is a run never started: ({}, None). A corrupt one gives
    ({}, problem) so that ``elbench status`` can show it as corrupt instead of pending.
    """
    path = run_dir / STATUS
    if not path.exists():
        return {}, None
    try:
        data = read_json(path)
    except (OSError, UnicodeDecodeError) as err:
        return {}, f"cannot read: {err}"
    except ValueError as err:
        return {}, f"not valid JSON: {err}"
    problem = _shape_problem(data)
    return ({}, problem) if problem else (data, None)


def read_status(run_dir: Path) -> dict:
    """The run's status; {} when status.json is missing or corrupt (see read_status_checked)."""
    return read_status_checked(run_dir)[0]


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
