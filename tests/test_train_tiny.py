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
