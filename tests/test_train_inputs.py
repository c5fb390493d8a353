"""Training inputs: golden files per family, matched gradient updates, scripts, bad input.

Regenerate the golden files after an intended template change with
``ELBENCH_UPDATE_GOLDEN=1 pytest tests/test_train_inputs.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from elbench.cli.main import app
from elbench.dataset.splits import write_splits
from elbench.dataset.frames import read_frames
from elbench.errors import InputError
from elbench.families import trainable_names
from elbench.train.render import render_training

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "train_golden"
runner = CliRunner()


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("splits")
    write_splits(read_frames(DATA / "reference_small.extxyz"), out, seed=1)
    return out


@pytest.mark.parametrize("fam", sorted(trainable_names()))
def test_golden_training_input(fam, split_dir, tmp_path):
    rec = render_training(fam, split_dir, tmp_path / fam, set_name="mixed", gradient_updates=400, batch_size=4, seed=3)
    text = (tmp_path / fam / rec["config_file"]).read_text()
    golden = GOLDEN / f"{fam}.{rec['config_file']}"
    if os.environ.get("ELBENCH_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.is_file(), f"missing golden file {golden}; run with ELBENCH_UPDATE_GOLDEN=1"
    assert text == golden.read_text()
    if rec["config_file"].endswith(".json"):
        json.loads(text)
    else:
        import yaml

        yaml.safe_load(text)


def test_matched_gradient_updates(split_dir, tmp_path):
    """Every family gets the same GU (within one epoch's rounding) for the same request."""
    effective = {}
    for fam in trainable_names():
        # ACE's tiny preset is one closed-form solve (no gradient updates); its paper preset is pacemaker's BFGS
        preset_name = "paper" if fam == "ace" else "tiny"
        rec = render_training(fam, split_dir, tmp_path / fam, set_name="q4", gradient_updates=120, batch_size=2,
                              preset_name=preset_name)
        gu = rec["gradient_updates"]
        effective[fam] = gu["effective_gradient_updates"]
        assert rec["n_train"] == 16
        if gu["mode"] == "epochs":  # 16 frames / batch 2 = 8 updates per epoch: 15 epochs
            assert gu["epochs"] == 15
        if gu["mode"] == "full-batch":
            assert gu["batch_size"] == 16 and gu["epochs"] == 120
    assert set(effective.values()) == {120}
    assert rec_commands(tmp_path / "ace") == [["pacemaker", "input.yaml"],
                                              ["pace_yaml2yace", "output_potential.yaml", "-o", "model.yace"]]
    cfg = json.loads((tmp_path / "dp" / "input.json").read_text())
    assert cfg["training"]["numb_steps"] == 120
    assert cfg["training"]["training_data"]["batch_size"] == 2
    assert "max_num_epochs: 15" in (tmp_path / "mace" / "mace.yaml").read_text()
    assert "maxiter: 120" in (tmp_path / "ace" / "input.yaml").read_text()
    assert "maxiter: 15" in (tmp_path / "grace" / "input.yaml").read_text()
    assert "max_steps: 120" in (tmp_path / "esen" / "esen.yaml").read_text()


def rec_commands(directory):
    return json.loads((directory / "train.json").read_text())["commands"]


def test_ace_tiny_is_one_linear_solve(split_dir, tmp_path):
    """The tiny ACE preset: linear embedding, ChebExpCos radial functions, solved by elbench.train.ace_linear;
    its GU plan says that no gradient updates apply."""
    import yaml

    rec = render_training("ace", split_dir, tmp_path / "ace", set_name="q4", gradient_updates=120, batch_size=2)
    gu = rec["gradient_updates"]
    assert (gu["mode"], gu["effective_gradient_updates"], gu["batch_size"]) == ("closed-form", 1, 16)
    assert rec_commands(tmp_path / "ace") == [["python", "-m", "elbench.train.ace_linear", "input.yaml"],
                                              ["pace_yaml2yace", "output_potential.yaml", "-o", "model.yace"]]
    potential = yaml.safe_load((tmp_path / "ace" / "input.yaml").read_text())["potential"]
    assert potential["embeddings"]["ALL"] == {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1], "ndensity": 1}
    assert potential["bonds"]["ALL"]["radbase"] == "ChebExpCos"
    assert "envs/grace/bin/python -m elbench.train.ace_linear input.yaml" in (tmp_path / "ace" / "run.sh").read_text()


def test_scripts_and_data(split_dir, tmp_path):
    rec = render_training("dp", split_dir, tmp_path / "dp", set_name="mixed", gradient_updates=50, batch_size=1,
                          slurm={"partition": "gpu", "time": "01:00:00", "gpus_per_node": 1})
    sbatch = (tmp_path / "dp" / "job.sbatch").read_text()
    assert "#SBATCH --partition=gpu" in sbatch and "#SBATCH --gpus-per-node=1" in sbatch
    assert "#SBATCH --account" not in sbatch
    run_sh = (tmp_path / "dp" / "run.sh").read_text()
    assert "envs/dp/bin/dp --tf train input.json" in run_sh and "freeze -o model.pb" in run_sh
    cfg = json.loads((tmp_path / "dp" / "input.json").read_text())
    assert len(cfg["training"]["training_data"]["systems"]) == 5  # one deepmd system per charge state
    assert rec["data"]["train"]["source_sha256"]


def test_bad_training_input(split_dir, tmp_path):
    with pytest.raises(InputError, match="unknown family"):
        render_training("schnet", split_dir, tmp_path / "x")
    with pytest.raises(InputError, match="no training split"):
        render_training("mace", split_dir, tmp_path / "x", set_name="q9")
    with pytest.raises(InputError, match="positive"):
        render_training("mace", split_dir, tmp_path / "x", gradient_updates=0)
    r = runner.invoke(app, ["train", "render", str(split_dir), "--out", str(tmp_path / "y"), "--families", "mace",
                            "--partition", "bad;rm"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["train", "run", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "train.json" in r.output


@pytest.mark.parametrize("fam", ["ace", "grace"])
def test_reference_energies_written_and_used(fam, split_dir, tmp_path):
    """ACE and GRACE fit E - sum(E0): the E0 in the input are the least-squares values of the training
    energies on the element counts, and atom_energies.json (what the bridge adds back) holds the same."""
    import numpy as np
    import yaml

    rec = render_training(fam, split_dir, tmp_path / fam, set_name="mixed", gradient_updates=10, batch_size=4)
    config = yaml.safe_load((tmp_path / fam / rec["config_file"]).read_text())
    in_input = config["data"]["reference_energy"]
    saved = json.loads((tmp_path / fam / "atom_energies.json").read_text())["atom_energies_eV"]
    assert in_input == saved and sorted(saved) == ["Au", "H", "Na", "O"]
    frames = read_frames(split_dir / "mixed" / "train.extxyz")
    energies = np.array([a.info["REF_energy"] for a in frames])
    fitted = np.array([sum(saved[s] for s in a.get_chemical_symbols()) for a in frames])
    # the residual left to the model is a few eV at most per frame, not the -3.7 eV/Au-atom totals
    assert np.sqrt(np.mean((energies - fitted) ** 2)) < 0.05 * np.sqrt(np.mean(energies ** 2))
    assert "atom_energies.json" in rec["model_files"]
