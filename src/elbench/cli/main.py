"""Entry point: the Typer app, ``--version``/``--debug``, and error handling.

Errors a user can fix end as one line on stderr with exit code 2 (see
:mod:`elbench.errors`); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

from typing import Annotated

import typer

from elbench import __version__
from elbench.cli.common import state

app = typer.Typer(
    name="elbench",
    help="Benchmark machine-learning interatomic potentials at charged metal/electrolyte interfaces with LAMMPS.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"elbench {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks instead of one-line errors")] = False,
) -> None:
    """elbench: build, render, run, analyze and report MLIP benchmarks of Au(111)/water/Na+ interfaces."""
    state.debug = debug


def _register() -> None:
    from elbench.cli import commands

    commands.register(app)


_register()


def run() -> None:
    """Console-script entry point."""
    app()
