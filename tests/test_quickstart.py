"""`elbench quickstart DIR`: the README's first command, end to end on real LAMMPS (shortened MD)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from elbench.cli.quickstart_cmd import approx_atoms, choose_models, quickstart_campaign
from elbench.potentials.manifest import load_manifest
from elbench.resources import builtin_manifest

ELBENCH = str(Path(sys.executable).parent / "elbench")
SHORT = ["--production-ps", "0.2", "--equilibration-ps", "0.1", "--budget-min", "0"]


def quickstart(*args: str, timeout: int = 1500) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="120")
    return subprocess.run([ELBENCH, "quickstart", *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    directory = tmp_path_factory.mktemp("qs") / "campaign"
    result = quickstart(str(directory), *SHORT)
    return directory, result


@pytest.mark.lammps
@pytest.mark.slow
def test_quickstart_end_to_end(finished):
    directory, result = finished
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for stage in ("[1/5] build", "[2/5] render", "[3/5] run", "[4/5] analyze", "[5/5] report"):
        assert stage in result.stdout
    report = directory / "report"
    md = (report / "report.md").read_text()
    assert "figures/trends_vs_sigma.png" in md
    assert (report / "figures" / "trends_vs_sigma.png").stat().st_size > 20_000
    assert (report / "report.html").read_text().count("data:image/png;base64,") >= 4
    with open(report / "tables" / "reference.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["charge_state"]) for r in rows] == [0, 1, 2, 3, 4]
    for r in rows:  # real numbers from real MD: a first water layer at ~2-3.5 Å from Au
        assert 2.0 < float(r["o_peak_position_A"]) < 3.5
        assert -1.0 <= float(r["first_layer_cos_theta"]) <= 1.0
    meta = json.loads((report / "report.json").read_text())
    from elbench.config import load_campaign
    from elbench.report.collect import find_reference_set

    shipped = find_reference_set(load_campaign(directory / "elbench.toml"))
    if shipped is not None:  # analysis/reference/ has converged profiles of this system: the run is checked against them
        assert meta["reference"] == f"shipped reference set {shipped.name}"
        assert "reference" in meta["flags"]
    else:
        assert meta["reference"] == "the campaign's `reference` model"
    runs = list(csv.DictReader(open(report / "tables" / "runs.csv")))
    assert len(runs) == 5 and all(r["state"] == "done" for r in runs)


@pytest.mark.lammps
@pytest.mark.slow
def test_rerun_continues(finished):
    directory, _ = finished
    traj = sorted(directory.glob("runs/reference/q*/s1/traj.*"))
    assert len(traj) == 5
    before = {p: p.stat().st_mtime_ns for p in traj}
    result = quickstart(str(directory), "--budget-min", "0")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "continuing the campaign" in result.stdout
    assert {p: p.stat().st_mtime_ns for p in traj} == before  # no run was redone


def test_a_different_run_length_needs_force(finished):
    directory, _ = finished
    result = quickstart(str(directory), "--production-ps", "0.3", "--budget-min", "0")
    assert result.returncode == 2
    assert "md.production_ps" in result.stderr and "--force" in result.stderr


def test_refuses_a_foreign_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = quickstart(str(tmp_path), *SHORT)
    assert result.returncode == 2
    assert "no elbench.toml" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_model_choice_follows_installed_backends_and_budget():
    config = quickstart_campaign(["reference"], 4.0, 1.0)
    names = set(load_manifest(builtin_manifest()).entries)
    chosen, notes = choose_models(config, jobs=2, budget_s=0.0, all_models=False)
    assert chosen == ["reference"]
    assert len(notes) == len(names)  # every registered potential is accounted for
    everything, _ = choose_models(config, jobs=2, budget_s=0.0, all_models=True)
    assert everything[0] == "reference" and set(everything) <= names


def test_atom_estimate_matches_the_builder(finished):
    directory, _ = finished
    built = json.loads((directory / "systems" / "q4" / "system.json").read_text())
    config = quickstart_campaign(["reference"], 4.0, 1.0)
    assert approx_atoms(config.system) == pytest.approx(built["counts"]["atoms"], rel=0.05)


def test_models_the_registry_saw_blow_up_are_left_out_unless_asked():
    """A trained model whose registry NVT test blew up is not run by default; tested-stable ones go first."""
    config = quickstart_campaign(["reference"], 4.0, 1.0)
    entries = load_manifest(builtin_manifest()).entries
    blown = {n for n, e in entries.items() if e.trained and e.trained.nvt_blew_up_at_ps is not None}
    chosen, notes = choose_models(config, jobs=2, budget_s=1e12, all_models=False)
    assert blown and not blown & set(chosen)
    for name in blown:
        assert any(line.startswith(f"- {name} ") and "blew up" in line for line in notes), name
    stable = [n for n in chosen[1:] if entries[n].trained and entries[n].trained.nvt_ps_without_blowup > 0]
    assert chosen[1 : 1 + len(stable)] == stable  # models that passed the NVT test come first
    everything, _ = choose_models(config, jobs=2, budget_s=0.0, all_models=True)
    assert blown <= set(everything)  # --all-models runs them anyway (every backend is installed for the tests)
