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
from elbench.launch.blowup import BlowupLimits
from elbench.launch.runner import Outcome, RunOptions, check_run_ready, run_one


def campaign_run_dirs(campaign: Campaign, only: list[str] | None = None) -> list[Path]:
    """Run directories of the campaign (models filtered by ``only``), all rendered."""
    models = campaign.config.models
    if only:
        unknown = [m for m in only if m not in models]
        if unknown:
            raise InputError(f"unknown model {', '.join(unknown)}", file=campaign.path, key="--only",
                             allowed=", ".join(models))
    dirs = [campaign.run_dir(m, n, s) for m, n, s in campaign.run_keys() if not only or m in only]
    missing = [d for d in dirs if not (d / "run.json").is_file()]
    if missing:
        raise InputError(
            f"{len(missing)} run director{'y is' if len(missing) == 1 else 'ies are'} not rendered "
            f"(first: {missing[0]}); run `elbench render -c {campaign.path}` first",
            file=campaign.path,
        )
    return dirs


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
        if jobs <= 1:
            for path in run_dirs:
                work(path)
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(work, p) for p in run_dirs]
                for fut in futures:
                    fut.result()
    return outcomes
