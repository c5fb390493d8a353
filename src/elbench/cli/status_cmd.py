"""``elbench status``: every run of a campaign, from status.json, locks, squeue and sacct."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from elbench.cli.common import DEFAULT_CAMPAIGN, CampaignOption, cli_errors, console
from elbench.config import load_campaign
from elbench.launch.overview import campaign_overview

_STYLE = {"done": "green", "failed": "red", "running": "cyan", "queued": "yellow", "pending": "dim", "corrupt": "magenta"}


def _num(value, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def register(app: typer.Typer) -> None:
    @app.command("status")
    @cli_errors
    def status(
        campaign: CampaignOption = DEFAULT_CAMPAIGN,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON list instead of a table")] = False,
    ) -> None:
        """Show every run: pending / queued / running / done / failed / corrupt (with reason), steps, ns, ns/day."""
        camp = load_campaign(campaign)
        views = campaign_overview(camp)
        if as_json:
            typer.echo(json.dumps([v.as_dict() for v in views], indent=2))
            return
        table = Table(title=f"campaign {camp.config.name}: {len(views)} runs")
        for col in ("run", "state", "steps", "ns", "ns/day", "job", "reason"):
            table.add_column(col, overflow="fold")
        for v in views:
            style = _STYLE.get(v.state, "")
            steps = f"{_num(v.step, 'd')}/{_num(v.total_steps, 'd')}" if v.total_steps else _num(v.step, "d")
            ns = f"{_num(v.ns_done, '.4g')}/{_num(v.ns_total, '.4g')}" if v.ns_total else _num(v.ns_done, ".4g")
            table.add_row(v.run, f"[{style}]{v.state}[/{style}]" if style else v.state, steps, ns,
                          _num(v.ns_per_day, ".3g"), v.job or "", v.reason)
        console.print(table)
        counts = {s: sum(v.state == s for v in views) for s in ("done", "running", "queued", "pending", "failed", "corrupt")}
        console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n))
