"""The run record (run.json): round trip, refusals (unknown key, older schema), render writes a valid one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from elbench.errors import InputError
from elbench.run_record import RUN_JSON, SCHEMA_VERSION, Preflight, RunRecord
from record_support import record_dict, write_record


def test_round_trip_save_load_equals(tmp_path: Path) -> None:
    record = write_record(tmp_path, calculator={"family": "mace", "model": "/m/a.model", "model_type_map": ["Au"],
                                                "cutoff_A": 5.0, "options": {"task": "x"}, "committee": ["/m/b.model"]},
                          inputs={"in.lammps": {"path": "in.lammps", "sha256": "0" * 64}})
    loaded = RunRecord.load(tmp_path)
    assert loaded == record
    assert loaded.schema_version == SCHEMA_VERSION and loaded.committee == ["/m/b.model"]
    # the file keeps the sparse shapes render wrote: no null source/role, no preflight until one ran
    data = json.loads((tmp_path / RUN_JSON).read_text())
    assert data["inputs"]["in.lammps"] == {"path": "in.lammps", "sha256": "0" * 64}
    assert "preflight" not in data and data["model_deviation_file"] is None and data["thermostat"]["seed"] == 2


def test_with_preflight_extends_and_round_trips(tmp_path: Path) -> None:
    record = write_record(tmp_path)
    record.with_preflight(Preflight(passed=False, engine="native", error="boom")).save(tmp_path)
    loaded = RunRecord.load(tmp_path)
    assert loaded.preflight == Preflight(passed=False, engine="native", error="boom")
    assert json.loads((tmp_path / RUN_JSON).read_text())["preflight"] == {"passed": False, "engine": "native",
                                                                          "error": "boom"}
    assert loaded.model_copy(update={"preflight": None}) == record


@pytest.mark.parametrize("where", ["top", "nested"])
def test_unknown_key_is_refused_with_a_clear_message(tmp_path: Path, where: str) -> None:
    data = record_dict()
    if where == "top":
        data["bridge"] = {"family": "dp"}
        key = "bridge"
    else:
        data["steps"]["extra_steps"] = 3
        key = "steps.extra_steps"
    (tmp_path / RUN_JSON).write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        RunRecord.load(tmp_path)
    text = str(err.value)
    assert str(tmp_path / RUN_JSON) in text and f"key '{key}'" in text and "unknown key" in text
    assert "elbench render --force" in text and len(text.splitlines()) == 1


@pytest.mark.parametrize("version", [None, 1])
def test_older_schema_says_how_to_re_render(tmp_path: Path, version: int | None) -> None:
    data = record_dict()
    if version is None:
        data.pop("schema_version", None)  # records before the field existed
    else:
        data["schema_version"] = version
    (tmp_path / RUN_JSON).write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        RunRecord.load(tmp_path)
    text = str(err.value)
    assert str(tmp_path / RUN_JSON) in text and "rendered by an older elbench" in text
    assert "re-render with `elbench render --force`" in text and len(text.splitlines()) == 1


def test_missing_and_corrupt_records(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no run.json"):
        RunRecord.load(tmp_path)
    (tmp_path / RUN_JSON).write_text("{")
    with pytest.raises(InputError, match="cannot read run.json"):
        RunRecord.load(tmp_path)
    data = record_dict()
    del data["steps"]
    (tmp_path / RUN_JSON).write_text(json.dumps(data))
    with pytest.raises(InputError, match="key 'steps'.*lacks a required key"):
        RunRecord.load(tmp_path)


def test_render_writes_a_record_that_validates(tmp_path: Path) -> None:
    """`elbench render` of the reference campaign: every run.json loads, carries today's keys and the new ones."""
    from typer.testing import CliRunner

    from elbench.cli.main import app

    camp = tmp_path / "camp"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(camp)]).exit_code == 0
    toml = camp / "elbench.toml"
    text = toml.read_text()
    for key, value in {"layers": "2", "water_thickness_A": "8.0", "charge_states": "[0]"}.items():
        text = "\n".join(f"{key} = {value}" if ln.split("=")[0].strip() == key else ln for ln in text.splitlines())
    toml.write_text(text + "\n")
    for verb in ("build", "render"):
        result = runner.invoke(app, [verb, "-c", str(toml)])
        assert result.exit_code == 0, result.output
    run_dir = camp / "runs" / "reference" / "q0" / "s1"
    record = RunRecord.load(run_dir)
    data = json.loads((run_dir / RUN_JSON).read_text())
    assert RunRecord.model_validate(data) == record and record.to_dict() == data
    old_keys = {"model", "family", "charge_state", "seed", "engine", "engine_reason", "environment", "pair_style",
                "command", "env", "env_prepend", "type_map", "geometry", "n_atoms", "n_fixed_atoms", "timestep_fs",
                "temperature_K", "thermostat", "steps", "dump", "thermo_interval_steps", "restart", "data_file",
                "manifest", "topology_file", "log_file", "model_deviation_file", "inputs", "provenance"}
    assert old_keys <= data.keys()
    assert {"schema_version", "mpi_ranks", "calculator"} <= data.keys()
    assert record.calculator is None and record.mpi_ranks == 1 and record.steps.minimize_max_iterations == 200
    assert (run_dir / record.topology_file).is_file() and record.topology_file == "system.data"


def test_two_stage_keys_round_trip(tmp_path: Path) -> None:
    """Schema 3: a production's start_from (relative equilibration directory), an equilibration's stage and final_data."""
    prod_dir = tmp_path / "runs" / "m" / "q0" / "s1"
    prod_dir.mkdir(parents=True)
    record = write_record(prod_dir, start_from={"run_dir": "../../../../equilibration/q0/s1"})
    loaded = RunRecord.load(prod_dir)
    assert loaded == record and loaded.stage == "production"
    assert loaded.start_run_dir(prod_dir) == (tmp_path / "equilibration" / "q0" / "s1").resolve()
    data = json.loads((prod_dir / RUN_JSON).read_text())
    assert data["start_from"] == {"run_dir": "../../../../equilibration/q0/s1", "source": "final.data",
                                  "file": "start.data", "model": "reference"}
    assert "final_data" not in data
    eq = write_record(tmp_path, stage="equilibration", final_data="final.data")
    assert eq.key == "equilibration/q0/s1" and eq.start_run_dir(tmp_path) is None
    assert "start_from" not in json.loads((tmp_path / RUN_JSON).read_text())
    with pytest.raises(InputError, match="stage"):
        RunRecord.from_dict(record_dict(stage="warmup"))
