"""``elbench submit``: SLURM job arrays for the campaign's unfinished runs."""

from __future__ import annotations

from typing import Annotated

import typer

from elbench.cli.common import DEFAULT_CAMPAIGN, CampaignOption, cli_errors, console
from elbench.config import load_campaign
from elbench.launch.campaign import campaign_run_dirs
from elbench.launch.slurm import (dependency_of, plan_arrays, record_submission, runs_to_submit, sbatch_path,
                                  submit_array, write_arrays)


def register(app: typer.Typer) -> None:
    @app.command("submit")
    @cli_errors
    def submit(
        campaign: CampaignOption = DEFAULT_CAMPAIGN,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="print the job scripts; write and submit nothing")] = False,
        per_model: Annotated[bool, typer.Option("--per-model", help="one job array per model instead of one per campaign")] = False,
        one_job: Annotated[bool, typer.Option("--one-job", help="one job runs every run in turn (a two-stage campaign's equilibrations first) instead of a job array")] = False,
        only: Annotated[list[str] | None, typer.Option("--only", help="submit only this model (repeatable)")] = None,
        scratch: Annotated[str | None, typer.Option("--scratch", help="stage each run on this node-local directory (e.g. '$TMPDIR')")] = None,
        hold: Annotated[bool, typer.Option("--hold", help="submit held; start them with `scontrol release JOBID`")] = False,
        signal_grace_s: Annotated[int, typer.Option("--signal-grace-s", min=10, help="SLURM warns the job this many seconds before its time limit; the run stops cleanly and requeues")] = 300,
    ) -> None:
        """Write SLURM job-array scripts (lammps_inputs/job.sbatch.j2) and submit them with sbatch.

        Each array task runs one run directory with `elbench run --resume`: requeued or
        resubmitted tasks continue from the newest restart file. Done and failed runs,
        and runs already queued, are left out.
        """
        camp = load_campaign(campaign)
        todo, skipped = runs_to_submit(camp, campaign_run_dirs(camp, only))
        for why, dirs in skipped.items():
            if dirs:
                console.print(f"{len(dirs)} run(s) {why}: not submitted")
        if not todo:
            console.print("nothing to submit")
            return
        arrays = plan_arrays(camp, todo, per_model=per_model, scratch=scratch, signal_grace_s=signal_grace_s,
                             one_job=one_job)
        if dry_run:
            for arr in arrays:  # plain echo: the scripts must not be wrapped or styled
                after = f"; after the {' and '.join(arr.after + arr.after_jobs)} array(s) (afterok)" if arr.after or arr.after_jobs else ""
                typer.echo(f"# ===== {arr.script} ({len(arr.run_dirs)} tasks{after}; not written, not submitted)")
                typer.echo(arr.text, nl=False)
                typer.echo(f"# ===== {arr.run_list}")
                for d in arr.run_dirs:
                    typer.echo(f"# {d}")
            return
        sbatch_path()  # no SLURM client: fail before any script is written
        write_arrays(arrays)
        submitted = []
        try:
            for arr in arrays:  # equilibrations first: the arrays starting from them wait (afterok)
                dependency = dependency_of(arr, submitted)
                job = submit_array(arr, camp, hold=hold, dependency=dependency)
                submitted.append(arr)
                after = f", after {dependency}" if dependency else ""
                console.print(f"submitted job array {job} ({len(arr.run_dirs)} runs{after}): {arr.script}")
        finally:
            if submitted:
                record_submission(camp, submitted)
        console.print(f"follow with: elbench status -c {camp.path}")
