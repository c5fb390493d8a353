"""Reference-labelled frames for elbench's shipped tiny models (run in the core env).

Builds the small Au(111)/water/Na+ interface (repeats 4x4, 2 metal layers, 8 Å of
water; 121-125 atoms) at charge states n = 0 and n = 2 with ``elbench build``,
runs the classical reference model (EAM Au + SPC/Fw + Joung-Cheatham + PPPM, the
``reference`` pair block of lammps_inputs/) at 600 K in LAMMPS, and labels every
``--every`` steps with the reference energy, forces and virial stress. Writes
extxyz with REF_energy / REF_forces / REF_stress / charge_state (elbench's
dataset format) to OUT/train.extxyz and OUT/valid.extxyz.

    python potentials/tiny/make_dataset.py OUT [--frames 24] [--every 40]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
from ase.io import write

SYSTEM = {"repeats": [4, 4], "layers": 2, "water_thickness_A": 8.0, "charge_states": [0, 2], "seed": 2026}


def build_systems(workdir: Path) -> Path:
    """``elbench init`` + ``elbench build`` of the small interface; returns the campaign dir."""
    import subprocess
    import sys

    camp = workdir / "campaign"
    elbench = Path(sys.executable).parent / "elbench"
    subprocess.run([str(elbench), "init", str(camp)], check=True, capture_output=True)
    toml = (camp / "elbench.toml").read_text()
    for key, value in SYSTEM.items():
        toml = "\n".join(f"{key} = {value}" if line.split("=")[0].strip() == key and not line.startswith("#")
                         else line for line in toml.splitlines()) + "\n"
    (camp / "elbench.toml").write_text(toml)
    subprocess.run([str(elbench), "build", "-c", str(camp / "elbench.toml")], check=True, capture_output=True)
    return camp


def reference_block(type_map: list[str]) -> str:
    from elbench.families.reference import reference_eam_file, reference_pair_context
    from elbench.render.environment import render_template

    pair = reference_pair_context(type_map[0], type_map[3], reference_eam_file(type_map[0]))
    return render_template("pair/reference.j2", {"pair": pair, "type_map": type_map, "geometry": "slab"})


def label_frames(system_dir: Path, n_cations: int, *, frames: int, every: int, seed: int) -> list:
    """Reference MD of one system; one labelled ASE frame every ``every`` steps."""
    import json

    from ase import Atoms

    from elbench.engines.lmp_python import new_lammps

    info = json.loads((system_dir / "system.json").read_text())
    type_map = info["type_map"]
    lmp = new_lammps(["-nocite", "-log", "none", "-screen", "none"])
    lmp.commands_string(f"""
units metal
atom_style full
atom_modify map yes
boundary p p f
read_data {system_dir / 'system_full.data'}
{reference_block(type_map)}
fix wall all wall/reflect zhi EDGE
compute pvir all pressure NULL virial
velocity all create 600 {seed} dist gaussian mom yes rot no
timestep 0.0005
fix nve all nve
fix csvr all temp/csvr 600 600 0.05 {seed + 1}
thermo_style custom step pe c_pvir[1] c_pvir[2] c_pvir[3] c_pvir[4] c_pvir[5] c_pvir[6]
run 200
""")
    nktv2p = float(lmp.extract_global("nktv2p"))
    lo, hi, xy, yz, xz, _, _ = lmp.extract_box()
    cell = np.array([[hi[0] - lo[0], 0, 0], [xy, hi[1] - lo[1], 0], [xz, yz, hi[2] - lo[2]]])
    types = np.array(lmp.gather_atoms("type", 0, 1)).astype(int)
    symbols = [type_map[t - 1] for t in types]
    out = []
    for _ in range(frames):
        lmp.command(f"run {every}")
        x = np.array(lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)
        f = np.array(lmp.gather_atoms("f", 1, 3)).reshape(-1, 3)
        p = [lmp.get_thermo(f"c_pvir[{i}]") for i in range(1, 7)]  # xx yy zz xy xz yz, bar
        stress = -np.array([[p[0], p[3], p[4]], [p[3], p[1], p[5]], [p[4], p[5], p[2]]]) / nktv2p
        atoms = Atoms(symbols=symbols, positions=x - np.array(lo), cell=cell, pbc=(True, True, False))
        atoms.info["REF_energy"] = float(lmp.get_thermo("pe"))
        atoms.info["REF_stress"] = stress
        atoms.info["charge_state"] = n_cations
        atoms.arrays["REF_forces"] = f
        out.append(atoms)
    lmp.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--frames", type=int, default=24, help="frames per charge state")
    parser.add_argument("--every", type=int, default=40, help="MD steps between frames (0.5 fs each)")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="elbench-tiny-"))
    try:
        camp = build_systems(work)
        frames = []
        for n in SYSTEM["charge_states"]:
            frames += label_frames(camp / "systems" / f"q{n}", n, frames=opts.frames, every=opts.every,
                                   seed=SYSTEM["seed"] + n)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    valid = frames[opts.frames - 3:opts.frames] + frames[-3:]
    train = [a for i, a in enumerate(frames) if not any(a is v for v in valid)]
    opts.out.mkdir(parents=True, exist_ok=True)
    write(opts.out / "train.extxyz", train, format="extxyz")
    write(opts.out / "valid.extxyz", valid, format="extxyz")
    print(f"{len(train)} train + {len(valid)} valid frames -> {opts.out}")


if __name__ == "__main__":
    main()
