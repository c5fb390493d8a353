"""``elbench run``: run a campaign's rendered runs locally with the native LAMMPS binary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from elbench.cli.common import DEFAULT_CAMPAIGN, CampaignOption, cli_errors, console, err_console
from elbench.config import load_campaign
from elbench.errors import InputError
from elbench.launch.blowup import BlowupLimits
from elbench.launch.campaign import campaign_run_dirs, options_for, run_many
from elbench.launch.runner import Outcome

#: exit code of `elbench run` when a run was interrupted and can be resumed (job scripts requeue on it)
INTERRUPTED_EXIT = 3


def _limits(base: BlowupLimits, max_temperature_K, min_distance_A, max_broken_water_fraction) -> BlowupLimits:
    return BlowupLimits(
        max_temperature_K=max_temperature_K if max_temperature_K is not None else base.max_temperature_K,
        min_distance_A=min_distance_A if min_distance_A is not None else base.min_distance_A,
        oh_max_A=base.oh_max_A,
        max_broken_water_fraction=(
            max_broken_water_fraction if max_broken_water_fraction is not None else base.max_broken_water_fraction
        ),
    )


def register(app: typer.Typer) -> None:
    @app.command("run")
    @cli_errors
    def run(
        campaign: CampaignOption = DEFAULT_CAMPAIGN,
        resume: Annotated[bool, typer.Option("--resume", help="continue interrupted runs from their newest restart file")] = False,
        only: Annotated[list[str] | None, typer.Option("--only", help="run only this model (repeatable)")] = None,
        jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="runs at the same time (each uses the ranks in its run.sh)")] = 1,
        run_dir: Annotated[list[Path] | None, typer.Option("--run-dir", help="run these run directories instead of the campaign's (repeatable; used by job scripts)")] = None,
        segment_ps: Annotated[float | None, typer.Option("--segment-ps", min=0.0, help="segment length in ps (overrides md.segment_ps; rounded up to whole restart intervals)")] = None,
        max_segments: Annotated[int | None, typer.Option("--max-segments", min=1, help="stop each run after this many segments (job time limits)")] = None,
        max_temperature_K: Annotated[float | None, typer.Option("--max-temperature-K", min=0.0, help="blow-up bound on the thermo temperature (overrides md.blowup.max_temperature_K) [default: md.blowup, else max(1000, 3 x md.temperature_K)]")] = None,
        min_distance_A: Annotated[float | None, typer.Option("--min-distance-A", min=0.0, help=f"blow-up bound: atoms closer than this in a dumped frame (overrides md.blowup.min_distance_A) [default: md.blowup, else {BlowupLimits.min_distance_A}]")] = None,
        max_broken_water_fraction: Annotated[float | None, typer.Option("--max-broken-water-fraction", min=0.0, max=1.0, help=f"blow-up bound: fraction of O without two H within md.blowup.oh_max_A (overrides md.blowup.max_broken_water_fraction) [default: md.blowup, else {BlowupLimits.max_broken_water_fraction}]")] = None,
        keep_segments: Annotated[bool, typer.Option("--keep-segments", help="keep per-segment trajectory files after joining them")] = False,
        engine: Annotated[str | None, typer.Option("--engine", help="auto | native | bridge: re-render runs that have not started for this engine (auto: native when the binary has the pair style) [default: the engine they were rendered with]")] = None,
    ) -> None:
        """Run pending runs with LAMMPS (segments, restarts, blow-up checks); status in each run's status.json.

        Exit code 0: every run done (or skipped); 1: a run failed; 3: a run was interrupted
        (signal, --max-segments) and continues with --resume.
        """
        camp = None
        if run_dir and engine is not None:
            raise InputError("--engine applies to a campaign's runs, not to --run-dir", key="--engine")
        if run_dir:
            dirs = [Path(d).resolve() for d in run_dir]
            for d in dirs:
                if not (d / "run.json").is_file():
                    raise InputError("not a rendered run directory (no run.json)", file=d, key="--run-dir")
            if Path(campaign).exists():
                camp = load_campaign(campaign)
        else:
            camp = load_campaign(campaign)
            if engine is not None:
                _switch_engine(camp, engine, only)
            dirs = campaign_run_dirs(camp, only)
        opts = options_for(camp, resume=resume, max_segments=max_segments, keep_segment_files=keep_segments)
        if segment_ps:
            opts.segment_ps = segment_ps
        opts.limits = _limits(opts.limits, max_temperature_K, min_distance_A, max_broken_water_fraction)
        outcomes = _run_with_progress(dirs, opts, jobs)
        _report(outcomes)
        blocked = [o for o in outcomes if o.state == "blocked"]
        if blocked:
            raise InputError(f"{len(blocked)} two-stage run(s) not started; first: {blocked[0].key}: "
                             f"{blocked[0].message}", key="md.start_from")
        if any(o.state == "failed" for o in outcomes):
            raise typer.Exit(1)
        if any(o.state == "pending" for o in outcomes):
            raise typer.Exit(INTERRUPTED_EXIT)


def _switch_engine(camp, engine: str, only: list[str] | None) -> None:
    # start-up time: loaded when the command runs, not for --help
    from elbench.render.engine_switch import switch_engine

    allowed = ("auto", "native", "bridge")
    if engine not in allowed:
        raise InputError(f"unknown engine '{engine}'", key="--engine", allowed=", ".join(allowed))
    chosen = {p.model: (p.engine, p.reason) for p in switch_engine(camp, engine, only)}
    for model, (eng, why) in chosen.items():
        console.print(f"engine of {model}: {eng} ({why})")


def _run_with_progress(dirs: list[Path], opts, jobs: int) -> list[Outcome]:
    columns = [
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
        TextColumn("{task.fields[nsd]}"), TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err_console, transient=False) as progress:
        tasks: dict[str, int] = {}

        def on_progress(p) -> None:
            if p.key not in tasks:
                tasks[p.key] = progress.add_task(p.key, total=p.total_steps, nsd="", start=True)
            nsd = f"{p.ns_per_day:.3g} ns/day" if p.ns_per_day else ""
            progress.update(tasks[p.key], completed=p.step, total=p.total_steps, nsd=nsd,
                            description=f"{p.key} [{p.state}, seg {p.segment}]")

        opts.on_progress = on_progress
        return run_many(dirs, opts, jobs)


def _report(outcomes: list[Outcome]) -> None:
    for o in outcomes:
        style = {"done": "green", "failed": "red", "locked": "yellow", "pending": "yellow", "blocked": "red"}.get(o.state, "dim")
        console.print(f"[{style}]{o.state:8s}[/{style}] {o.key}: {o.message}", soft_wrap=True)
    failed = [o for o in outcomes if o.state == "failed"]
    if failed:
        err_console.print(f"{len(failed)} run(s) failed; see their status.json and segments/*.log.lammps")
