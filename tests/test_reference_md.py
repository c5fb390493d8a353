"""The classical reference runs for real: build -> render -> run.sh with the wheel's lmp.

200 MD steps (100 equilibration + 100 production, after the deck's minimization)
at n = 0 and n = 4 on the smallest cell the reference's 8 Å cutoff allows
(6 x 8 Au(111), ~480 atoms): finite energies, no lost atoms, the temperature of the
mobile atoms within 30 % of 300 K at the end, frozen atoms exactly where the data
file put them, and the dumped frames where run.json says. A 100-step sandwich run
with Nose-Hoover covers the other thermostat/geometry branch of the deck.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from elbench.config import load_campaign
from elbench.render.runs import render_campaign

pytestmark = pytest.mark.lammps

CAMPAIGN = """
name = "refmd"
models = ["reference"]
[system]
repeats = [6, 8]
layers = 3
fixed_layers = 1
water_thickness_A = 9.0
vacuum_A = 10.0
charge_states = {charge_states}
geometry = "{geometry}"
[md]
temperature_K = 300.0
timestep_fs = 0.5
thermostat = "{thermostat}"
equilibration_ps = 0.05
production_ps = {production_ps}
dump_interval_steps = 20
thermo_interval_steps = 20
restart_interval_steps = 50
dump_format = "{dump_format}"
seeds = [11]
"""


def make_campaign(root: Path, **kw) -> Path:
    from elbench.build import build_system

    values = dict(charge_states="[0, 4]", geometry="slab", thermostat="csvr", production_ps=0.05,
                  dump_format="custom") | kw
    root.mkdir(parents=True, exist_ok=True)
    (root / "elbench.toml").write_text(CAMPAIGN.format(**values))
    campaign = load_campaign(root / "elbench.toml")
    for n in campaign.config.system.charge_states:
        build_system(campaign.config.system, n, campaign.system_dir(n))
    render_campaign(campaign)
    return root


def run_script(run_dir: Path) -> str:
    proc = subprocess.run(["bash", str(run_dir / "run.sh")], capture_output=True, text=True, timeout=600)
    log = (run_dir / "log.lammps").read_text() if (run_dir / "log.lammps").is_file() else ""
    assert proc.returncode == 0, f"LAMMPS failed: {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return log


def thermo_rows(log: str) -> list[dict[str, float]]:
    """Thermo rows of every MD run in a LAMMPS log (header 'Step Time Temp ...')."""
    rows, header = [], None
    for line in log.splitlines():
        words = line.split()
        if words[:2] == ["Step", "Time"]:
            header = words
            continue
        if header and words and words[0] == "Loop":
            header = None
            continue
        if header and len(words) == len(header):
            try:
                rows.append(dict(zip(header, map(float, words))))
            except ValueError:
                header = None
    return rows


def loop_atoms(log: str) -> list[int]:
    return [int(line.split()[-2]) for line in log.splitlines() if line.startswith("Loop time of")]


def read_lammpstrj(path: Path) -> list[tuple[int, dict[int, np.ndarray]]]:
    frames, lines, i = [], path.read_text().splitlines(), 0
    while i < len(lines):
        assert lines[i].startswith("ITEM: TIMESTEP")
        step = int(lines[i + 1])
        n = int(lines[i + 3])
        cols = lines[i + 8].split()[2:]
        ix, iy, iz, iid = cols.index("x"), cols.index("y"), cols.index("z"), cols.index("id")
        pos = {}
        for row in lines[i + 9 : i + 9 + n]:
            w = row.split()
            pos[int(w[iid])] = np.array([float(w[ix]), float(w[iy]), float(w[iz])])
        frames.append((step, pos))
        i += 9 + n
    return frames


def data_positions(path: Path) -> dict[int, np.ndarray]:
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Atoms")) + 2
    out = {}
    for row in lines[start:]:
        w = row.split()
        if not w:
            break
        out[int(w[0])] = np.array([float(w[2]), float(w[3]), float(w[4])])
    return out


@pytest.fixture(scope="module")
def slab_runs(tmp_path_factory) -> Path:
    root = make_campaign(tmp_path_factory.mktemp("refmd"))
    for n in (0, 4):
        run_script(root / "runs" / "reference" / f"q{n}" / "s11")
    return root


@pytest.mark.parametrize("n", [0, 4])
def test_reference_200_steps(slab_runs: Path, n: int) -> None:
    run_dir = slab_runs / "runs" / "reference" / f"q{n}" / "s11"
    record = json.loads((run_dir / "run.json").read_text())
    log = (run_dir / "log.lammps").read_text()
    rows = thermo_rows(log)
    assert rows[-1]["Step"] == 200 == record["steps"]["last_step"]
    for row in rows:
        assert all(math.isfinite(v) for v in row.values()), row
    # no lost atoms: every run loop still has all atoms
    assert set(loop_atoms(log)) == {record["n_atoms"]}
    final_t = rows[-1]["Temp"]
    assert abs(final_t - 300.0) < 0.3 * 300.0, f"T = {final_t} K after 200 steps"
    # total energy drifts little over the last 100 thermostatted steps (no blow-up)
    assert abs(rows[-1]["TotEng"] - rows[-6]["TotEng"]) < 0.05 * record["n_atoms"]


def test_frozen_atoms_stay_where_the_data_file_put_them(slab_runs: Path) -> None:
    run_dir = slab_runs / "runs" / "reference" / "q4" / "s11"
    record = json.loads((run_dir / "run.json").read_text())
    frames = read_lammpstrj(run_dir / record["dump"]["file"])
    # production frames only: steps 100, 120, ..., 200
    assert [step for step, _ in frames] == list(range(100, 201, 20))
    start = data_positions(run_dir / record["topology_file"])  # atom_style atomic: id type x y z
    n_fixed = record["n_fixed_atoms"]
    assert n_fixed == 48
    for _, pos in frames:
        frozen = np.array([pos[i] for i in range(1, n_fixed + 1)])
        ref = np.array([start[i] for i in range(1, n_fixed + 1)])
        assert np.abs(frozen - ref).max() < 1e-4  # the dump writes 6 significant digits
    # ... while the mobile metal atoms did move
    last = frames[-1][1]
    moved = max(np.linalg.norm(last[i] - start[i]) for i in range(n_fixed + 1, 2 * n_fixed + 1))
    assert moved > 1e-2


def test_restart_files_alternate(slab_runs: Path) -> None:
    run_dir = slab_runs / "runs" / "reference" / "q0" / "s11"
    assert (run_dir / "restart.a").is_file() and (run_dir / "restart.b").is_file()
    assert (run_dir / "restart.final").is_file()


def test_sandwich_nose_hoover_runs(tmp_path: Path) -> None:
    root = make_campaign(tmp_path, charge_states="[2]", geometry="sandwich", thermostat="nose-hoover",
                         production_ps=0.01, dump_format="dcd")
    run_dir = root / "runs" / "reference" / "q2" / "s11"
    log = run_script(run_dir)
    rows = thermo_rows(log)
    assert rows[-1]["Step"] == 120
    assert all(math.isfinite(v) for row in rows for v in row.values())
    assert "fix             integrate mobile nvt temp 300 300 0.05" in (run_dir / "in.lammps").read_text()
    assert (run_dir / "traj.dcd").stat().st_size > 0
