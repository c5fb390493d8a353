"""``elbench analyze``: interfacial observables of one trajectory or of a whole campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from elbench.cli.common import DEFAULT_CAMPAIGN, cli_errors, console, err_console
from elbench.errors import InputError
from elbench.layer_window import WINDOW_ALLOWED, window_problem


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    @cli_errors
    def analyze(
        trajectory: Annotated[
            Optional[Path], typer.Argument(help="trajectory (DCD, XTC, LAMMPS dump, extxyz); omit for campaign mode")
        ] = None,
        topology: Annotated[
            Optional[Path], typer.Option("--topology", "-t", help="LAMMPS data file naming the atoms' elements")
        ] = None,
        out: Annotated[Optional[Path], typer.Option("--out", "-o", help="output directory (single trajectory)")] = None,
        campaign: Annotated[
            Optional[Path], typer.Option("--campaign", "-c", help="campaign file: analyse every finished run")
        ] = None,
        metal: Annotated[Optional[str], typer.Option(help="metal element (default: from the type map)")] = None,
        cation: Annotated[Optional[str], typer.Option(help="cation element (default: from the type map)")] = None,
        dz: Annotated[
            Optional[float], typer.Option("--dz", help="bin width in Å [default: 0.1, or analysis.dz_A of the campaign]")
        ] = None,
        blocks: Annotated[
            Optional[int], typer.Option(help="blocks for standard errors [default: 5, or analysis.blocks of the campaign]")
        ] = None,
        start: Annotated[Optional[int], typer.Option(help="first frame (0-based)")] = None,
        stop: Annotated[Optional[int], typer.Option(help="stop before this frame")] = None,
        step: Annotated[Optional[int], typer.Option(help="use every step-th frame")] = None,
        geometry: Annotated[str, typer.Option(help="auto, slab (one interface) or sandwich (two)")] = "auto",
        first_layer_max: Annotated[
            Optional[float], typer.Option("--first-layer-max", help="first water layer bound in Å (default: first O-density minimum)")
        ] = None,
        first_layer_window: Annotated[
            Optional[tuple[float, float]],
            typer.Option(
                "--first-layer",
                metavar="MIN MAX",
                help="first water layer as a window MIN <= d < MAX in Å from the surface plane "
                "(e.g. 0 4.5) [default: up to the first O-density minimum, or analysis.first_layer_A of the campaign]",
            ),
        ] = None,
        coordination_cutoff: Annotated[
            Optional[float], typer.Option("--coordination-cutoff", help="cation–O first-shell cutoff in Å (default per cation)")
        ] = None,
        fmt: Annotated[Optional[str], typer.Option("--format", help="trajectory format (default: from the suffix)")] = None,
        dt: Annotated[Optional[float], typer.Option("--dt", help="time between frames in ps (metadata only)")] = None,
        symmetrize: Annotated[bool, typer.Option(help="sandwich: profiles.csv averages both faces")] = True,
        plots: Annotated[bool, typer.Option(help="write density.png and orientation.png")] = True,
        jobs: Annotated[int, typer.Option("--jobs", "-j", help="campaign mode: trajectories analysed in parallel")] = 1,
        force: Annotated[bool, typer.Option(help="campaign mode: redo results that are up to date")] = False,
    ) -> None:
        """Density, water orientation and ion profiles (z from the top metal layer) with block errors.

        Single trajectory: elbench analyze TRAJ --topology DATA --out DIR.
        Campaign: elbench analyze -c elbench.toml (every run whose status is done).
        """
        # start-up time: loaded when the command runs, not for --help
        from elbench.analysis.pipeline import AnalysisOptions

        options = AnalysisOptions(
            metal=metal,
            cation=cation,
            dz_A=0.1 if dz is None else dz,
            blocks=5 if blocks is None else blocks,
            start=start,
            stop=stop,
            step=step,
            geometry=geometry,
            first_layer_max_A=first_layer_max,
            first_layer_A=first_layer_window,
            coordination_cutoff_A=coordination_cutoff,
            format=fmt,
            dt_ps=dt,
            symmetrize=symmetrize,
            plots=plots,
        )
        _check_numbers(options, jobs)
        if trajectory is None:
            options.explicit = {k for k, v in (("dz_A", dz), ("blocks", blocks)) if v is not None}
            _campaign(campaign or DEFAULT_CAMPAIGN, options, jobs, force)
            return
        if campaign is not None:
            raise InputError("give a trajectory or --campaign, not both", key="--campaign")
        if topology is None or out is None:
            raise InputError("a single trajectory needs --topology DATAFILE and --out DIR", key="--topology/--out")
        _single(trajectory, topology, out, options)


def _check_numbers(options, jobs: int) -> None:
    if not options.dz_A > 0 or options.dz_A > 5:
        raise InputError(f"bin width {options.dz_A} Å", key="--dz", allowed="0 < dz <= 5 Å")
    if options.blocks < 2:
        raise InputError(f"{options.blocks} blocks", key="--blocks", allowed=">= 2")
    if jobs < 1:
        raise InputError(f"{jobs} jobs", key="--jobs", allowed=">= 1")
    if options.first_layer_A is not None:
        problem = window_problem(options.first_layer_A)
        if problem:
            raise InputError(f"first-layer window: {problem}", key="--first-layer", allowed=WINDOW_ALLOWED)
        if options.first_layer_max_A is not None:
            raise InputError("give --first-layer or --first-layer-max, not both", key="--first-layer")
    for key, value in (("--start", options.start), ("--stop", options.stop), ("--step", options.step)):
        if value is not None and (value < 0 or (key == "--step" and value < 1)):
            raise InputError(f"{value}", key=key, allowed="a non-negative frame index (step >= 1)")


def _single(trajectory: Path, topology: Path, out: Path, options) -> None:
    # start-up time: loaded when the command runs, not for --help
    from elbench.analysis.pipeline import analyze_trajectory

    outcome = analyze_trajectory(trajectory, topology, out, options)
    for warning in outcome.warnings:
        err_console.print(f"warning: {warning}", markup=False, soft_wrap=True)
    s = outcome.summary
    console.print(
        f"analysed {s['frames']['n_analysed']} frames in {outcome.seconds:.2f} s "
        f"({s['frames_per_second']:.0f} frames/s); wrote {out}/profiles.csv, summary.json"
    )


def _campaign(path: Path, options, jobs: int, force: bool) -> None:
    # start-up time: loaded when the command runs, not for --help
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from elbench.analysis.jobs import check_jobs, options_for, plan_jobs, run_job
    from elbench.config import load_campaign

    campaign = load_campaign(path)
    planned = plan_jobs(campaign, force=force)
    check_jobs(planned)
    todo = [j for j in planned if j.state == "todo"]
    for job in planned:
        if job.state != "todo":
            console.print(f"{job.label}: {job.state} ({job.reason})", markup=False)
    failed = 0
    columns = (TextColumn("analyze"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task("", total=len(todo))
        work = [(job, options_for(campaign, options, job)) for job in todo]
        if jobs == 1 or len(work) <= 1:
            results = (run_job(job, opts) for job, opts in work)
            failed = _report(results, progress, task)
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(run_job, job, opts) for job, opts in work]
                failed = _report((f.result() for f in as_completed(futures)), progress, task)
    n_done = sum(j.state == "up-to-date" for j in planned)
    console.print(f"analysed {len(todo) - failed} runs, {n_done} up to date, {failed} failed -> {campaign.results_dir}")
    if failed:
        raise typer.Exit(1)


def _report(results, progress, task) -> int:
    failed = 0
    for label, status, warnings in results:
        progress.console.print(f"{label}: {status}", markup=False, soft_wrap=True)
        for w in warnings:
            progress.console.print(f"  warning: {w}", markup=False, soft_wrap=True)
        failed += status.startswith("error")
        progress.update(task, advance=1, description=label)
    return failed
