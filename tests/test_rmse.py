"""elbench rmse: the numbers equal an independent computation; the reference on its own labels is exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from elbench.cli.main import app
from elbench.dataset.frames import CHARGE_KEY, ENERGY_KEY, FORCES_KEY, read_frames
from elbench.rmse import rmse_report

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_rmse_equals_independent_computation():
    rng = np.random.default_rng(3)
    frames = read_frames(DATA / "reference_small.extxyz")
    ref_e = np.array([a.info[ENERGY_KEY] for a in frames])
    ref_f = [a.arrays[FORCES_KEY] for a in frames]
    nat = np.array([len(a) for a in frames])
    q = np.array([a.info[CHARGE_KEY] for a in frames])
    pred_e = ref_e + rng.normal(0, 0.05, len(frames))
    pred_f = [f + rng.normal(0, 0.1, f.shape) for f in ref_f]
    rec = rmse_report(ref_e, pred_e, nat, ref_f, pred_f, q)
    # independent: plain loops in Python floats
    for n in range(5):
        sel = [i for i in range(len(frames)) if q[i] == n]
        e = (sum(((pred_e[i] - ref_e[i]) / nat[i]) ** 2 for i in sel) / len(sel)) ** 0.5 * 1000
        comps = [float(x) for i in sel for x in (pred_f[i] - ref_f[i]).ravel()]
        f = (sum(c * c for c in comps) / len(comps)) ** 0.5 * 1000
        assert rec["per_charge_state"][str(n)]["energy_meV_atom"] == pytest.approx(e, rel=1e-12)
        assert rec["per_charge_state"][str(n)]["force_meV_A"] == pytest.approx(f, rel=1e-12)
        assert rec["per_charge_state"][str(n)]["n_frames"] == 20
    assert rec["overall"]["n_frames"] == 100
    assert 0.05 / nat.max() * 1000 * 0.7 < rec["overall"]["energy_meV_atom"] < 0.05 / nat.min() * 1000 * 1.3
    assert rec["overall"]["force_meV_A"] == pytest.approx(100, rel=0.05)
    assert len(rec["parity"]["energy"]) == 100


def test_reference_on_its_own_labels_is_zero_and_cli_writes_json(tmp_path):
    """The reference re-evaluated on its dataset through the CLI: RMSE ~ 0, rmse.json and parity.png written."""
    import shutil

    from elbench.build import build_system
    from elbench.config import load_campaign

    camp_file = tmp_path / "elbench.toml"
    shutil.copy(DATA / "reference_small.toml", camp_file)
    camp = load_campaign(camp_file)
    frames = read_frames(DATA / "reference_small.extxyz")
    sub = [a for a in frames if a.info[CHARGE_KEY] in (0, 4)][::5]
    from elbench.dataset.frames import write_frames

    write_frames(tmp_path / "sub.extxyz", sub)
    for n in (0, 4):
        build_system(camp.config.system, n, tmp_path / "systems" / f"q{n}")
    out = tmp_path / "results" / "reference" / "rmse.json"
    r = runner.invoke(app, ["rmse", "reference", str(tmp_path / "sub.extxyz"), "--systems", str(tmp_path / "systems"),
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    rec = json.loads(out.read_text())
    assert set(rec["per_charge_state"]) == {"0", "4"}
    # positions are stored with 8 decimals in extxyz: tiny, not zero
    assert rec["overall"]["energy_meV_atom"] < 1e-3
    assert rec["overall"]["force_meV_A"] < 1e-2
    assert (out.parent / "parity.png").stat().st_size > 1000


def test_rmse_bad_input(tmp_path):
    r = runner.invoke(app, ["rmse", "no-such-model", str(DATA / "reference_small.extxyz")])
    assert r.exit_code == 2 and "no-such-model" in r.output
    r = runner.invoke(app, ["rmse", "reference", str(DATA / "reference_small.extxyz")])
    assert r.exit_code == 2 and "--systems" in r.output


def test_rmse_json_has_the_report_layout():
    """rmse.json carries the names elbench.report reads (RMSE_FORMAT_DOC) as well as its own."""
    frames = read_frames(DATA / "reference_small.extxyz")[:10]
    ref_e = np.array([a.info[ENERGY_KEY] for a in frames])
    ref_f = [a.arrays[FORCES_KEY] for a in frames]
    rec = rmse_report(ref_e, ref_e + 0.01, np.array([len(a) for a in frames]), ref_f, [f + 0.001 for f in ref_f],
                      [a.info[CHARGE_KEY] for a in frames])
    o = rec["overall"]
    assert o["energy_rmse_meV_atom"] == o["energy_meV_atom"] and o["force_rmse_meV_A"] == pytest.approx(1.0)
    assert rec["frames"][0]["energy_pred_eV"] - rec["frames"][0]["energy_ref_eV"] == pytest.approx(0.01)
    assert len(rec["forces"]["ref_eV_A"]) == len(rec["forces"]["charge_state"]) == len(rec["parity"]["force"])


def _dp_test_blocks(log: str) -> dict[str, dict[str, float]]:
    """`dp test`'s printed errors per tested system (by directory name) and for its weighted average ('all')."""
    blocks: dict[str, dict[str, float]] = {}
    current = None
    for line in log.splitlines():
        if "# testing system :" in line:
            current = Path(line.split("# testing system :")[1].strip()).name
        elif "weighted average of errors" in line:
            current = "all"
        elif current is not None:
            for key, label in (("energy", "Energy RMSE/Natoms"), ("force", "Force  RMSE ")):
                if label in line:
                    blocks.setdefault(current, {})[key] = float(line.split(":")[-1].split()[0])
    return blocks


@pytest.mark.lammps
def test_dp_rmse_equals_dp_test(tmp_path):
    """For a DP model `elbench rmse` gives the numbers `dp test` prints on the same data, per charge state
    (one deepmd system each, as `elbench dataset convert` writes them) and overall (dp's weighted average)."""
    import subprocess

    from family_runs import REPO, require_env

    from elbench.dataset import convert

    dp = require_env("dp").parent / "dp"
    frames = read_frames(DATA / "reference_small.extxyz")
    systems = convert.write_deepmd(frames, tmp_path / "deepmd", ["Au", "O", "H", "Na"])
    out = tmp_path / "rmse.json"
    r = runner.invoke(app, ["rmse", "dp-tiny", str(DATA / "reference_small.extxyz"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rec = json.loads(out.read_text())
    proc = subprocess.run([str(dp), "test", "-m", str(REPO / "potentials/dp-tiny/dp-tiny.pb"), "-s",
                           str(tmp_path / "deepmd"), "-n", "100000"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    blocks = _dp_test_blocks(proc.stdout + proc.stderr)
    assert len(blocks) == len(systems) + 1, sorted(blocks)
    for sys_dir in systems:
        n = sys_dir.name.split("_q")[1].split("_")[0]
        ours = rec["per_charge_state"][n]
        # dp prints 7 significant digits (eV): compare at that precision
        assert ours["energy_meV_atom"] == pytest.approx(blocks[sys_dir.name]["energy"] * 1000, rel=2e-6)
        assert ours["force_meV_A"] == pytest.approx(blocks[sys_dir.name]["force"] * 1000, rel=2e-6)
    assert rec["overall"]["energy_meV_atom"] == pytest.approx(blocks["all"]["energy"] * 1000, rel=2e-6)
    assert rec["overall"]["force_meV_A"] == pytest.approx(blocks["all"]["force"] * 1000, rel=2e-6)
    assert rec["overall"]["force_meV_A"] > 50  # a tiny model: the comparison is of real, non-zero errors
