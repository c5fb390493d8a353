"""Campaign mode: analyse every finished run of a campaign into results/.

A run is finished when ``runs/<model>/q<n>/s<seed>/status.json`` says
``state == "done"``. Its run record (``run.json``) names the dump file, format,
timestep, type map and the topology file (the atomic data file render copied in). Results
newer than their trajectory are skipped (``force`` redoes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elbench.analysis.model_deviation import summarize_run
from elbench.analysis.pipeline import AnalysisOptions, analyze_trajectory
from elbench.config import Campaign
from elbench.errors import ElbenchError, InputError
from elbench.io import read_json
from elbench.run_record import RunRecord


@dataclass
class RunJob:
    key: tuple[str, int, int]
    run_dir: Path
    result_dir: Path
    trajectory: Path | None = None
    topology: Path | None = None
    format: str | None = None
    dt_ps: float | None = None
    state: str = "pending"  # pending | todo | up-to-date | not-finished | error
    reason: str = ""

    @property
    def label(self) -> str:
        model, n, seed = self.key
        return f"{model}/q{n}/s{seed}"


def plan_jobs(campaign: Campaign, force: bool = False) -> list[RunJob]:
    """Every run of the campaign with what analyse should do about it."""
    jobs = []
    for key in campaign.run_keys():
        job = RunJob(key, campaign.run_dir(*key), campaign.result_dir(*key))
        jobs.append(job)
        status_file = job.run_dir / "status.json"
        if not status_file.is_file():
            job.state, job.reason = "not-finished", "no status.json"
            continue
        try:
            status = read_json(status_file)
            record = RunRecord.load(job.run_dir)
        except (OSError, ValueError) as err:
            job.state, job.reason = "error", f"cannot read status.json: {err}"
            continue
        except InputError as err:
            job.state, job.reason = "error", str(err)
            continue
        if status.get("state") != "done":
            job.state, job.reason = "not-finished", f"state {status.get('state')!r}"
            continue
        job.trajectory = job.run_dir / record.dump.file
        job.format = record.dump.format
        job.dt_ps = record.dump.interval_steps * record.timestep_fs / 1000.0
        job.topology = job.run_dir / record.topology_file
        if not job.topology.is_file():
            job.state, job.reason = "error", f"no topology file {record.topology_file} in the run directory"
            continue
        summary = job.result_dir / "summary.json"
        if (
            not force
            and summary.is_file()
            and job.trajectory.is_file()
            and summary.stat().st_mtime >= job.trajectory.stat().st_mtime
        ):
            job.state, job.reason = "up-to-date", "results newer than the trajectory"
            continue
        job.state = "todo"
    return jobs


def options_for(campaign: Campaign, base: AnalysisOptions, job: RunJob) -> AnalysisOptions:
    cfg = campaign.config
    opts = AnalysisOptions(**{**vars(base), "explicit": set(base.explicit)})
    opts.metal = opts.metal or cfg.system.metal
    opts.cation = opts.cation or cfg.system.cation
    opts.geometry = cfg.system.geometry if opts.geometry == "auto" else opts.geometry
    opts.format = job.format
    opts.dt_ps = job.dt_ps
    if opts.first_layer_max_A is None and opts.first_layer_A is None:
        opts.first_layer_max_A = cfg.analysis.first_layer_max_A
        if cfg.analysis.first_layer_A is not None:
            opts.first_layer_A = tuple(cfg.analysis.first_layer_A)
            opts.first_layer_key = "analysis.first_layer_A"
    if "dz_A" not in opts.explicit:
        opts.dz_A = cfg.analysis.dz_A
    if "blocks" not in opts.explicit:
        opts.blocks = cfg.analysis.blocks
    return opts


def run_job(job: RunJob, options: AnalysisOptions) -> tuple[str, str, list[str]]:
    """Analyse one run (in a worker process); returns (label, status, warnings)."""
    try:
        outcome = analyze_trajectory(job.trajectory, job.topology, job.result_dir, options)
    except ElbenchError as err:
        return job.label, f"error: {err}", []
    except Exception as err:  # a worker must report, not kill the pool
        return job.label, f"error: {type(err).__name__}: {err}", []
    n = outcome.summary["frames"]["n_analysed"]
    status = f"done ({n} frames, {outcome.seconds:.1f} s)"
    try:  # ensembles and bridge committees leave model_devi.out next to the trajectory

        if summarize_run(job.run_dir, job.result_dir, trajectory=job.trajectory, topology=job.topology) is not None:
            status += ", model deviation"
    except ElbenchError as err:
        return job.label, f"error: model deviation: {err}", outcome.warnings
    return job.label, status, outcome.warnings


def check_jobs(jobs: list[RunJob]) -> None:
    if not jobs:
        raise InputError("the campaign has no runs", key="models/charge_states/seeds")
