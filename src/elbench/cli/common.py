"""Shared CLI pieces: the rich consoles, the campaign option, debug state."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from elbench.errors import ElbenchError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

CampaignOption = Annotated[
    Path,
    typer.Option("--campaign", "-c", help="campaign file (or its directory)", show_default=True),
]
DEFAULT_CAMPAIGN = Path("elbench.toml")


class State:
    debug: bool = False


state = State()


def package_available(name: str) -> bool:
    """True when ``name`` can be imported, found without importing it (parents of dotted names excepted)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def cli_errors(func):
    """Decorate a command so elbench errors end as one line and their exit code.

    Applied to every verb, so ``typer.testing.CliRunner`` sees the same exit codes
    and messages as the console script.
    """
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ElbenchError as err:
            if state.debug:
                raise
            err_console.print(f"error: {err}", markup=False, soft_wrap=True)
            raise typer.Exit(err.exit_code) from None
        except OSError as err:  # a path the user gave cannot be read or written: one line, not a traceback
            if state.debug:
                raise
            where = f"{err.filename}: " if err.filename else ""
            err_console.print(f"error: {where}{err.strerror or err}", markup=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; partial outputs were removed")
            raise typer.Exit(130) from None

    return wrapper
