"""A tiny run directory that follows the render contract (in.lammps, run.sh, run.json).

An EAM Au(111) slab of 36 atoms (types 1..4 = Au O H Na, only Au present) with the
deck structure of lammps_inputs/md.lammps.j2: equilibration run, then a production
dump and alternating restart files. Runs a few hundred steps in well under a second,
so launch tests exercise the real LAMMPS binary without waiting on it.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from elbench.engines.lammps_binary import mpirun_path, resolve_binary
from elbench.io import sha256_file
from record_support import write_record

TYPE_MAP = ["Au", "O", "H", "Na"]


def write_slab_data(path: Path, size: tuple[int, int, int] = (3, 4, 3)) -> int:
    from ase.build import fcc111
    from ase.io import write

    slab = fcc111("Au", size=size, vacuum=8.0, orthogonal=True, periodic=True)
    write(path, slab, format="lammps-data", specorder=TYPE_MAP, atom_style="atomic", masses=True)
    return len(slab)


def deck_text(*, eq_steps: int, prod_steps: int, dump_every: int, restart_every: int, thermo_every: int,
              timestep_fs: float, dump_format: str = "dcd", temperature_K: float = 300.0, n_fixed: int = 12) -> str:
    eam = resolve_binary().path.parent / "share" / "lammps" / "potentials" / "Au_u3.eam"
    dump_file = {"dcd": "traj.dcd", "custom": "traj.lammpstrj", "xtc": "traj.xtc"}[dump_format]
    if dump_format == "custom":
        dump = f"dump traj all custom {dump_every} {dump_file} id type x y z\ndump_modify traj sort id"
    else:
        dump = f"dump traj all {dump_format} {dump_every} {dump_file}"
    return f"""# elbench test deck: EAM Au(111) slab
# elbench:section setup
units metal
atom_style atomic
atom_modify map yes
boundary p p p
read_data system.data
# elbench:section potential
pair_style hybrid eam zero 6.0
pair_coeff 1 1 eam "{eam}"
pair_coeff 1*4 2*4 zero
neighbor 2.0 bin
neigh_modify every 1 delay 0 check yes
group frozen id 1:{n_fixed}
group mobile subtract all frozen
compute mobile_temp mobile temp
fix freeze frozen setforce 0.0 0.0 0.0
fix integrate mobile nvt temp {temperature_K} {temperature_K} 0.1
fix_modify integrate temp mobile_temp
velocity frozen set 0.0 0.0 0.0
velocity mobile create {temperature_K} 4928 dist gaussian mom yes rot no loop geom temp mobile_temp
timestep {timestep_fs / 1000.0}
thermo_style custom step time temp pe ke etotal press
thermo_modify temp mobile_temp flush yes
thermo {thermo_every}
run {eq_steps}
{dump}
restart {restart_every} restart.a restart.b
run {prod_steps}
write_restart restart.final
"""


def make_run_dir(path: Path, *, eq_steps: int = 100, prod_steps: int = 300, dump_every: int = 10,
                 restart_every: int = 50, thermo_every: int = 10, timestep_fs: float = 2.0,
                 dump_format: str = "dcd", ranks: int = 1, engine: str = "native",
                 temperature_K: float = 300.0, model: str = "tiny", charge_state: int = 0, seed: int = 1,
                 size: tuple[int, int, int] = (3, 4, 3)) -> Path:
    """Write a runnable run directory at ``path`` and return it."""
    path.mkdir(parents=True, exist_ok=True)
    write_slab_data(path / "system.data", size)
    deck = deck_text(eq_steps=eq_steps, prod_steps=prod_steps, dump_every=dump_every, restart_every=restart_every,
                     thermo_every=thermo_every, timestep_fs=timestep_fs, dump_format=dump_format,
                     temperature_K=temperature_K, n_fixed=size[0] * size[1])
    (path / "in.lammps").write_text(deck)
    binary = resolve_binary()
    command = [str(binary.path), "-in", "in.lammps"]
    if ranks > 1:
        command = [str(mpirun_path()), "-np", str(ranks)] + command
    dump_file = {"dcd": "traj.dcd", "custom": "traj.lammpstrj", "xtc": "traj.xtc"}[dump_format]
    n_atoms = size[0] * size[1] * size[2]
    write_record(
        path, model=model, charge_state=charge_state, seed=seed, engine=engine, engine_reason="tests/slurm/rundirs.py",
        pair_style="hybrid eam zero", command=command, env=dict(binary.env), mpi_ranks=ranks, type_map=TYPE_MAP,
        geometry="bulk", n_atoms=n_atoms, n_fixed_atoms=size[0] * size[1], timestep_fs=timestep_fs,
        temperature_K=temperature_K, thermostat={"kind": "nose-hoover", "damping_fs": 100.0, "seed": None},
        eq_steps=eq_steps, prod_steps=prod_steps,
        dump={"file": dump_file, "format": dump_format, "interval_steps": dump_every},
        thermo_interval_steps=thermo_every, restart={"interval_steps": restart_every},
        inputs={
            "deck": {"path": "in.lammps", "sha256": sha256_file(path / "in.lammps")},
            "data": {"path": "system.data", "sha256": sha256_file(path / "system.data")},
        },
    )
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in binary.env.items())
    (path / "run.sh").write_text(f"#!/bin/sh\ncd \"$(dirname \"$0\")\"\n{env} exec {shlex.join(command)}\n")
    return path
