"""Entry point: the Typer app, ``--version``/``--debug``, and error handling.

Errors a user can fix end as one line on stderr with exit code 2 (see
:mod:`elbench.errors`); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import functools
import sys
from typing import Annotated

import typer

from elbench import __version__
from elbench.cli import commands
from elbench.cli.common import state


def _version(value: bool) -> None:
    if value:
        typer.echo(f"elbench {__version__}")
        raise typer.Exit()


def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks instead of one-line errors")] = False,
) -> None:
    """elbench: build, render, run, analyze and report MLIP benchmarks of Au(111)/water/Na+ interfaces."""
    state.debug = debug


def make_app(verbs: list[str] | None = None) -> typer.Typer:
    """The Typer app with the given verbs registered (all when None)."""
    app = typer.Typer(
        name="elbench",
        help="Benchmark machine-learning interatomic potentials at charged metal/electrolyte interfaces with LAMMPS.",
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )
    app.callback()(main)
    commands.register(app, verbs)
    return app


@functools.cache
def full_app() -> typer.Typer:
    """The app with every verb (``elbench.cli.main.app``)."""
    return make_app()


def __getattr__(name: str):
    if name == "app":
        return full_app()
    raise AttributeError(name)


def invoked_verb(argv: list[str]) -> str | None:
    """The verb a command line names (the first word after the global options), if it is one."""
    words = [a for a in argv if not a.startswith("-")]
    return words[0] if words and words[0] in commands.verb_names() else None


def run() -> None:
    """Console-script entry point: imports only the verb being run (start-up time), all of them for --help."""
    verb = invoked_verb(sys.argv[1:])
    (make_app([verb]) if verb else full_app())()
