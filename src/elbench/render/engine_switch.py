"""Switch the engine of runs that have not started (``elbench run --engine``).

Native and bridge decks differ only in their pair block, but they differ, so a
switch re-renders the run directory. Only runs with no output yet are switched;
a run that started under one engine is never continued under another.
"""

from __future__ import annotations

import json
from pathlib import Path

from elbench.errors import InputError
from elbench.render.runs import RunPlan, plan_runs, write_runs
from elbench.run_record import RUN_JSON, RunRecord

#: files whose presence means a run has started
STARTED_MARKERS = ("status.json", "log.lammps", "launch.json", "segments", "restart.a", "restart.b")


def run_started(run_dir: Path) -> bool:
    if (run_dir / "status.json").is_file():
        try:
            if json.loads((run_dir / "status.json").read_text()).get("state") == "pending":
                return any((run_dir / m).exists() for m in STARTED_MARKERS[1:])
        except (OSError, ValueError):
            return True
        return True
    return any((run_dir / m).exists() for m in STARTED_MARKERS[1:])


def _rendered_engine(run_dir: Path) -> str | None:
    """The engine the run was rendered with; None when it was not rendered (an unreadable record is an InputError)."""
    if not (run_dir / RUN_JSON).is_file():
        return None
    return RunRecord.load(run_dir).engine


def switch_engine(campaign, engine: str, only: list[str] | None = None) -> list[RunPlan]:
    """Re-render the campaign's unstarted runs for ``engine`` (auto|native|bridge); return every plan.

    ``auto`` picks native when the binary has the model's pair style, else the bridge.
    A started run whose engine differs is an InputError (re-render it with --force).
    """
    campaign.config.lammps.engine = engine
    plans = [p for p in plan_runs(campaign) if not only or p.model in only]
    switch = []
    for plan in plans:
        current = _rendered_engine(plan.run_dir)
        if current == plan.engine:
            continue
        if current is not None and run_started(plan.run_dir):
            raise InputError(
                f"run {plan.run_dir} started with engine {current}; it cannot continue as {plan.engine} "
                "(re-render it with `elbench render --force`, which removes its outputs)",
                key="--engine",
            )
        switch.append(plan)
    write_runs(switch, force=True)
    return plans
