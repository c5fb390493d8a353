"""Model deviation: DeePMD ensemble in native LAMMPS, bridge committee, parser and summary.

* DP: a second se_e2_a model is trained here (100 steps, other seed) and run with dp-tiny
  as a two-model ``pair_style deepmd ... atomic`` ensemble for 20 steps; model_devi.out is
  checked against deepmd's Python DeepPot on the dumped frames (DeePMD's definition).
* bridge: a committee (mace-tiny + a second MACE / the same file) evaluated every out_freq steps,
  in a campaign rendered with ``elbench render`` (a registry entry with three role="model"
  files) and run with ``elbench run``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from elbench.analysis.model_deviation import (read_model_devi,
                                              summarize, summarize_run)
from elbench.engines.committee import force_deviation, format_row, header_line
from elbench.io import sha256_file
from family_runs import REPO, render_run, require_env, run_campaign

DP_TRAIN = r"""
import json, sys
from pathlib import Path
import numpy as np
from ase.io import read
out = Path(sys.argv[1]); data = out / "data"; (data / "set.000").mkdir(parents=True)
frames = read(sys.argv[2], ":4")
tm = ["Au", "O", "H", "Na"]
(data / "type_map.raw").write_text("\n".join(tm) + "\n")
(data / "type.raw").write_text("\n".join(str(tm.index(s)) for s in frames[0].get_chemical_symbols()) + "\n")
s = data / "set.000"
np.save(s / "coord.npy", np.array([f.positions.reshape(-1) for f in frames]))
np.save(s / "box.npy", np.array([f.cell.array.reshape(-1) for f in frames]))
np.save(s / "energy.npy", np.array([f.info["REF_energy"] for f in frames]))
np.save(s / "force.npy", np.array([f.arrays["REF_forces"].reshape(-1) for f in frames]))
cfg = json.loads(Path(sys.argv[3]).read_text()); cfg.pop("_comment", None)
cfg["model"]["descriptor"]["seed"] = cfg["model"]["fitting_net"]["seed"] = 7
t = cfg["training"]
t["training_data"]["systems"] = t["validation_data"]["systems"] = [str(data)]
t.update(numb_steps=100, seed=7, disp_freq=100, save_freq=100)
(out / "input.json").write_text(json.dumps(cfg))
"""

DP_EVAL = r"""
import json, sys
import numpy as np
from deepmd.infer import DeepPot
models = [DeepPot(m) for m in sys.argv[2:]]
out = []
for frame in json.loads(open(sys.argv[1]).read()):
    x = np.array(frame["x"]).reshape(1, -1); cell = np.array(frame["cell"]).reshape(1, 9)
    fs = [m.eval(x, cell, frame["types"])[1].reshape(-1, 3) for m in models]
    out.append(np.array(fs).tolist())
