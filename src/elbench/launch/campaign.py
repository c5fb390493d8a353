"""Campaign-level launching: which run directories exist and running them in parallel."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from elbench.config import Campaign
from elbench.errors import InputError
from elbench.launch import state
from elbench.launch.blowup import BlowupLimits
from elbench.launch.runner import Outcome, RunOptions, check_run_ready, run_one
from elbench.launch.start_state import equilibration_problem, start_file_text
from elbench.run_record import RUN_JSON, RunRecord


def campaign_run_dirs(campaign: Campaign, only: list[str] | None = None) -> list[Path]:
    """Run directories of the campaign (models filtered by ``only``), all rendered."""
    models = campaign.config.models
    if only:
        unknown = [m for m in only if m not in models]
        if unknown:
            raise InputError(f"unknown model {', '.join(unknown)}", file=campaign.path, key="--only",
                             allowed=", ".join(models))
    dirs = [campaign.run_dir(m, n, s) for m, n, s in campaign.run_keys() if not only or m in only]
    dirs = equilibrations_for(dirs) + dirs
    missing = [d for d in dirs if not (d / "run.json").is_file()]
    if missing:
        raise InputError(
            f"{len(missing)} run director{'y is' if len(missing) == 1 else 'ies are'} not rendered "
            f"(first: {missing[0]}); run `elbench render -c {campaign.path}` first",
            file=campaign.path,
        )
    return dirs


def equilibrations_for(run_dirs: list[Path]) -> list[Path]:
    """The shared reference equilibrations the two-stage runs among ``run_dirs`` start from, each once, in order."""
    found: dict[Path, None] = {}
    for path in run_dirs:
        if not (path / RUN_JSON).is_file():
            continue
        eq = RunRecord.load(path).start_run_dir(path)
        if eq is not None:
            found[eq] = None
    return [p for p in found if p not in run_dirs]


def by_stage(run_dirs: list[Path]) -> tuple[list[Path], list[Path]]:
    """(equilibrations, everything else): stage 1 of a two-stage campaign runs before the runs that start from it."""
    first = [p for p in run_dirs if RunRecord.load(p).stage == "equilibration"]
    return first, [p for p in run_dirs if p not in first]


def check_start_ready(run_dir: Path) -> None:
    """A two-stage run whose equilibration failed (or is missing), or whose start state does not fit it (cell,
    atom count, elements), cannot start: one line, before any run starts.

    An equilibration that has not finished yet is not an error: it runs first (or the run waits); its state is
    checked again when the start file is made.
    """
    record = RunRecord.load(run_dir)
    if record.start_from is None or state.read_launch(run_dir).get("segments"):
        return
    problem = equilibration_problem(run_dir, record)
    if problem is not None and problem[0] == "blocked":
        raise InputError(f"{record.key} cannot start: {problem[1]}", file=run_dir / RUN_JSON, key="start_from")
    if problem is None:  # the equilibration is done: its state must fit this run (cell, atoms, elements)
        start_file_text(run_dir.resolve(), record)


def options_for(campaign: Campaign | None, **overrides) -> RunOptions:
    """RunOptions from the campaign's MD settings (segment length, [md.blowup] bounds); the restart interval is the run record's."""
    opts = RunOptions()
    if campaign is not None:
        md = campaign.config.md
        opts.segment_ps = md.segment_ps
        b = md.blowup
        opts.limits = BlowupLimits(
            max_temperature_K=b.max_temperature_K if b.max_temperature_K is not None else max(1000.0, 3.0 * md.temperature_K),
            min_distance_A=b.min_distance_A, oh_max_A=b.oh_max_A, max_broken_water_fraction=b.max_broken_water_fraction,
        )
    for key, value in overrides.items():
        if value is not None:
            setattr(opts, key, value)
    return opts


@contextlib.contextmanager
def stop_on_signals(event: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT (scancel, Ctrl-C, a time limit) stop LAMMPS cleanly: runs stay resumable."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def handler(signum, frame):  # noqa: ARG001 - signal API
        event.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_many(run_dirs: list[Path], opts: RunOptions, jobs: int = 1,
             on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run directories with up to ``jobs`` at a time; each is locked while it runs."""
    for path in run_dirs:  # refuse bad input before any run starts
        check_run_ready(path)
        check_start_ready(path)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def work(path: Path) -> Outcome:
        if opts.stop.is_set():
            return Outcome(path.name, "pending", "not started (stopped)")
        outcome = run_one(path, opts)
        with lock:
            outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
        return outcome

    with stop_on_signals(opts.stop):
        for wave in by_stage(run_dirs):  # equilibrations first: two-stage productions start from their state
            if jobs <= 1:
                for path in wave:
                    work(path)
            else:
                with ThreadPoolExecutor(max_workers=jobs) as pool:
                    futures = [pool.submit(work, p) for p in wave]
                    for fut in futures:
                        fut.result()
    return outcomes
