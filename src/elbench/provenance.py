"""Provenance: every output directory records what made it.

``provenance(inputs=...)`` returns a dict with the elbench version, the sha256
of each input file, the command line, host, time and (when asked) the LAMMPS
binary's version and packages; it goes into the JSON next to the outputs.
"""

from __future__ import annotations

import datetime as _dt
import platform
import sys
from collections.abc import Mapping
from pathlib import Path

from elbench import __version__
from elbench.io import sha256_file


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def hash_inputs(inputs: Mapping[str, str | Path]) -> dict[str, dict[str, str]]:
    out = {}
    for label, path in inputs.items():
        p = Path(path)
        out[label] = {"path": str(p), "sha256": sha256_file(p) if p.is_file() else "missing"}
    return out


def provenance(
    inputs: Mapping[str, str | Path] | None = None,
    *,
    lammps: Mapping | None = None,
    extra: Mapping | None = None,
) -> dict:
    """A provenance record for an output directory."""
    record = {
        "elbench_version": __version__,
        "created_utc": utc_now(),
        "host": platform.node(),
        "python": sys.version.split()[0],
        "command": sys.argv,
        "inputs": hash_inputs(inputs or {}),
    }
    if lammps is not None:
        record["lammps"] = dict(lammps)
    if extra:
        record.update(extra)
    return record