print(json.dumps(out))
"""


def _text_frames(path: Path) -> list[dict]:
    """step, box and id-sorted positions of a 'custom id type x y z' dump."""
    lines, frames, i = path.read_text().splitlines(), [], 0
    while i < len(lines):
        if lines[i].startswith("ITEM: TIMESTEP"):
            step, n = int(lines[i + 1]), int(lines[i + 3])
            bounds = [[float(v) for v in lines[i + 5 + k].split()[:2]] for k in range(3)]
            rows = np.array([[float(v) for v in ln.split()] for ln in lines[i + 9:i + 9 + n]])
            frames.append({"step": step, "lengths": [b[1] - b[0] for b in bounds],
                           "types": rows[:, 1].astype(int) - 1, "x": rows[:, 2:5]})
            i += 9 + n
        else:
            i += 1
    return frames


def _dp_env() -> tuple[Path, dict]:
    python = require_env("dp")
    return python, dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))


def _train_second_dp(tmp: Path) -> Path:
    python, env = _dp_env()
    dp = python.parent / "dp"
    subprocess.run([str(python), "-c", DP_TRAIN, str(tmp), str(REPO / "tests/data/reference_small.extxyz"),
                    str(REPO / "potentials/tiny/dp-se_e2_a.json")], check=True, env=env, timeout=300)
    for args in (["--tf", "train", "input.json"], ["--tf", "freeze", "-o", "dp-second.pb"]):
        proc = subprocess.run([str(dp), *args], cwd=tmp, capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
    return tmp / "dp-second.pb"


def _ensemble_manifest(tmp: Path, second: Path) -> Path:
    """A registry holding one two-model DP entry (role "model" twice = an ensemble)."""
    reg = tmp / "registry"
    reg.mkdir()
    shutil.copy(REPO / "potentials/dp-tiny/dp-tiny.pb", reg / "m0.pb")
    shutil.copy(second, reg / "m1.pb")
    block = textwrap.dedent(f"""
        [[potential]]
        name = "dp-ens"
        family = "dp"
        description = "dp-tiny + a second se_e2_a (test ensemble)"
        files = [
          {{ path = "m0.pb", sha256 = "{sha256_file(reg / 'm0.pb')}", role = "model" }},
          {{ path = "m1.pb", sha256 = "{sha256_file(reg / 'm1.pb')}", role = "model" }},
        ]
        type_map = ["Au", "O", "H", "Na"]
        cutoff_A = 4.5
        message_passing_layers = 0
        trained_charge_states = [0, 2]
        training = "mixed"
        environment = "dp"
        citation = "test"
        made_by = "tests/test_model_deviation.py"
        """)
    path = reg / "manifest.toml"
    path.write_text(block)
    return path


@pytest.mark.lammps
def test_dp_ensemble_native_model_devi(tmp_path) -> None:
    from elbench.engines.select import env_lammps

    python, env = _dp_env()
    second = _train_second_dp(tmp_path / "train")
    manifest = _ensemble_manifest(tmp_path, second)
    # rendered by elbench (out_freq = thermo_interval_steps); the deck is then edited and run with lmp directly
    _, run_dir = render_run(tmp_path / "camp", "dp-ens", n=2, engine="native", steps=20, dump_interval=10,
                            thermo_interval=100, manifest=manifest)
    deck = (run_dir / "in.lammps").read_text()
    assert "out_freq 100 out_file model_devi.out atomic" in deck  # the rendered ensemble block
    deck = deck.replace("out_freq 100 ", "out_freq 10 ")  # every 10 steps for this 20-step test
    deck = deck.replace("\nrun ", "\ndump prec all custom 10 prec.txt id type x y z\n"
                        "dump_modify prec format float %.17g sort id\nrun ", 1)
    (run_dir / "in.lammps").write_text(deck)
    info = env_lammps("dp")
    assert info is not None and "deepmd" in info["pair"]
    lmp_env = dict(env, **{k: (f"{v}:{env[k]}" if k in env and k.endswith("PATH") else v) for k, v in info["env"].items()})
    proc = subprocess.run([info["path"], "-in", "in.lammps", "-log", "log.lammps"], cwd=run_dir, capture_output=True,
                          text=True, env=lmp_env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]

    dev = read_model_devi(run_dir / "model_devi.out")
    frames = _text_frames(run_dir / "prec.txt")
    n_atoms = len(frames[0]["x"])
    assert dev.steps.tolist() == [0, 10, 20] and dev.atomic is not None and dev.atomic.shape == (3, n_atoms)
    payload = [{"x": f["x"].reshape(-1).tolist(), "cell": np.diag(f["lengths"]).reshape(-1).tolist(),
                "types": f["types"].tolist()} for f in frames]
    (tmp_path / "frames.json").write_text(json.dumps(payload))
    out = subprocess.run([str(python), "-c", DP_EVAL, str(tmp_path / "frames.json"),
                          str(REPO / "potentials/dp-tiny/dp-tiny.pb"), str(second)],
                         capture_output=True, text=True, env=env, timeout=600, check=True)
    forces = np.array(json.loads(out.stdout.strip().splitlines()[-1]))  # (frames, models, atoms, 3)
    for k, frame in enumerate(frames):
        row = int(np.flatnonzero(dev.steps == frame["step"])[0])
        expected = force_deviation(forces[k])
        assert expected.max() > 1e-3  # two different models: a real, nonzero deviation
        np.testing.assert_allclose(dev.atomic[row], expected, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(dev.column("max_devi_f")[row], expected.max(), rtol=1e-6)
        np.testing.assert_allclose(dev.column("avg_devi_f")[row], expected.mean(), rtol=1e-6)
        np.testing.assert_allclose(dev.column("min_devi_f")[row], expected.min(), rtol=1e-6, atol=1e-10)

    # summary through the run's DCD (production frames at steps 0, 10, 20)
    summary = summarize_run(run_dir, tmp_path / "results", trajectory=run_dir / "traj.dcd",
                            topology=run_dir / "system.data", dz_A=1.0)
    assert summary["n_frames"] == 3
    assert summary["max_devi_f_eV_A"]["max"] == pytest.approx(dev.column("max_devi_f").max())
    prof = summary["profile"]
    assert prof["n_frames"] == 3
    assert max(prof["max_devi_f_eV_A"]) == pytest.approx(dev.atomic.max(), rel=1e-6)
    csv_rows = (tmp_path / "results/model_deviation_profile.csv").read_text().splitlines()[1:]
    assert sum(int(r.split(",")[1]) for r in csv_rows) == 3 * n_atoms


def test_parser_and_profile_synthetic(tmp_path) -> None:
    """Rows written with format_row parse back; the profile bins atoms by distance from the top layer."""
    rng = np.random.default_rng(0)
    n, lz = 12, 30.0
    z0 = np.array([1.0, 1.0, 3.0, 3.0, 5.0, 5.0, 7.5, 8.5, 9.5, 12.2, 15.1, 20.3])  # metal: first six
    metal = np.arange(6)
    forces = rng.normal(size=(3, n, 3))
    devi = force_deviation(forces)
    # DeePMD's definition: sqrt(mean_k |F_k - <F>|^2)
    mean = forces.mean(axis=0)
    assert np.allclose(devi, np.sqrt(((forces - mean) ** 2).sum(-1).mean(0)))
    text = header_line(True)
    for step in (0, 10, 10, 20):  # a repeated step (restart) keeps the last row
        text += format_row(step, (0.1, 0.0, 0.05), devi * (1 + step), True)
    (tmp_path / "model_devi.out").write_text(text)
    dev = read_model_devi(tmp_path / "model_devi.out")
    assert dev.steps.tolist() == [0, 10, 20]
    np.testing.assert_allclose(dev.column("max_devi_f"), devi.max() * np.array([1, 11, 21]), rtol=1e-9)
    z = np.tile(z0, (3, 1))
    s = summarize(dev, tmp_path / "out", z=z, lz=np.full(3, lz), profile_steps=dev.steps, metal=metal, dz_A=1.0)
    prof = s["profile"]
    # atom at z = 7.5 is 2.5 Å above the top layer (z_s = 5.0): bin centre 2.5
    i = prof["z_A"].index(2.5)
    assert prof["max_devi_f_eV_A"][i] == pytest.approx(devi[6] * 21, rel=1e-9)
    assert s["fraction_frames_above"]["0.05"] == pytest.approx(np.mean(dev.column("max_devi_f") > 0.05))


MACE_PERTURB = r"""
import sys, torch
m = torch.load(sys.argv[1], weights_only=False)
g = torch.Generator().manual_seed(3)
with torch.no_grad():
    for p in m.parameters():
        p.add_(0.05 * p.abs().mean() * torch.randn(p.shape, generator=g, dtype=p.dtype))
