"""``elbench init DIR``: write a campaign file from a template."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from elbench.cli.common import cli_errors, console
from elbench.templates_campaign import write_campaign


def register(app: typer.Typer) -> None:
    @app.command("init")
    @cli_errors
    def init(
        directory: Annotated[Path, typer.Argument(help="campaign directory to create")],
        template: Annotated[
            str, typer.Option("--template", "-t", help="quickstart (small, CPU, minutes) or paper (study-sized, cluster)")
        ] = "quickstart",
        force: Annotated[bool, typer.Option("--force", help="overwrite an existing elbench.toml")] = False,
    ) -> None:
        """Write DIR/elbench.toml from a template, with every key documented."""
        path = write_campaign(directory, template, force=force)
        console.print(f"wrote [bold]{path}[/bold]; next: elbench build -c {path}")
