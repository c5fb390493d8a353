"""Shared pieces of the bad-input, injection, fuzz and data-safety tests.

One tiny campaign (Au(111) 6x8x3, 8 Å of water, q0 and q2, reference model, 60 MD
steps) is built, rendered, run with the real LAMMPS binary and analysed once per
test process (:func:`finished_campaign`); each test works on its own copy
(:func:`campaign_copy`). :func:`snapshot` records every file of a tree so a
test can assert that a failing command left nothing behind and changed nothing.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from campaign_support import campaign_toml
from elbench.cli.main import app
from elbench.io import sha256_file

runner = CliRunner()

#: the console script next to the interpreter running the tests
ELBENCH = str(Path(sys.executable).with_name("elbench"))

CAMPAIGN_TOML = campaign_toml(name="badinput", charge_states=[0, 2], equilibration_ps=0.01, production_ps=0.02,
                              dump_interval_steps=5, thermo_interval_steps=5, restart_interval_steps=20)


def invoke(*args: str, env: dict | None = None):
    """Run ``elbench ARGS`` in-process (typer's CliRunner) and return the result."""
    return runner.invoke(app, [str(a) for a in args], env=env)


def _must(result, what: str) -> None:
    if result.exit_code != 0:
        raise RuntimeError(f"{what} failed ({result.exit_code}): {result.output}\n{result.exception!r}")


@functools.lru_cache(maxsize=1)
def finished_campaign() -> Path:
    """Build, render, run and analyse the tiny campaign once per process (read-only template)."""
    base = Path(tempfile.mkdtemp(prefix="elbench-badinput-"))
    atexit.register(shutil.rmtree, base, True)
    root = base / "camp"
    root.mkdir()
    (root / "elbench.toml").write_text(CAMPAIGN_TOML)
    for verb in ("build", "render", "run", "analyze"):
        _must(invoke(verb, "-c", root / "elbench.toml"), f"elbench {verb}")
    return root


DATA = Path(__file__).parent / "data"


@functools.lru_cache(maxsize=1)
def split_dir() -> Path:
    """``elbench dataset split`` of tests/data/reference_small.extxyz, once per process (read-only template)."""
    base = Path(tempfile.mkdtemp(prefix="elbench-badinput-split-"))
    atexit.register(shutil.rmtree, base, True)
    out = base / "split"
    _must(invoke("dataset", "split", DATA / "reference_small.extxyz", "--out", out), "elbench dataset split")
    return out


def campaign_copy(dest: Path, stage: str = "analyzed") -> Path:
    """A private copy of the finished campaign cut back to ``stage``: toml, built, rendered, ran, analyzed;
    ``split``: the campaign file plus a dataset split under ``split/``."""
    stages = ["toml", "built", "rendered", "ran", "analyzed"]
    if stage == "split":
        root = campaign_copy(dest, "toml")
        shutil.copytree(split_dir(), root / "split")
        return root
    if stage not in stages:
        raise ValueError(stage)
    src = finished_campaign()
    root = dest / "camp"
    shutil.copytree(src, root, symlinks=True)
    level = stages.index(stage)
    if level < 4:
        shutil.rmtree(root / "results", ignore_errors=True)
    if level < 3:
        for run_dir in (root / "runs").glob("*/q*/s*"):
            for item in run_dir.iterdir():
                if item.name not in ("in.lammps", "run.sh", "run.json", "system.data", "system_full.data"):
                    shutil.rmtree(item) if item.is_dir() else item.unlink()
    if level < 2:
        shutil.rmtree(root / "runs", ignore_errors=True)
    if level < 1:
        shutil.rmtree(root / "systems", ignore_errors=True)
    return root


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``root``: relative path -> (size, sha256)."""
    out = {}
    if not root.exists():
        return out
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file():
                continue
            out[str(p.relative_to(root))] = (p.stat().st_size, sha256_file(p))
    return out


def diff(before: dict, after: dict) -> dict[str, list[str]]:
    """Files added, removed and changed between two snapshots."""
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k]),
    }


def error_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def assert_one_line_error(result, *needles: str, code: int = 2, stdout_ok: bool = False) -> str:
    """Exit ``code``; stderr is exactly one ``error: ...`` line holding every needle; no traceback."""
    assert result.exit_code == code, f"exit {result.exit_code} (want {code}): {result.output}\n{result.exception!r}"
    assert isinstance(result.exception, SystemExit), f"uncaught {result.exception!r}"
    lines = error_lines(result.stderr)
    assert len(lines) == 1, f"want one error line, got {len(lines)}:\n{result.stderr}"
    line = lines[0]
    assert line.startswith("error: "), line
    assert "Traceback" not in result.output
    if not stdout_ok:
        assert not result.stdout.strip(), f"unexpected stdout: {result.stdout}"
    for needle in needles:
        assert needle.lower() in line.lower(), f"{needle!r} not in: {line}"
    return line


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")
