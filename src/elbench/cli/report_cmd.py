"""``elbench report``: compare every model with the reference; write report.md/html, figures, tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from elbench.cli.common import DEFAULT_CAMPAIGN, CampaignOption, cli_errors, console
from elbench.errors import InputError


def register(app: typer.Typer) -> None:
    @app.command("report")
    @cli_errors
    def report(
        campaign: CampaignOption = DEFAULT_CAMPAIGN,
        reference: Annotated[
            Path | None,
            typer.Option("--reference", help="reference set directory (q<n>/profiles.csv, or replicas q<n>/s<seed>/); "
                         "default: a matching set under analysis/reference/, else the campaign's `reference` model"),
        ] = None,
        n_sigma: Annotated[float, typer.Option("--n-sigma", help="flag differences beyond this many combined standard errors")] = 2.0,
        window_A: Annotated[
            tuple[float, float], typer.Option("--window-A", help="distance range (Å) of the L1 distance of the water density")
        ] = (0.0, 8.0),
        out: Annotated[Path | None, typer.Option("--out", help="report directory (default: <campaign>/report)")] = None,
    ) -> None:
        """Write report/report.md and a self-contained report.html with figures and tables."""
        # start-up time: loaded when the command runs, not for --help
        from elbench.report import make_report

        if not n_sigma > 0:
            raise InputError(f"must be positive; got {n_sigma}", key="--n-sigma")
        if not 0 <= window_A[0] < window_A[1]:
            raise InputError(f"needs 0 <= min < max; got {window_A}", key="--window-A")
        with console.status("writing report…"):
            paths = make_report(campaign, reference_dir=reference, n_sigma=n_sigma, window_A=window_A, out_dir=out)
        console.print(f"wrote [bold]{paths['markdown']}[/bold] and {paths['html'].name} "
                      f"(figures in {paths['figures'].name}/, tables in {paths['tables'].name}/)")
