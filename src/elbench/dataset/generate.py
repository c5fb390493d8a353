"""``elbench dataset generate``: a labelled reference dataset for a campaign's charge states."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ase import Atoms

from elbench.build import build_system, is_up_to_date
from elbench.dataset.sample import frames_from_trajectory, sample_reference_md
from elbench.errors import InputError


def ensure_systems(campaign) -> dict[int, Path]:
    """systems/q<n>/ of every charge state, built when missing."""
    out = {}
    for n in campaign.config.system.charge_states:
        directory = campaign.system_dir(n)
        if not is_up_to_date(campaign.config.system, n, directory):
            build_system(campaign.config.system, n, directory, inputs={"campaign": campaign.path})
        out[n] = directory
    return out


def generate_from_md(campaign, frames_per_state: int, *, spacing_ps: float, equilibration_ps: float, seed: int,
                     progress: Callable[[int], None] | None = None) -> list[Atoms]:
    """Reference MD per charge state (in-process LAMMPS), frames spaced by spacing_ps, labelled."""
    md = campaign.config.md
    frames: list[Atoms] = []
    for n, directory in ensure_systems(campaign).items():
        frames += sample_reference_md(directory, frames_per_state, spacing_ps=spacing_ps,
                                      equilibration_ps=equilibration_ps, temperature_K=md.temperature_K,
                                      timestep_fs=md.timestep_fs, seed=seed + n, progress=progress)
    return frames


def generate_from_runs(campaign, frames_per_state: int, *, spacing_ps: float, seed: int) -> list[Atoms]:
    """Frames of the campaign's finished reference runs (runs/reference/q<n>/s<seed>/traj.dcd), labelled."""
    md = campaign.config.md
    if md.dump_format != "dcd":
        raise InputError("sampling from runs reads DCD trajectories", file=campaign.path, key="md.dump_format",
                         allowed="dcd")
    frames: list[Atoms] = []
    for n in campaign.config.system.charge_states:
        run_dir = campaign.run_dir("reference", n, seed)
        traj = run_dir / "traj.dcd"
        frames += frames_from_trajectory(campaign.system_dir(n), traj, timestep_fs=md.timestep_fs,
                                         dump_interval_steps=md.dump_interval_steps, spacing_ps=spacing_ps,
                                         max_frames=frames_per_state)
    return frames
