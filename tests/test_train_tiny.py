"""A tiny real training per MLIP family in its own environment (minutes on a CPU).

A missing family environment is a failure that names the command creating it
(`./dev env <name>`), never a skip.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from elbench.dataset.frames import read_frames
from elbench.dataset.splits import write_splits
from elbench.engines.select import env_dir
from elbench.train.families import FAMILIES
from elbench.train.render import render_training
from elbench.train.run import run_training

DATA = Path(__file__).parent / "data"
#: (gradient updates, batch size) per family: a few minutes at most on 2 shared cores
TINY = {"dp": (200, 2), "dp-mp": (40, 2), "mace": (24, 2), "ace": (30, 16), "grace": (24, 2), "esen": (20, 2)}


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("splits")
    write_splits(read_frames(DATA / "reference_small.extxyz"), out, seed=1)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("fam", sorted(FAMILIES))
def test_tiny_training(fam, split_dir, tmp_path):
    env = FAMILIES[fam].environment
    assert (env_dir(env) / "bin" / "python").exists(), (
        f"the '{env}' environment for {fam} does not exist: create it with `./dev env {env}`")
    gu, batch = TINY[fam]
    out = tmp_path / fam
    render_training(fam, split_dir, out, set_name="q0", gradient_updates=gu, batch_size=batch, seed=1)
    status = run_training(out, timeout_s=900, nice=5)
    assert status["state"] == "done"
    for name in FAMILIES[fam].model_files:
        assert (out / name).exists()
    rows = list(csv.DictReader(open(out / "learning_curve.csv")))
    split = "valid" if any(r["split"] == "valid" and r["force_meV_A"] for r in rows) else "train"
    forces = [float(r["force_meV_A"]) for r in rows if r["split"] == split and r["force_meV_A"]]
    assert len(forces) >= 2
    assert min(forces[1:]) < forces[0]  # it learns
    assert (out / "learning_curve.png").stat().st_size > 1000


@pytest.mark.slow
def test_mace_rmse_equals_mace_own_test_table(split_dir, tmp_path):
    """`elbench rmse` through the MACE calculator reproduces mace_run_train's own test-set RMSE table."""
    import hashlib
    import json
    import re

    from typer.testing import CliRunner

    from elbench.cli.main import app

    assert (env_dir("mace") / "bin" / "python").exists(), "create the mace environment with `./dev env mace`"
    out = tmp_path / "mace"
    render_training("mace", split_dir, out, set_name="q4", gradient_updates=16, batch_size=2, seed=1)
    run_training(out, timeout_s=900, nice=5)
    model = out / "mace_model.model"
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    (tmp_path / "manifest.toml").write_text(
        '[[potential]]\nname = "mace-q4"\nfamily = "mace"\ntype_map = ["Au", "O", "H", "Na"]\ncutoff_A = 4.5\n'
        'message_passing_layers = 2\nenvironment = "mace"\n'
        f'files = [{{path = "mace/mace_model.model", sha256 = "{sha}", role = "model"}}]\n')
    r = CliRunner().invoke(app, ["rmse", "mace-q4", str(split_dir / "q4" / "test.extxyz"), "--manifest",
                                 str(tmp_path / "manifest.toml"), "--out", str(tmp_path / "rmse.json")])
    assert r.exit_code == 0, r.output
    rec = json.loads((tmp_path / "rmse.json").read_text())
    log = next((out / "logs").glob("*.log")).read_text()
    # mace's final table: | Default_Default | <E meV/atom> | <F meV/A> | ... (test_file), one decimal
    row = re.findall(r"\|\s*Default_Default\s*\|\s*([0-9.]+)\s*\|\s*([0-9.]+)\s*\|", log)[-1]
    assert rec["overall"]["energy_meV_atom"] == pytest.approx(float(row[0]), abs=0.051)
    assert rec["overall"]["force_meV_A"] == pytest.approx(float(row[1]), abs=0.051)
