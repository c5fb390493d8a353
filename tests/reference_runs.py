"""Run directories rendered by elbench itself for the launcher tests: a small reference campaign.

``build_systems`` runs ``elbench build`` once (deterministic; a module fixture keeps the
result); ``render_runs`` copies those systems into a fresh campaign with the test's own MD
settings and runs ``elbench render``, exactly as a user does. The system is Au(111) 6x8,
2 layers, 3.5 A of water (216 atoms, EAM + SPC/Fw + PPPM): the smallest cell the reference's
8 A cutoff allows (render refuses a lateral cell under 2 x cutoff). A test of a hand-edited
run directory renders first and then edits the rendered files, as a user would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from campaign_support import build_systems as build_campaign_systems
from campaign_support import campaign_toml
from elbench.cli.main import app

#: the smallest reference system: lateral cell >= 2 x the 8 A cutoff, a thin water film, no cation
SYSTEM = {"repeats": [6, 8], "layers": 2, "fixed_layers": 1, "water_thickness_A": 3.5, "vacuum_A": 10.0,
          "charge_states": [0]}


def build_systems(root: Path, charge_states: tuple[int, ...] = (0,)) -> Path:
    """``elbench build`` of the campaign at ``root``; returns its ``systems`` directory."""
    system = SYSTEM | {"charge_states": list(charge_states)}
    return build_campaign_systems(root, campaign_toml(name="launch", system=system))


def render_runs(root: Path, systems: Path, *, eq_steps: int = 100, prod_steps: int = 300, dump_every: int = 10,
                restart_every: int = 50, thermo_every: int = 10, timestep_fs: float = 0.5, dump_format: str = "dcd",
                temperature_K: float = 300.0, ranks: int = 1, seeds: tuple[int, ...] = (1,),
                charge_states: tuple[int, ...] = (0,)) -> list[Path]:
    """``elbench render`` of the campaign at ``root`` with these MD settings: one run dir per charge state
    and seed (``systems`` must hold every charge state).

    No minimisation: the launcher tests need steps, not a relaxed start.
    """
    root.mkdir(parents=True, exist_ok=True)
    md = {"timestep_fs": timestep_fs, "equilibration_ps": round(eq_steps * timestep_fs / 1000.0, 9),
          "production_ps": round(prod_steps * timestep_fs / 1000.0, 9), "dump_interval_steps": dump_every,
          "thermo_interval_steps": thermo_every, "restart_interval_steps": restart_every,
          "dump_format": dump_format, "temperature_K": temperature_K, "minimize_max_iterations": 0,
          "seeds": list(seeds)}
    toml = root / "elbench.toml"
    system = SYSTEM | {"charge_states": list(charge_states)}
    toml.write_text(campaign_toml(name="launch", system=system, md=md, lammps={"mpi_ranks": ranks}))
    shutil.copytree(systems, root / "systems")
    res = CliRunner().invoke(app, ["render", "-c", str(toml)])
    assert res.exit_code == 0, res.output
    return [root / "runs" / "reference" / f"q{n}" / f"s{seed}" for n in charge_states for seed in seeds]
