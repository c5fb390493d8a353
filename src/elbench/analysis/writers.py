"""profiles.csv (≥ 8 significant digits, provenance header) and summary.json writers.

Files are written to temporary names and renamed at the end, summary.json
last, so a directory never holds a profiles.csv that looks complete when the
analysis was not.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np

from elbench.analysis.columns import profile_columns
from elbench.io import atomic_path

#: Every profile value is written with this many significant digits.
SIGNIFICANT_DIGITS = 10


def profiles_csv_text(columns: dict[str, np.ndarray], cation: str, header_lines: list[str]) -> str:
    names = profile_columns(cation)
    fmt = f"%.{SIGNIFICANT_DIGITS}g"
    table = np.column_stack([np.asarray(columns[c], dtype=np.float64) for c in names])
    lines = ["# " + line for line in header_lines]
    lines.append(",".join(names))
    for row in table:
        lines.append(",".join("nan" if not np.isfinite(x) else fmt % x for x in row))
    return "\n".join(lines) + "\n"


def table_csv_text(columns: dict[str, np.ndarray], header_lines: list[str]) -> str:
    """A CSV of equal-length columns (names with units) at :data:`SIGNIFICANT_DIGITS`, ``#`` header lines first."""
    names = list(columns)
    fmt = f"%.{SIGNIFICANT_DIGITS}g"
    table = np.column_stack([np.asarray(columns[c], dtype=np.float64) for c in names]) if names else np.zeros((0, 0))
    lines = ["# " + line for line in header_lines]
    lines.append(",".join(names))
    for row in table:
        lines.append(",".join("nan" if not np.isfinite(x) else fmt % x for x in row))
    return "\n".join(lines) + "\n"


def read_profiles_csv(path: str | Path) -> dict[str, np.ndarray]:
    """Read a profiles.csv back into columns (comments skipped)."""
    with open(path) as handle:
        lines = [ln for ln in handle if not ln.startswith("#")]
    names = lines[0].strip().split(",")
    data = np.array([[float(x) for x in ln.strip().split(",")] for ln in lines[1:] if ln.strip()])
    return {name: data[:, i] for i, name in enumerate(names)}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if np.isfinite(x) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.str_):
        return str(obj)
    return obj


def write_outputs(out_dir: Path, texts: dict[str, str], figures: dict[str, object], summary: dict) -> list[Path]:
    """Write ``texts`` (name → content) and ``figures`` (name → matplotlib Figure), then summary.json.

    All go through temporary files; the renames happen only after every file
    was written, so an error leaves the directory as it was.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with contextlib.ExitStack() as stack:
        # entered first, so renamed last: a summary.json newer than the trajectory (campaign mode's
        # "up to date") always comes with the profiles and figures of the same analysis
        summary_tmp = stack.enter_context(atomic_path(out_dir / "summary.json"))
        for name, text in texts.items():
            tmp = stack.enter_context(atomic_path(out_dir / name))
            tmp.write_text(text)
            tmp.chmod(0o644)
            written.append(out_dir / name)
        for name, fig in figures.items():
            tmp = stack.enter_context(atomic_path(out_dir / name))
            fig.savefig(tmp, format="png", dpi=130)
            tmp.chmod(0o644)
            written.append(out_dir / name)
        summary_tmp.write_text(json.dumps(_jsonable(summary), indent=2) + "\n")
        summary_tmp.chmod(0o644)
        written.append(out_dir / "summary.json")
    return written
