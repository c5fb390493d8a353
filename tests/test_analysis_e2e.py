"""End to end on the real LAMMPS binary: init → build → render → run (reference model) → analyze -c.

A small Au(111)/water/Na+ campaign (6×8×2 Au, 10 Å water, q0 and q1, 300 steps)
runs the classical reference in LAMMPS; campaign-mode analysis must then find
both finished runs, write the contract files, and skip them the second time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from elbench.analysis.columns import profile_columns
from elbench.analysis.writers import read_profiles_csv

pytestmark = [pytest.mark.lammps, pytest.mark.slow]
ELBENCH = str(Path(sys.executable).parent / "elbench")
SETTINGS = {
    "repeats": "[6, 8]",
    "layers": "2",
    "water_thickness_A": "10.0",
    "charge_states": "[0, 1]",
    "equilibration_ps": "0.05",
    "production_ps": "0.1",
    "dump_interval_steps": "10",
    "models": '["reference"]',
}


def _elbench(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([ELBENCH, *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e") / "camp"
    _elbench("init", str(root))
    toml = root / "elbench.toml"
    text = toml.read_text()
    for key, value in SETTINGS.items():
        text, n = re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {value}", text, count=1)
        assert n == 1, key
    toml.write_text(text)
    for verb in ("build", "render", "run"):
        _elbench(verb, "-c", str(toml))
    return toml


def test_campaign_analysis_of_real_reference_runs(campaign: Path):
    proc = _elbench("analyze", "-c", str(campaign), "--jobs", "2")
    root = campaign.parent
    for n in (0, 1):
        out = root / "results" / "reference" / f"q{n}" / "s1"
        cols = read_profiles_csv(out / "profiles.csv")
        assert list(cols) == profile_columns("Na")
        summary = json.loads((out / "summary.json").read_text())
        assert summary["frames"]["n_analysed"] == 21  # 200 production steps, a frame every 10, plus step 0
        assert summary["info"]["oxygen_with_n_H_per_frame"]["2"] == summary["info"]["counts"]["O"]
        assert summary["info"]["metal_layers"]["n_layers_min"] == 2
        top = summary["interfaces"]["top"]
        # water does not enter the metal, piles up in a first layer 2-4 Å above it
        assert np.all(cols["n_O_per_A3"][cols["z_A"] < 1.5] == 0)
        assert 2.0 < top["first_O_peak_position_A"] < 4.0
        assert top["first_O_peak_rho_g_cm3"] > 1.2
        # the water column integrates to the number of waters per area
        area = summary["info"]["counts"]["O"] / (cols["n_O_per_A3"].sum() * 0.1)
        assert area == pytest.approx(17.30148872 * 19.97803834, rel=1e-3)
        assert (out / "density.png").is_file() and (out / "orientation.png").is_file()
        assert top["cation"]["n_cations"] == n
    q1 = json.loads((root / "results/reference/q1/s1/summary.json").read_text())["interfaces"]["top"]["cation"]
    assert q1["n_cation_frames"] == 21 and 0.0 <= q1["contact_fraction"] <= 1.0
    assert 3.0 <= q1["coordination_all"] <= 7.0  # Na+ first shell in water: 4-6 O
    # second pass: nothing to do
    again = _elbench("analyze", "-c", str(campaign))
    assert again.stdout.count("up-to-date") == 2, again.stdout
    assert "analysed 2 runs" in proc.stdout


def test_single_trajectory_mode_on_a_run_directory(campaign: Path, tmp_path: Path):
    run = campaign.parent / "runs/reference/q1/s1"
    out = tmp_path / "single"
    _elbench("analyze", str(run / "traj.dcd"), "--topology", str(run / "system_full.data"), "--out", str(out), "--no-plots")
    a = read_profiles_csv(out / "profiles.csv")
    b = read_profiles_csv(campaign.parent / "results/reference/q1/s1/profiles.csv")
    np.testing.assert_allclose(a["rho_water_g_cm3"], b["rho_water_g_cm3"], rtol=1e-9)
    np.testing.assert_allclose(a["cos_theta"], b["cos_theta"], rtol=1e-9, equal_nan=True)


def test_campaign_analysis_summarises_a_model_deviation_file(campaign: Path):
    """A run that left model_devi.out (DP ensemble or bridge committee) gets model_deviation.* in its results."""
    root = campaign.parent
    run_dir = root / "runs" / "reference" / "q1" / "s1"
    rows = [(100, 0.0, 0.0, 0.0, 0.05, 0.01, 0.02), (110, 0.0, 0.0, 0.0, 0.31, 0.02, 0.04),
            (120, 0.0, 0.0, 0.0, 0.12, 0.01, 0.03)]
    text = "#       step         max_devi_v         min_devi_v         avg_devi_v" \
           "         max_devi_f         min_devi_f         avg_devi_f\n"
    text += "".join(" ".join(f"{v:.6e}" if i else str(v) for i, v in enumerate(r)) + "\n" for r in rows)
    (run_dir / "model_devi.out").write_text(text)
    try:
        proc = _elbench("analyze", "-c", str(campaign), "--force")
        assert "model deviation" in proc.stdout + proc.stderr
        summary = json.loads((root / "results" / "reference" / "q1" / "s1" / "model_deviation.json").read_text())
        per_frame = (root / "results" / "reference" / "q1" / "s1" / "model_deviation.csv").read_text().splitlines()
        assert per_frame[0].startswith("step,max_devi_f_eV_A")
        assert [float(line.split(",")[1]) for line in per_frame[1:]] == [0.05, 0.31, 0.12]
        assert summary["kind"] == "elbench model deviation"
        assert not (root / "results" / "reference" / "q0" / "s1" / "model_deviation.json").exists()
    finally:
        (run_dir / "model_devi.out").unlink()
