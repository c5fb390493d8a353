"""A tiny real training per MLIP family in its own environment (minutes on a CPU).

A missing family environment is a failure that names the command creating it
(`./dev env <name>`), never a skip.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from elbench.dataset.frames import read_frames
from elbench.dataset.splits import write_splits
from elbench.engines.select import env_dir
from elbench.families import trainable, trainable_names
from elbench.train.render import render_training
from elbench.train.run import run_training

DATA = Path(__file__).parent / "data"
#: (gradient updates, batch size) per family: a few minutes at most on 2 shared cores
#: families whose tiny run must cut the force RMSE to < 0.8 x its first value
CLEARLY_LEARNS = ("dp", "dp-mp", "mace", "esen", "ace")
TINY = {"dp": (300, 2), "dp-mp": (300, 1), "mace": (24, 2), "ace": (30, 16), "grace": (24, 2), "esen": (40, 1)}


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("splits")
    write_splits(read_frames(DATA / "reference_small.extxyz"), out, seed=1)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("fam", sorted(trainable_names()))
def test_tiny_training(fam, split_dir, tmp_path):
    env = trainable(fam).environment
    assert (env_dir(env) / "bin" / "python").exists(), (
        f"the '{env}' environment for {fam} does not exist: create it with `./dev env {env}`")
    gu, batch = TINY[fam]
    out = tmp_path / fam
    render_training(fam, split_dir, out, set_name="q0", gradient_updates=gu, batch_size=batch, seed=1)
    status = run_training(out, timeout_s=900, nice=5)
    assert status["state"] == "done"
    for name in trainable(fam).training.model_files:
        assert (out / name).exists()
    rows = list(csv.DictReader(open(out / "learning_curve.csv")))
    split = "valid" if any(r["split"] == "valid" and r["force_meV_A"] for r in rows) else "train"
    forces = [float(r["force_meV_A"]) for r in rows if r["split"] == split and r["force_meV_A"]]
    assert len(forces) >= 2
    if fam in CLEARLY_LEARNS:
        # the last force RMSE is clearly below the first (a model predicting ~zero forces stays at the label RMS)
        assert forces[-1] < 0.8 * forces[0], f"{fam}: {split} force RMSE {forces} (meV/Å) does not fall below 0.8 x the first"
    else:  # grace: a few epochs in the CI budget; forces must fall
        assert min(forces[1:]) < forces[0], f"{fam}: {split} force RMSE {forces} (meV/Å) never falls"
    assert (out / "learning_curve.png").stat().st_size > 1000
    plan = json.loads((out / "train.json").read_text())["gradient_updates"]
    assert plan["effective_gradient_updates"] == (1 if plan["mode"] == "closed-form" else gu)
    if fam == "esen":
        _esen_checkpoint_reproduces_fairchem_validation(out, rows, split_dir, tmp_path)
    if fam == "ace":
        _ace_model_reproduces_the_solver_errors(out, rows, split_dir, tmp_path)


def _rmse_of(name: str, family: str, model: Path, extra_files: str, data: Path, tmp_path: Path,
             cutoff_A: float, layers: int) -> dict:
    """`elbench rmse` of a freshly trained model, registered in a one-entry manifest under tmp_path."""
    import hashlib

    from typer.testing import CliRunner

    from elbench.cli.main import app

    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    (tmp_path / "manifest.toml").write_text(
        f'[[potential]]\nname = "{name}"\nfamily = "{family}"\ntype_map = ["Au", "O", "H", "Na"]\ncutoff_A = {cutoff_A}\n'
        f'message_passing_layers = {layers}\nenvironment = "{trainable(family).environment}"\n'
        f'files = [{{path = "{model.relative_to(tmp_path)}", sha256 = "{sha}", role = "model"}}{extra_files}]\n')
    r = CliRunner().invoke(app, ["rmse", name, str(data), "--manifest", str(tmp_path / "manifest.toml"),
                                 "--out", str(tmp_path / "rmse.json")])
    assert r.exit_code == 0, r.output
    return json.loads((tmp_path / "rmse.json").read_text())


def _ace_model_reproduces_the_solver_errors(out, rows, split_dir, tmp_path):
    """The saved linear ACE (its B-basis YAML through pyace's calculator in the bridge, plus the reference
    energies added back) gives the validation RMSEs the solver computed from its design matrix."""
    import hashlib

    energies = out / "atom_energies.json"
    sha = hashlib.sha256(energies.read_bytes()).hexdigest()
    extra = f', {{path = "{energies.relative_to(tmp_path)}", sha256 = "{sha}", role = "atom_energies"}}'
    rec = _rmse_of("ace-q0", "ace", out / "output_potential.yaml", extra, split_dir / "q0" / "valid.extxyz",
                   tmp_path, 5.0, 0)
    last = [row for row in rows if row["split"] == "valid"][-1]
    assert rec["overall"]["force_meV_A"] == pytest.approx(float(last["force_meV_A"]), rel=1e-6)
    assert rec["overall"]["energy_meV_atom"] == pytest.approx(float(last["energy_meV_atom"]), rel=1e-4, abs=1e-4)


def _esen_checkpoint_reproduces_fairchem_validation(out, rows, split_dir, tmp_path):
    """The trained inference checkpoint loads through `elbench rmse` (load_predict_unit + FAIRChemCalculator,
    float64) and gives fairchem's own last validation RMSEs (float32 during training, 4-decimal MSE in its log)."""
    import hashlib

    from typer.testing import CliRunner

    from elbench.cli.main import app

    model = out / "fairchem" / "checkpoints" / "final" / "inference_ckpt.pt"
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    (tmp_path / "manifest.toml").write_text(
        '[[potential]]\nname = "esen-q0"\nfamily = "esen"\ntype_map = ["Au", "O", "H", "Na"]\ncutoff_A = 6.0\n'
        'message_passing_layers = 2\nenvironment = "esen"\n'
        f'files = [{{path = "esen/{model.relative_to(out)}", sha256 = "{sha}", role = "model"}}]\n')
    r = CliRunner().invoke(app, ["rmse", "esen-q0", str(split_dir / "q0" / "valid.extxyz"), "--manifest",
                                 str(tmp_path / "manifest.toml"), "--out", str(tmp_path / "rmse.json")])
    assert r.exit_code == 0, r.output
    rec = json.loads((tmp_path / "rmse.json").read_text())
    last = [row for row in rows if row["split"] == "valid"][-1]
    assert rec["overall"]["force_meV_A"] == pytest.approx(float(last["force_meV_A"]), rel=2e-3)
    assert rec["overall"]["energy_meV_atom"] == pytest.approx(float(last["energy_meV_atom"]), rel=0.05, abs=0.3)


@pytest.mark.slow
def test_mace_rmse_equals_mace_own_test_table(split_dir, tmp_path):
    """`elbench rmse` through the MACE calculator reproduces mace_run_train's own test-set RMSE table."""
    import hashlib
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


@pytest.mark.slow
def test_train_run_command_reports_the_last_validation_rmse(split_dir, tmp_path):
    """`elbench train run` (the CLI) on the closed-form ACE preset: seconds; it prints the curve's last
    validation RMSEs to four significant figures."""
    from typer.testing import CliRunner

    from elbench.cli.main import app

    out = tmp_path / "ace"
    render_training("ace", split_dir, out, set_name="q4", seed=1)
    r = CliRunner().invoke(app, ["train", "run", str(out)])
    assert r.exit_code == 0, r.output
    last = [row for row in csv.DictReader(open(out / "learning_curve.csv")) if row["split"] == "valid"][-1]
    text = " ".join(r.output.split())
    assert f"energy {float(last['energy_meV_atom']):.4g} meV/atom" in text
    assert f"force {float(last['force_meV_A']):.4g} meV/Å" in text
