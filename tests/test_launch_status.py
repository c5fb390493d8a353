"""`elbench status` on rendered run directories: a corrupt status.json is shown as corrupt, never as pending."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from elbench.cli.main import app
from reference_runs import build_systems, render_runs

runner = CliRunner()
CHARGE_STATES = (0, 1, 2)


@pytest.fixture(scope="module")
def systems(tmp_path_factory) -> Path:
    return build_systems(tmp_path_factory.mktemp("status-build"), CHARGE_STATES)


def _campaign(tmp_path: Path, systems: Path, statuses: dict[int, str | None]) -> Path:
    """A rendered campaign whose runs q<n>/s1 have the given raw status.json text (None: no file)."""
    for d, n in zip(render_runs(tmp_path, systems, charge_states=CHARGE_STATES), CHARGE_STATES):
        if statuses.get(n) is not None:
            (d / "status.json").write_text(statuses[n])
    return tmp_path / "elbench.toml"


def _views(camp: Path) -> dict[str, dict]:
    res = runner.invoke(app, ["status", "-c", str(camp), "--json"])
    assert res.exit_code == 0, res.output
    return {v["run"]: v for v in json.loads(res.stdout)}


@pytest.mark.parametrize("text, words", [
    ("{not json", "not valid JSON"),
    ("", "not valid JSON"),
    ("[1, 2]", "not an object"),
    ('{"state": "exploded"}', "state 'exploded'"),
    ('{"reason": "no state"}', "state None"),
    ('{"state": "done", "step": "200"}', "step '200' is not an integer"),
    ('{"state": "running", "ns_per_day": "fast"}', "ns_per_day"),
])
def test_corrupt_status_is_shown_as_corrupt_with_its_path(tmp_path, systems, text, words):
    camp = _campaign(tmp_path, systems, {0: text, 1: None, 2: json.dumps({"state": "done", "step": 10, "total_steps": 10})})
    views = _views(camp)
    bad = views["reference/q0/s1"]
    assert bad["state"] == "corrupt"
    assert str(tmp_path / "runs" / "reference" / "q0" / "s1" / "status.json") in bad["reason"]
    assert words in bad["reason"]
    assert views["reference/q1/s1"]["state"] == "pending"  # no status.json: never started
    assert views["reference/q2/s1"]["state"] == "done"
    table = runner.invoke(app, ["status", "-c", str(camp)])
    assert table.exit_code == 0, table.output
    assert "corrupt" in table.stdout and "1 corrupt" in table.stdout and "1 pending" in table.stdout
