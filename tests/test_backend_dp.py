"""DeePMD se_e2_a (TF backend) in the dp env: native `pair_style deepmd` and the bridge.

* 50-step NVT through the bridge at n = 0 and n = 2 (preflight, frozen atoms, dump);
* native preflight: the plugin's pair style vs deepmd's Python calculator on the first frame;
* native vs bridge: 20 steps of the same deck give the same trajectory within 1e-8 Å.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import numpy as np
import pytest

from elbench.engines.select import choose_engine, env_lammps
from family_runs import REPO, check_family_md, make_run_dir, require_env, small_campaign



@pytest.mark.lammps
@pytest.mark.parametrize("n", [0, 2])
def test_dp_tiny_bridge_nvt(n: int, tmp_path, tmp_path_factory) -> None:
    check_family_md("dp-tiny", "dp", tmp_path, small_campaign(tmp_path_factory), n=n)


def _precise_dump(run_dir, steps: int) -> None:
    """Replace the deck's DCD dump with a full-precision text dump of every step."""
    deck = (run_dir / "in.lammps").read_text()
    deck = re.sub(r"^dump\s+traj.*$", "dump traj all custom 1 traj.txt id x y z\n"
                  "dump_modify traj format float %.17g sort id", deck, flags=re.M)
    deck = re.sub(r"^restart\s.*$", "", deck, flags=re.M)
    (run_dir / "in.lammps").write_text(deck)


def _frames(path) -> np.ndarray:
    frames, lines = [], path.read_text().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("ITEM: NUMBER OF ATOMS"):
            n = int(lines[i + 1])
            start = i + 7  # N, BOX BOUNDS + 3 lines, ITEM: ATOMS
            frames.append(np.array([[float(v) for v in ln.split()[1:4]] for ln in lines[start:start + n]]))
            i = start + n
        else:
            i += 1
    return np.array(frames)


@pytest.mark.lammps
def test_dp_native_matches_bridge(tmp_path, tmp_path_factory) -> None:
    python = require_env("dp")
    camp = small_campaign(tmp_path_factory)
    system = camp / "systems" / "q2"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    info = env_lammps("dp")
    assert info is not None and "deepmd" in info["pair"], "the dp env's LAMMPS must load pair_style deepmd (plugin)"
    assert choose_engine("dp", "auto", lammps_info=info).engine == "native"
    native = make_run_dir(tmp_path / "native", system, "dp-tiny", engine="native", steps=20, dump_interval=1)
    bridge = make_run_dir(tmp_path / "bridge", system, "dp-tiny", engine="bridge", steps=20, dump_interval=1)
    for run_dir in (native, bridge):
        _precise_dump(run_dir, 20)
    # native: preflight in the dp env, then the real lmp binary with the deepmd plugin
    pre = subprocess.run([str(python), "-m", "elbench.engines.preflight", str(native), "--engine", "native"],
                         capture_output=True, text=True, env=env, timeout=900)
    assert pre.returncode == 0, pre.stderr[-2000:]
    record = json.loads((native / "preflight.json").read_text())
    assert record["passed"] and record["energy_diff_eV_per_atom"] < 1e-6 and record["force_max_abs_diff_eV_per_A"] < 1e-5
    lmp_env = dict(env, **{k: (f"{v}:{env[k]}" if k in env and k.endswith("PATH") else v) for k, v in info["env"].items()})
    proc = subprocess.run([info["path"], "-in", "in.lammps", "-log", "log.lammps"], cwd=native, capture_output=True,
                          text=True, env=lmp_env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    proc = subprocess.run([str(python), "-m", "elbench.engines.bridge", str(bridge), "--no-preflight"],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    a, b = _frames(native / "traj.txt"), _frames(bridge / "traj.txt")
    assert a.shape == b.shape and a.shape[0] == 21
    assert np.max(np.abs(a - b)) < 1e-8
    assert np.max(np.abs(a[-1] - a[0])) > 1e-3  # atoms moved