torch.save(m, sys.argv[2])
"""

MACE_EVAL = r"""
import json, sys
import numpy as np
from ase.io import read
from mace.calculators import MACECalculator
atoms = read(sys.argv[1], format="lammps-data", atom_style="atomic", Z_of_type={1: 79, 2: 8, 3: 1, 4: 11})
atoms.pbc = (True, True, False)
out = []
for path in sys.argv[2:]:
    atoms.calc = MACECalculator(model_paths=path, device="cpu", default_dtype="float64")
    out.append(atoms.get_forces().tolist())
print(json.dumps(out))
"""


@pytest.mark.lammps
def test_bridge_committee_mace(tmp_path) -> None:
    """mace-tiny + a perturbed copy + mace-tiny again, rendered and run by elbench: model_devi.out from the
    bridge equals a direct evaluation."""
    python = require_env("mace")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    reg = tmp_path / "registry"
    reg.mkdir()
    shutil.copy(REPO / "potentials/mace-tiny/mace-tiny.model", reg / "m0.model")
    subprocess.run([str(python), "-c", MACE_PERTURB, str(reg / "m0.model"), str(reg / "mace-b.model")],
                   check=True, env=env, timeout=300)
    files = ",\n".join(f'  {{ path = "{m}", sha256 = "{sha256_file(reg / m)}", role = "model" }}'
                       for m in ("m0.model", "mace-b.model", "m0.model"))
    entry = (REPO / "potentials/manifest.toml").read_text().split("[[potential]]")
    mace = next(e for e in entry if 'name = "mace-tiny"' in e)
    mace = mace.replace('name = "mace-tiny"', 'name = "mace-ens"')
    head, rest = mace.split("files = [", 1)
    mace = head + "files = [\n" + files + "\n]" + rest.split("]", 1)[1]
    (reg / "manifest.toml").write_text("[[potential]]" + mace)
    # out_freq of the committee = thermo_interval_steps
    toml, run_dir = render_run(tmp_path / "camp", "mace-ens", n=2, engine="bridge", steps=10, dump_interval=5,
                               thermo_interval=5, manifest=reg / "manifest.toml")
    run = json.loads((run_dir / "run.json").read_text())
    assert len(run["calculator"]["committee"]) == 2 and run["model_deviation_file"] == "model_devi.out"
    run_campaign(toml)
    dev = read_model_devi(run_dir / "model_devi.out")
    assert dev.steps.tolist() == [0, 5, 10] and dev.atomic is not None
    out = subprocess.run([str(python), "-c", MACE_EVAL, str(run_dir / "system.data"), str(reg / "m0.model"),
                          str(reg / "mace-b.model"), str(reg / "m0.model")],
                         capture_output=True, text=True, env=env, timeout=600, check=True)
    forces = np.array(json.loads(out.stdout.strip().splitlines()[-1]))
    expected = force_deviation(forces)
    assert expected.max() > 1e-4
    np.testing.assert_allclose(dev.atomic[0], expected, rtol=1e-6, atol=1e-9)
    # same model twice: zero deviation
    assert force_deviation(forces[[0, 2]]).max() < 1e-12
    summary = summarize_run(run_dir, tmp_path / "results", trajectory=run_dir / "traj.dcd",
                            topology=run_dir / "system.data", dz_A=1.0)
    assert summary["profile"]["n_frames"] == 3
