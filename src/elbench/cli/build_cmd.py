"""``elbench build``: the interface of every charge state into ``systems/q<n>/``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from elbench.cli.common import DEFAULT_CAMPAIGN, CampaignOption, cli_errors, console


def register(app: typer.Typer) -> None:
    @app.command("build")
    @cli_errors
    def build(
        campaign: CampaignOption = DEFAULT_CAMPAIGN,
        force: Annotated[
            bool, typer.Option("--force", help="rebuild systems that are up to date or were edited by hand")
        ] = False,
    ) -> None:
        """Build the metal/water/cation interface of every charge state (systems/q<n>/).

        Systems already built from the same settings are skipped (also when their files
        were edited by hand); changed settings rebuild them.
        """
        # start-up time: loaded when the command runs, not for --help
        from elbench.build.assemble import assemble_interface
        from elbench.build.system_files import build_system, system_state
        from elbench.config import load_campaign
        from elbench.io import read_json

        camp = load_campaign(campaign)
        system = camp.config.system
        # Check the largest charge state first: a bad setting fails before anything is written.
        assemble_interface(system, max(system.charge_states))
        rows = []
        with Progress(
            TextColumn("[bold]build[/bold] {task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(), console=console, transient=True,
        ) as progress:
            task = progress.add_task("", total=len(system.charge_states))
            for n in system.charge_states:
                out = camp.system_dir(n)
                progress.update(task, description=f"q{n}")
                state = system_state(system, n, out)
                if not force and state in ("current", "edited"):
                    record = read_json(out / "system.json")
                    state = "up to date" if state == "current" else "edited by hand, kept (--force rebuilds)"
                else:
                    record, state = build_system(system, n, out, inputs={"campaign": camp.path}), "built"
                rows.append((n, record, state))
                progress.advance(task)
        console.print(_table(rows, camp.systems_dir))


def _table(rows: list, systems_dir: Path) -> Table:
    table = Table(title=f"systems in {systems_dir}")
    for name in ("n", "atoms", "waters", "σ µC/cm²", "water ρ g/cm³", "state"):
        table.add_column(name, justify="right" if name != "state" else "left")
    for n, rec, state in rows:
        table.add_row(
            str(n), str(rec["counts"]["atoms"]), str(rec["counts"]["water"]),
            f"{rec['sigma_uC_cm2']:.3f}", f"{rec['water_density_g_cm3']:.4f}", state,
        )
    return table
