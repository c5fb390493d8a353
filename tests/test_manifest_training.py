"""[potential.trained]: the training record of a shipped model, its checks, and where it is shown.

Registries are written to tmp_path; the last test checks every trained entry of the builtin registry.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import report_synthetic as syn
from elbench.cli.main import app
from elbench.config import load_campaign
from elbench.errors import InputError
from elbench.io import sha256_file
from elbench.potentials.manifest import MAX_SHIPPED_MODEL_BYTES, TrainingRecord, load_manifest
from elbench.report import tables
from elbench.report.collect import collect
from elbench.resources import builtin_manifest

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
MODEL_BYTES = b"a tiny model, 29 bytes long.\n"
CURVE = ("gradient_update,epoch,split,energy_meV_atom,force_meV_A\n"
         "10,1,train,30.5,410.0\n10,1,valid,31.0,420.0\n20,2,train,12.5,205.0\n20,2,valid,13.0,210.0\n")

RECORD = {
    "dataset": '"tests/data/reference_small.extxyz"',
    "dataset_sha256": '"' + "ab" * 32 + '"',
    "split_seed": "7",
    "training_set": '"mixed"',
    "gradient_updates": "2000",
    "batch_size": "4",
    "input": '"dp_x/input.json"',
    "learning_curve": '"dp_x/learning_curve.csv"',
    "test_rmse_energy_meV_atom": "1.25",
    "test_rmse_force_meV_A": "87.5",
    "test_frames": "12",
    "size_bytes": str(len(MODEL_BYTES)),
    "nvt_ps_without_blowup": "20.0",
}


def write_registry(root: Path, *, record: dict | None = None, drop: tuple[str, ...] = (), training: str = "mixed",
                   states: str = "[0, 1, 2, 3, 4]", roles: dict | None = None) -> Path:
    """A registry with one trained dp model 'dp_x'; record entries are TOML literals (override or drop keys)."""
    d = root / "dp_x"
    d.mkdir(parents=True, exist_ok=True)
    (d / "dp_x.pb").write_bytes(MODEL_BYTES)
    (d / "input.json").write_text('{"training": {"numb_steps": 2000}}\n')
    (d / "learning_curve.csv").write_text(CURVE)
    roles = {"dp_x/dp_x.pb": "model", "dp_x/input.json": "training_input", "dp_x/learning_curve.csv": "learning_curve"} | (roles or {})
    files = ",\n".join(f'  {{ path = "{p}", sha256 = "{sha256_file(root / p)}", role = "{r}" }}' for p, r in roles.items() if r)
    fields = {k: v for k, v in (RECORD | (record or {})).items() if k not in drop}
    text = (
        '[[potential]]\nname = "dp_x"\nfamily = "dp"\ntype_map = ["Au", "O", "H", "Na"]\ncutoff_A = 4.5\n'
        f'training = "{training}"\ntrained_charge_states = {states}\nfiles = [\n{files}\n]\n\n'
        "[potential.trained]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())
        + '\n[[potential]]\nname = "plain"\nfamily = "dp"\ntype_map = ["Au", "O", "H", "Na"]\ncutoff_A = 4.5\n'
        f'training = "single"\ntrained_charge_states = [4]\nfiles = [{{ path = "dp_x/dp_x.pb", sha256 = "{sha256_file(d / "dp_x.pb")}" }}]\n'
    )
    path = root / "manifest.toml"
    path.write_text(text)
    return path


def cli_error(path: Path, *args: str) -> str:
    result = runner.invoke(app, ["potentials", *args, "--manifest", str(path)], env=WIDE)
    assert result.exit_code == 2, result.output
    return result.output


# --------------------------------------------------------------------------- a valid record


def test_valid_record_loads_and_verifies(tmp_path: Path) -> None:
    reg = load_manifest(write_registry(tmp_path))
    entry = reg.entries["dp_x"]
    rec = entry.trained
    assert isinstance(rec, TrainingRecord)
    assert (rec.training_set, rec.gradient_updates, rec.batch_size, rec.split_seed) == ("mixed", 2000, 4, 7)
    assert rec.test_rmse_force_meV_A == 87.5 and rec.size_bytes == 29
    assert rec.stability_target_ps == 20.0 and rec.nvt_blew_up_at_ps is None
    assert rec.stability_status == "stable"
    reg.verify_files(entry)
    rows = reg.learning_curve_rows(entry)
    assert len(rows) == 4 and float(rows[-1]["force_meV_A"]) == 210.0
    # a single-charge entry without a record, one charge state: fine
    assert reg.entries["plain"].trained is None and reg.entries["plain"].training == "single"


def test_single_charge_record(tmp_path: Path) -> None:
    reg = load_manifest(write_registry(tmp_path, record={"training_set": '"q4"'}, training="single", states="[4]"))
    assert reg.entries["dp_x"].trained.charge_state == 4


def test_list_shows_training_set_rmse_and_stability(tmp_path: Path) -> None:
    path = write_registry(tmp_path, record={"nvt_ps_without_blowup": "3.5", "nvt_blew_up_at_ps": "3.75"})
    result = runner.invoke(app, ["potentials", "list", "--manifest", str(path)], env=WIDE)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "dp_x" in line)
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells[-3:] == ["mixed", "87.5", "blew-up at 3.75 ps"]
    plain = [c.strip() for c in next(l for l in result.output.splitlines() if "plain" in l).split("│")[1:-1]]
    assert plain[-3:] == ["-", "-", "-"]


def test_check_runs_record_checks(tmp_path: Path) -> None:
    result = runner.invoke(app, ["potentials", "check", "--manifest", str(write_registry(tmp_path))], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "size of model files" in result.output and "29 bytes" in result.output
    assert "learning curve" in result.output


# --------------------------------------------------------------------------- stability status


@pytest.mark.parametrize("ran, blew, target, expected", [
    (20.0, None, 20.0, "stable"),
    (25.0, None, 20.0, "stable"),
    (3.5, 3.75, 20.0, "blew-up at 3.75 ps"),
    (5.0, None, 20.0, "ran 5 ps, target 20 ps not tested"),
    (12.5, None, 50.0, "ran 12.5 ps, target 50 ps not tested"),
])
def test_stability_status(ran, blew, target, expected) -> None:
    rec = _record(nvt_ps_without_blowup=ran, nvt_blew_up_at_ps=blew, stability_target_ps=target)
    assert rec.stability_status == expected
    assert rec.ran_to_target == (expected == "stable")


def _record(**fields) -> TrainingRecord:
    return TrainingRecord.model_validate(
        {k: (v.strip('"') if v.startswith('"') else float(v) if "." in v else int(v)) for k, v in RECORD.items()} | fields)


@pytest.mark.parametrize("ran, blew, peak, ref, expected", [
    # water lifted off: the first O peak is 4.5 Å further out than the reference's (DEWETTING_SHIFT_A = 1.5)
    (20.0, None, 7.25, 2.75, "stable; water off the metal (first O peak 7.2 Å, reference 2.8 Å)"),
    (2.0, None, 7.25, 2.75, "ran 2 ps, target 20 ps not tested; water off the metal (first O peak 7.2 Å, reference 2.8 Å)"),
    (20.0, None, 4.2, 2.75, "stable"),     # 1.45 Å further out: still within the reference's first layer
    (20.0, None, 2.6, 2.75, "stable"),     # closer to the metal is not dewetting
    (20.0, None, 7.25, None, "stable"),    # no reference to compare with
    (1.0, 1.5, 7.25, 2.75, "blew-up at 1.5 ps"),
])
def test_water_off_the_metal_is_part_of_the_status(ran, blew, peak, ref, expected) -> None:
    """A run that kept together but whose water left the metal says so; a blow-up says only that."""
    rec = _record(nvt_ps_without_blowup=ran, nvt_blew_up_at_ps=blew, nvt_first_O_peak_A=peak,
                  reference_first_O_peak_A=ref)
    assert rec.stability_status == expected
    assert rec.water_off_metal == ("water off" in expected)


# --------------------------------------------------------------------------- invalid records: exit 2 naming the key


@pytest.mark.parametrize("kwargs, key", [
    ({"roles": {"dp_x/input.json": None}}, "potential.dp_x.trained.input"),
    ({"roles": {"dp_x/learning_curve.csv": "data"}}, "potential.dp_x.trained.learning_curve"),
    ({"record": {"training_set": '"q9x"'}}, "potential.dp_x.trained.training_set"),
    ({"training": "single"}, "potential.dp_x.training"),
    ({"record": {"training_set": '"q0"'}, "training": "single", "states": "[0, 4]"}, "potential.dp_x.trained_charge_states"),
    ({"record": {"test_rmse_energy_meV_atom": "-0.5"}}, "potential.dp_x.trained.test_rmse_energy_meV_atom"),
    ({"record": {"test_rmse_force_meV_A": "-1.0"}}, "potential.dp_x.trained.test_rmse_force_meV_A"),
    ({"record": {"dataset_sha256": '"abc"'}}, "potential.dp_x.trained.dataset_sha256"),
    ({"record": {"gradient_updates": "0"}}, "potential.dp_x.trained.gradient_updates"),
    ({"record": {"input": '"../outside.json"'}}, "potential.dp_x.trained.input"),
    ({"record": {"nvt_blew_up_at_ps": "1.0"}}, "potential.dp_x.trained"),
    ({"record": {"colour": '"red"'}}, "potential.dp_x.trained.colour"),
    ({"drop": ("test_frames",)}, "potential.dp_x.trained.test_frames"),
])
def test_bad_record_exits_2_naming_the_key(tmp_path: Path, kwargs: dict, key: str) -> None:
    path = write_registry(tmp_path, **kwargs)
    out = cli_error(path, "list")
    assert "manifest.toml" in out and key in out, out
    assert len([line for line in out.splitlines() if line.strip()]) <= 3  # one message (rich may wrap it)
    with pytest.raises(InputError) as err:
        load_manifest(path)
    assert err.value.key == key


def test_wrong_size_bytes(tmp_path: Path) -> None:
    path = write_registry(tmp_path, record={"size_bytes": "30"})
    reg = load_manifest(path)  # loads; the files disagree
    with pytest.raises(InputError) as err:
        reg.verify_files(reg.entries["dp_x"])
    assert err.value.key == "potential.dp_x.trained.size_bytes"
    assert "total 29 bytes" in err.value.message and err.value.allowed == "29"
    out = cli_error(path, "check")
    assert "size of model files" in out and "FAIL" in out


def sparse(path: Path, size: int) -> None:
    with open(path, "wb") as handle:
        handle.truncate(size)
    assert path.stat().st_size == size


def test_model_file_over_20_MiB(tmp_path: Path) -> None:
    path = write_registry(tmp_path)
    sparse(tmp_path / "dp_x" / "dp_x.pb", MAX_SHIPPED_MODEL_BYTES + 1)
    text = path.read_text().replace(f"size_bytes = {len(MODEL_BYTES)}", f"size_bytes = {MAX_SHIPPED_MODEL_BYTES + 1}")
    path.write_text(text)
    reg = load_manifest(path)
    with pytest.raises(InputError) as err:
        reg.verify_files(reg.entries["dp_x"])
    assert err.value.key == "potential.dp_x.files[0]" and "over the shipped-model limit" in err.value.message
    assert err.value.allowed == "<= 20971520 bytes (20 MiB)"
    # the untrained entry sharing the file has no size limit (its sha256 is what fails)
    with pytest.raises(InputError) as err:
        reg.verify_files(reg.entries["plain"])
    assert "sha256 mismatch" in err.value.message


def test_model_file_of_exactly_20_MiB_is_allowed(tmp_path: Path) -> None:
    path = write_registry(tmp_path)
    model = tmp_path / "dp_x" / "dp_x.pb"
    sparse(model, MAX_SHIPPED_MODEL_BYTES)
    text = path.read_text().replace(f"size_bytes = {len(MODEL_BYTES)}", f"size_bytes = {MAX_SHIPPED_MODEL_BYTES}")
    text = re.sub(r'(path = "dp_x/dp_x.pb", sha256 = ")[0-9a-f]{64}', rf"\g<1>{sha256_file(model)}", text)
    path.write_text(text)
    reg = load_manifest(path)
    reg.verify_files(reg.entries["dp_x"])


# --------------------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def trained_campaign(tmp_path_factory):
    """The synthetic report campaign with a training record on 'shifted' (mixed) and a blow-up on 'tilted' (q4)."""
    root = tmp_path_factory.mktemp("trained")
    path = syn.make_campaign(root)
    manifest = root / "manifest.toml"
    text = manifest.read_text().replace('trained_charge_states = [0, 4]', 'trained_charge_states = [4]')
    for name, extra in (("shifted", {"nvt_first_O_peak_A": "6.25", "reference_first_O_peak_A": "2.75"}), ("tilted", {"training_set": '"q4"', "test_rmse_energy_meV_atom": "4.5",
                                                      "test_rmse_force_meV_A": "150.0", "nvt_ps_without_blowup": "2.5",
                                                      "nvt_blew_up_at_ps": "2.5"})):
        d = root / name
        d.mkdir()
        (d / "in.json").write_text("{}\n")
        (d / "lc.csv").write_text(CURVE)
        (root / f"{name}.model").write_bytes(MODEL_BYTES)
        files_line = f'files = [{{path = "{name}.model", sha256 = "{"0" * 64}"}}]\n'
        assert files_line in text
        new_files = (f'files = [{{path = "{name}.model", sha256 = "{"0" * 64}"}}, '
                     f'{{path = "{name}/in.json", sha256 = "{sha256_file(d / "in.json")}", role = "training_input"}}, '
                     f'{{path = "{name}/lc.csv", sha256 = "{sha256_file(d / "lc.csv")}", role = "learning_curve"}}]\n')
        fields = RECORD | {"input": f'"{name}/in.json"', "learning_curve": f'"{name}/lc.csv"'} | extra
        text = text.replace(files_line, new_files + "[potential.trained]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()))
    manifest.write_text(text)
    return load_campaign(path)


def test_models_table_shows_the_record(trained_campaign) -> None:
    data = collect(trained_campaign)
    assert data.info["shifted"].test_rmse_force_meV_A == 87.5
    assert data.info["tilted"].stability == "blew-up at 2.5 ps" and data.info["tilted"].stable is False
    table = tables.models_table(data)
    rows = {r[0]: dict(zip(table.headers, r)) for r in table.rows}
    assert rows["shifted"]["test_rmse_energy_meV_atom"] == 1.25 and rows["shifted"]["training_set"] == "mixed"
    assert rows["tilted"]["test_rmse_force_meV_A"] == 150.0 and rows["tilted"]["training_set"] == "q4"
    assert rows["same"]["stability_nvt_300K"] == "–" and rows["same"]["training_set"] == "–"
    assert "runs_done" in table.headers and "receptive_field_A" in table.headers  # the existing columns stay
    view = tables.models_view(data)
    vrows = {r[0]: dict(zip(view.headers, r)) for r in view.rows}
    assert vrows["shifted"]["test RMSE E (meV/atom)"] == "1.25"
    assert vrows["shifted"]["test RMSE F (meV/Å)"] == "87.5"
    # ran 20 ps without a blow-up, but its water left the metal: said and flagged
    assert data.info["shifted"].stable is True and data.info["shifted"].water_off_metal is True
    assert vrows["shifted"]["stability (NVT 300 K)"] == (
        f"stable; water off the metal (first O peak 6.2 Å, reference 2.8 Å) {tables.FLAG}")
    assert vrows["tilted"]["stability (NVT 300 K)"] == f"blew-up at 2.5 ps {tables.FLAG}"
    assert vrows["same"]["test RMSE F (meV/Å)"] == "–" and vrows["same"]["stability (NVT 300 K)"] == "–"


def test_report_files_show_the_record(trained_campaign, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", "-c", str(trained_campaign.path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    md = (out / "report.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| model | family | receptive field"))
    assert "test RMSE E (meV/atom) | test RMSE F (meV/Å) | stability (NVT 300 K) |" in header
    shifted = next(line for line in md.splitlines() if line.startswith("| shifted | mace |"))
    assert "| mixed | 1.25 | 87.5 | stable; water off the metal (first O peak 6.2 Å, reference 2.8 Å) ⚑ |" in shifted
    html = (out / "report.html").read_text()
    assert "stability (NVT 300 K)" in html and "blew-up at 2.5 ps" in html
    rows = {r["model"]: r for r in csv.DictReader(open(out / "tables" / "models.csv"))}
    assert float(rows["tilted"]["test_rmse_energy_meV_atom"]) == 4.5
    assert rows["same"]["test_rmse_energy_meV_atom"] == "" and rows["same"]["stability_nvt_300K"] == "–"


# --------------------------------------------------------------------------- the shipped registry


def test_builtin_trained_entries_verify_and_have_learning_curves() -> None:
    """Every shipped entry with a training record: files, hashes, size limit and size_bytes, a learning curve of >= 2 rows."""
    reg = load_manifest(builtin_manifest())
    assert "reference" in reg.entries
    for entry in reg.entries.values():
        if entry.trained is None:
            continue
        reg.verify_files(entry)
        assert all(os.path.getsize(reg.root / f.path) <= MAX_SHIPPED_MODEL_BYTES for f in entry.files if f.role == "model")
        rows = reg.learning_curve_rows(entry)
        assert len(rows) >= 2, entry.name
        assert "gradient_update" in rows[0], entry.name
        assert entry.trained.stability_status  # one of the three strings


def test_shipped_stability_and_training_cell_match_their_sources() -> None:
    """The registry's stability keys are stability.json's (what stability.py measured) and trained_area_A2 is the
    training dataset's cell: re-stamping the shipped block from those sources changes nothing."""
    import importlib.util

    from elbench.io import read_json

    root = Path(builtin_manifest()).parent
    spec = importlib.util.spec_from_file_location("register", root / "trained" / "register.py")
    register = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(register)
    _, area = register._charge_states_and_area(root.parent / "tests" / "data" / "reference_small.extxyz")
    block = builtin_manifest().read_text().split(register.BEGIN, 1)[1].split(register.END, 1)[0]
    restamped = register.restamp(read_json(root / "trained" / "stability.json"), area)
    assert len(restamped) == 18
    assert "\n".join(restamped).strip() == block.strip()
