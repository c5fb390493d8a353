"""Registers every verb's Typer command on the app (one module per verb)."""

from __future__ import annotations

import importlib

import typer

#: Modules under elbench.cli that define ``register(app)``, in pipeline order (as --help lists them).
VERB_MODULES = [
    "init_cmd",
    "build_cmd",
    "render_cmd",
    "run_cmd",
    "submit_cmd",
    "status_cmd",
    "analyze_cmd",
    "report_cmd",
    "quickstart_cmd",
    "potentials_cmd",
    "doctor_cmd",
    "dataset_cmd",
    "train_cmd",
    "rmse_cmd",
]


def verb_names() -> list[str]:
    """The verbs, as typed on the command line."""
    return [name.removesuffix("_cmd") for name in VERB_MODULES]


def register(app: typer.Typer, verbs: list[str] | None = None) -> None:
    """Register ``verbs`` (all when None) on ``app``; only their modules are imported."""
    for name in VERB_MODULES:
        if verbs is None or name.removesuffix("_cmd") in verbs:
            importlib.import_module(f"elbench.cli.{name}").register(app)
