"""``elbench analyze`` through the CLI: outputs, formats, truncated files and bad input."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis_cases import Z_TOP, grid_xy, slab, write_case
from badinput_support import ELBENCH
from elbench.analysis.columns import profile_columns
from elbench.analysis.writers import read_profiles_csv
from elbench.cli.main import app
from record_support import write_record

runner = CliRunner()


def _case(tmp_path, suffix="dcd", frames=10, name="case", n=24, cations=True):
    metal, lx, ly = slab()
    rng = np.random.default_rng(1)
    o = [np.column_stack([grid_xy(n, lx, ly, rng), Z_TOP + 3.05 + 0.2 * rng.integers(0, 40, n)]) for _ in range(frames)]
    d = [rng.normal(size=(n, 3)) for _ in range(frames)]
    c = [np.array([[1.0, 1.0, Z_TOP + 2.55]])] * frames if cations else None
    return write_case(tmp_path, o, d, metal=metal, lx=lx, ly=ly, cation_frames=c, suffix=suffix, name=name)


def _analyze(*args):
    return runner.invoke(app, ["analyze", *map(str, args)])


def test_cli_writes_contract_outputs(tmp_path):
    data, traj, _ = _case(tmp_path)
    out = tmp_path / "out"
    result = _analyze(traj, "--topology", data, "--out", out)
    assert result.exit_code == 0, result.output
    cols = read_profiles_csv(out / "profiles.csv")
    assert list(cols) == profile_columns("Na")
    header = (out / "profiles.csv").read_text().splitlines()[:6]
    assert header[0].startswith("# elbench") and any("sha256" in h for h in header)
    # at least 8 significant digits
    row = [ln for ln in (out / "profiles.csv").read_text().splitlines() if ln and ln[0] != "#"][1:]
    values = [v for ln in row for v in ln.split(",") if v not in ("0", "nan")]
    assert any(len(v.replace("-", "").replace(".", "").lstrip("0").split("e")[0]) >= 8 for v in values)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"]["n_analysed"] == 10
    assert summary["interfaces"]["top"]["cation"]["contact_fraction"] == pytest.approx(1.0)
    assert summary["provenance"]["inputs"]["trajectory"]["sha256"]
    assert (out / "density.png").stat().st_size > 1000 and (out / "orientation.png").stat().st_size > 1000


@pytest.mark.parametrize("suffix", ["lammpstrj", "xtc", "extxyz"])
def test_other_formats_match_dcd(tmp_path, suffix):
    data, traj, _ = _case(tmp_path)
    _, other, _ = _case(tmp_path, suffix=suffix, name="other")
    assert _analyze(traj, "--topology", data, "--out", tmp_path / "a", "--no-plots").exit_code == 0
    result = _analyze(other, "--topology", data, "--out", tmp_path / "b", "--no-plots")
    assert result.exit_code == 0, result.output
    a, b = read_profiles_csv(tmp_path / "a/profiles.csv"), read_profiles_csv(tmp_path / "b/profiles.csv")
    tol = 0.02 if suffix == "xtc" else 1e-4  # XTC stores 0.01 Å precision
    np.testing.assert_allclose(b["n_O_per_A3"].sum(), a["n_O_per_A3"].sum(), rtol=1e-6)
    np.testing.assert_allclose(np.nansum(b["cos_theta"]), np.nansum(a["cos_theta"]), atol=tol * 50)


def test_truncated_dcd_analyses_complete_frames_and_says_so(tmp_path):
    data, traj, _ = _case(tmp_path, frames=12)
    raw = traj.read_bytes()
    traj.write_bytes(raw[: len(raw) - 500])
    out = tmp_path / "out"
    result = _analyze(traj, "--topology", data, "--out", out, "--no-plots")
    assert result.exit_code == 0, result.output
    assert "partial frame" in result.output and "dropped 1" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"]["n_analysed"] == 11
    assert summary["trajectory"]["dropped_partial_frames"] == 1


def test_truncated_dump_analyses_complete_frames(tmp_path):
    data, traj, _ = _case(tmp_path, suffix="lammpstrj", frames=12)
    lines = traj.read_text().splitlines(keepends=True)
    traj.write_text("".join(lines[:-20]))
    result = _analyze(traj, "--topology", data, "--out", tmp_path / "out", "--no-plots")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out/summary.json").read_text())["frames"]["n_analysed"] == 11


def _bad(result, tmp_path, *needles):
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert text.startswith("error:") and len(text.splitlines()) <= 2, text
    for needle in needles:
        assert needle in text, text
    assert not (tmp_path / "out" / "profiles.csv").exists()


def test_bad_missing_files(tmp_path):
    data, traj, _ = _case(tmp_path)
    _bad(_analyze(tmp_path / "nope.dcd", "--topology", data, "--out", tmp_path / "out"), tmp_path, "not found")
    _bad(_analyze(traj, "--topology", tmp_path / "nope.data", "--out", tmp_path / "out"), tmp_path, "not found")


def test_bad_atom_count_mismatch(tmp_path):
    data, _, _ = _case(tmp_path, n=24)
    _, other, _ = _case(tmp_path, n=20, name="small")
    _bad(_analyze(other, "--topology", data, "--out", tmp_path / "out"), tmp_path, "atom")


def test_bad_elements(tmp_path):
    data, traj, _ = _case(tmp_path)
    _bad(_analyze(traj, "--topology", data, "--out", tmp_path / "out", "--metal", "Pt"), tmp_path, "--metal", "Pt")
    _bad(_analyze(traj, "--topology", data, "--out", tmp_path / "out", "--cation", "K"), tmp_path, "--cation", "'K'")


def test_bad_no_water(tmp_path):
    data, traj, _ = _case(tmp_path)
    text = data.read_text().replace("# elbench type_map: Au O H Na", "# elbench type_map: Au N C Na")
    data.write_text(text)
    _bad(_analyze(traj, "--topology", data, "--out", tmp_path / "out"), tmp_path, "no water")


def test_bad_type_map_header(tmp_path):
    data, traj, _ = _case(tmp_path)
    data.write_text(data.read_text().replace("# elbench type_map: Au O H Na", "# elbench type_map: Au O H"))
    _bad(_analyze(traj, "--topology", data, "--out", tmp_path / "out"), tmp_path, "type_map")


def test_type_map_from_masses_without_header(tmp_path):
    data, traj, _ = _case(tmp_path)
    lines = [ln.split("#")[0].rstrip() if ln[:1].isdigit() and len(ln.split()) == 4 else ln for ln in data.read_text().splitlines()]
    data.write_text("\n".join(ln for ln in lines if "type_map" not in ln) + "\n")
    result = _analyze(traj, "--topology", data, "--out", tmp_path / "out", "--no-plots")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["topology"]["type_map"] == ["Au", "O", "H", "Na"]
    assert summary["topology"]["type_map_source"] == "masses"


def test_bad_empty_and_garbage_trajectory(tmp_path):
    data, _, _ = _case(tmp_path)
    empty = tmp_path / "empty.dcd"
    empty.write_bytes(b"")
    _bad(_analyze(empty, "--topology", data, "--out", tmp_path / "out"), tmp_path, "empty")
    garbage = tmp_path / "garbage.dcd"
    garbage.write_bytes(b"\x00\x01not a dcd" * 10)
    _bad(_analyze(garbage, "--topology", data, "--out", tmp_path / "out"), tmp_path, "garbage.dcd")
    header_only = tmp_path / "h.lammpstrj"
    header_only.write_text("ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n")
    _bad(_analyze(header_only, "--topology", data, "--out", tmp_path / "out"), tmp_path, "h.lammpstrj")



@pytest.mark.parametrize("suffix,reason", [
    ("dcd", "cannot read DCD trajectory (OSError: Reading DCD header failed: format of DCD file is wrong)"),
    ("xtc", "cannot read XTC trajectory (OSError: XDR read error = magic)"),
], ids=["dcd", "xtc"])
def test_unreadable_trajectory_one_error_line_no_reader_noise(tmp_path, suffix, reason):
    """A file MDAnalysis's reader cannot open: the one error line, exit 2, and nothing from the reader's __del__."""
    data, _, _ = _case(tmp_path)
    bad = tmp_path / f"x.{suffix}"
    bad.write_text("hello\n")
    argv = [ELBENCH, "analyze", str(bad), "--topology", str(data), "--out", str(tmp_path / "o")]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr == f"error: {bad}: {reason}\n"
    assert not proc.stdout.strip()


def test_bad_options(tmp_path):
    data, traj, _ = _case(tmp_path)
    _bad(_analyze(traj, "--topology", data, "--out", tmp_path / "out", "--dz", "0"), tmp_path, "--dz")
    _bad(_analyze(traj, "--topology", data, "--out", tmp_path / "out", "--stop", "3"), tmp_path, "frames")
    _bad(_analyze(traj, "--topology", data), tmp_path, "--out")
    _bad(_analyze(traj, "--topology", data, "--out", tmp_path / "out", "--format", "pdb"), tmp_path, "--format")


def test_existing_outputs_survive_a_failed_run(tmp_path):
    data, traj, _ = _case(tmp_path)
    out = tmp_path / "out"
    assert _analyze(traj, "--topology", data, "--out", out, "--no-plots").exit_code == 0
    before = (out / "profiles.csv").read_text()
    result = _analyze(traj, "--topology", data, "--out", out, "--metal", "Pt")
    assert result.exit_code == 2
    assert (out / "profiles.csv").read_text() == before


def _fake_campaign(tmp_path):
    """A campaign whose runs/ the test writes by hand: q0 done, q1 still running."""
    import re

    root = tmp_path / "camp"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    toml = root / "elbench.toml"
    text = re.sub(r"(?m)^charge_states\s*=.*$", "charge_states = [0, 1]", toml.read_text(), count=1)
    text = re.sub(r"(?m)^models\s*=.*$", 'models = ["reference"]', text, count=1)
    text = re.sub(r"(?m)^seeds\s*=.*$", "seeds = [1]", text, count=1)
    text = re.sub(r"(?m)^blocks\s*=.*$", "blocks = 4", text, count=1)
    toml.write_text(text)
    for n, state in ((0, "done"), (1, "running")):
        run = root / "runs" / "reference" / f"q{n}" / "s1"
        run.mkdir(parents=True)
        data, traj, _ = _case(run, name="system")
        traj.rename(run / "traj.dcd")
        (run / "status.json").write_text(json.dumps({"state": state}))
        write_record(run, charge_state=n, dump={"file": "traj.dcd", "format": "dcd", "interval_steps": 10},
                     timestep_fs=0.5, topology_file="system.data")
    return root, toml


def test_campaign_mode_analyses_finished_runs_and_skips_up_to_date(tmp_path):
    root, toml = _fake_campaign(tmp_path)
    result = runner.invoke(app, ["analyze", "-c", str(toml), "--jobs", "2", "--no-plots"])
    assert result.exit_code == 0, result.output
    done = root / "results/reference/q0/s1"
    assert (done / "profiles.csv").is_file() and (done / "summary.json").is_file()
    assert not (root / "results/reference/q1/s1").exists()
    assert "not-finished" in result.output
    summary = json.loads((done / "summary.json").read_text())
    assert summary["settings"]["geometry"] == "slab"
    assert summary["settings"]["dz_A"] == 0.1 and summary["settings"]["blocks"] == 4  # the campaign's analysis table
    again = runner.invoke(app, ["analyze", "-c", str(toml)])
    assert again.exit_code == 0 and "up-to-date" in again.output
    forced = runner.invoke(app, ["analyze", "-c", str(toml), "--force", "--no-plots"])
    assert forced.exit_code == 0 and "analysed 1 runs" in forced.output


def test_campaign_mode_bad_campaign_file(tmp_path):
    result = runner.invoke(app, ["analyze", "-c", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "campaign file not found" in result.output


def test_first_layer_window_option_recorded_in_summary(tmp_path):
    data, traj, _ = _case(tmp_path)
    auto, user = tmp_path / "auto", tmp_path / "user"
    assert _analyze(traj, "--topology", data, "--out", auto, "--no-plots").exit_code == 0
    result = _analyze(traj, "--topology", data, "--out", user, "--no-plots", "--first-layer", "0", "4.5")
    assert result.exit_code == 0, result.output
    a, u = (json.loads((d / "summary.json").read_text()) for d in (auto, user))
    assert a["settings"]["first_layer_A"] is None and a["settings"]["first_layer_source"] == "auto"
    assert a["interfaces"]["top"]["first_layer_source"] == "auto"
    assert u["settings"]["first_layer_A"] == [0.0, 4.5] and u["settings"]["first_layer_source"] == "user"
    top = u["interfaces"]["top"]
    assert top["first_layer_source"] == "user" and top["first_layer_window_A"] == [0.0, 4.5]
    assert top["first_layer_boundary_A"] == 4.5 and top["first_layer_boundary_source"] == "user"  # old keys kept
    assert top["cation"]["contact_fraction"] == pytest.approx(1.0)  # the cation at 2.55 Å is inside


@pytest.mark.parametrize(
    ("window", "needles"),
    [
        (("4.5", "2"), ["--first-layer", "not below MAX", "0 <= MIN < MAX"]),
        (("3", "3"), ["--first-layer", "not below MAX"]),
        (("-1", "3"), ["--first-layer", "negative", "0 <= MIN < MAX"]),
        (("25", "30"), ["--first-layer", "no water O", "overlaps the water"]),  # waters are at 3–11 Å
    ],
)
def test_bad_first_layer_window(tmp_path, window, needles):
    data, traj, _ = _case(tmp_path)
    _bad(_analyze(traj, "--topology", data, "--out", tmp_path / "out", "--first-layer", *window), tmp_path, *needles)
    assert not (tmp_path / "out" / "summary.json").exists()


def test_first_layer_window_and_max_are_exclusive(tmp_path):
    data, traj, _ = _case(tmp_path)
    args = ("--first-layer", "0", "4.5", "--first-layer-max", "4")
    _bad(_analyze(traj, "--topology", data, "--out", tmp_path / "out", *args), tmp_path, "--first-layer", "not both")


def test_campaign_first_layer_key_reaches_every_run(tmp_path):
    root, toml = _fake_campaign(tmp_path)
    toml.write_text(toml.read_text().replace("blocks = 4", "blocks = 4\nfirst_layer_A = [1.0, 4.5]", 1))
    result = runner.invoke(app, ["analyze", "-c", str(toml), "--no-plots"])
    assert result.exit_code == 0, result.output
    summary = json.loads((root / "results/reference/q0/s1/summary.json").read_text())
    assert summary["settings"]["first_layer_A"] == [1.0, 4.5]
    assert summary["interfaces"]["top"]["first_layer_window_A"] == [1.0, 4.5]
    # the command line wins over the campaign
    forced = runner.invoke(app, ["analyze", "-c", str(toml), "--force", "--no-plots", "--first-layer", "0", "6"])
    assert forced.exit_code == 0, forced.output
    summary = json.loads((root / "results/reference/q0/s1/summary.json").read_text())
    assert summary["interfaces"]["top"]["first_layer_window_A"] == [0.0, 6.0]


def test_campaign_first_layer_key_outside_the_water_names_the_key(tmp_path):
    root, toml = _fake_campaign(tmp_path)
    toml.write_text(toml.read_text().replace("blocks = 4", "blocks = 4\nfirst_layer_A = [25.0, 30.0]", 1))
    result = runner.invoke(app, ["analyze", "-c", str(toml), "--no-plots"])
    assert result.exit_code != 0
    assert "analysis.first_layer_A" in result.output and "no water O" in result.output
    assert not (root / "results/reference/q0/s1/summary.json").exists()
    assert not (root / "results/reference/q0/s1/profiles.csv").exists()
