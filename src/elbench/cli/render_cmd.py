"""``elbench render``: write runs/<model>/q<n>/s<seed>/{in.lammps, run.sh, run.json}."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from elbench.cli.common import DEFAULT_CAMPAIGN, CampaignOption, cli_errors, console


def _cost(atom_steps: int) -> str:
    return f"{atom_steps / 1e6:.1f} M" if atom_steps < 1e9 else f"{atom_steps / 1e9:.2f} G"


def register(app: typer.Typer) -> None:
    @app.command("render")
    @cli_errors
    def render(
        campaign: CampaignOption = DEFAULT_CAMPAIGN,
        force: Annotated[bool, typer.Option("--force", help="re-render run directories whose inputs changed (removes their outputs)")] = False,
    ) -> None:
        """Render the LAMMPS deck, run script and run record of every model x charge state x seed."""
        # start-up time: loaded when the command runs, not for --help
        from elbench.config import load_campaign
        from elbench.costs import estimate_run_cost, format_seconds
        from elbench.render.runs import render_campaign

        camp = load_campaign(campaign)
        plans = render_campaign(camp, force=force)
        table = Table(title=f"rendered runs of {camp.config.name}", show_lines=False)
        numeric = ("q", "seed", "atoms", "steps", "expected")
        for column in ("model", "q", "seed", "engine", "atoms", "steps", "expected", "status"):
            table.add_column(column, justify="right" if column in numeric else "left", no_wrap=column == "status")
        seconds = 0.0
        for p in plans:
            cost = estimate_run_cost(camp.config, p.record.family, p.n_atoms, p.steps, engine=p.engine)
            seconds += cost.seconds
            label = p.model if p.stage == "production" else f"{p.model} (equilibration)"
            table.add_row(label, str(p.charge_state), str(p.seed), p.engine, str(p.n_atoms),
                          str(p.steps), cost.human, p.status)
        console.print(table)
        if any((p.record.provenance.lammps or {}).get("checked") is False for p in plans):
            console.print(f"[yellow]note:[/yellow] LAMMPS binary '{camp.config.lammps.binary}' is not on this machine: "
                          "its styles and packages are unchecked (decks assume it has every style they use). "
                          "Run `elbench doctor` where it runs.")
        for model, (engine, reason) in {p.model: (p.engine, p.reason) for p in plans}.items():
            console.print(f"engine of {model}: {engine} ({reason})")
        total = sum(p.cost_atom_steps for p in plans)
        console.print(f"{len(plans)} runs under {camp.runs_dir}; expected cost {_cost(total)} atom-steps, "
                      f"about {format_seconds(seconds)} in all ({cost.device}, cost table in elbench/costs.py); "
                      f"next: elbench run -c {camp.path}")
