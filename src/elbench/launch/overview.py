"""Where every run of a campaign stands: status.json + the run's lock + the SLURM queue.

States shown: pending (not started or interrupted and resumable), queued (its
array task waits in SLURM), running, done, failed (with the reason and step),
corrupt (status.json exists but is not valid JSON or not what elbench writes; the
reason names the file and the problem).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from elbench.config import Campaign
from elbench.errors import InputError
from elbench.launch import lock, state
from elbench.launch.campaign import equilibrations_for
from elbench.launch.start_state import equilibration_problem
from elbench.launch.slurm import sacct_states, squeue_states, task_ids_by_run
from elbench.run_record import RunRecord

#: SLURM end states that mean the job did not finish its run
_SLURM_BAD = ("FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE")


@dataclass
class RunView:
    run: str
    state: str
    step: int | None
    total_steps: int | None
    ns_done: float | None
    ns_total: float | None
    ns_per_day: float | None
    job: str | None
    reason: str
    path: str

    def as_dict(self) -> dict:
        return asdict(self)


def _key(campaign: Campaign, d: Path) -> str:
    for root, prefix in ((campaign.runs_dir, ()), (campaign.equilibration_root, ("equilibration",))):
        try:
            return "/".join(prefix + d.relative_to(root).parts)
        except ValueError:
            continue
    return str(d)


def view_run(campaign: Campaign, d: Path, task: str | None, queue: dict | None, sacct: dict) -> RunView:
    st, problem = state.read_status_checked(d)
    if problem is not None:
        return RunView(run=_key(campaign, d), state="corrupt", step=None, total_steps=None, ns_done=None,
                       ns_total=None, ns_per_day=None, job=task,
                       reason=f"{d / state.STATUS}: {problem}; fix or delete it", path=str(d))
    current = st.get("state") or "pending"
    reason = st.get("reason") or ""
    if current == "pending" and not lock.read_lock(d):
        problem = _equilibration_problem(d)
        reason = f"not started: {problem}" if problem and "waiting" not in problem else (problem or reason)
    if current == "failed" and st.get("failed_step") is not None:
        reason = f"{reason} (step {st['failed_step']}; trajectory kept to step {st.get('last_good_frame_step')})"
    if current == "running":
        info = lock.read_lock(d)
        stale, why = lock.lock_is_stale(info) if info else (True, "no lock")
        if stale:
            current = "pending"
            reason = f"interrupted at step {st.get('step')} ({why}); resume with `elbench run --resume` or resubmit"
    if task and queue is not None and task in queue:
        slurm_state, slurm_reason = queue[task]
        if slurm_state == "PENDING":
            current = "queued" if current not in ("done", "failed") else current
            reason = reason or f"SLURM: {slurm_reason}"
        elif slurm_state in ("RUNNING", "CONFIGURING", "COMPLETING") and current == "pending":
            current = "running"
            reason = "starting"
    elif task and sacct.get(task) in _SLURM_BAD and current not in ("done", "failed"):
        reason = f"SLURM job {task} ended {sacct[task]}; {reason}".strip("; ")
    return RunView(
        run=_key(campaign, d), state=current, step=st.get("step"), total_steps=st.get("total_steps"),
        ns_done=st.get("ns_done"), ns_total=st.get("ns_total"), ns_per_day=st.get("ns_per_day"),
        job=task, reason=reason, path=str(d),
    )


def _equilibration_problem(d: Path) -> str | None:
    """Why a two-stage run has not started (its equilibration not done), or None."""
    try:
        record = RunRecord.load(d)
    except InputError:
        return None
    problem = equilibration_problem(d, record)
    return problem[1] if problem else None


def campaign_overview(campaign: Campaign) -> list[RunView]:
    dirs = [campaign.run_dir(m, n, s) for m, n, s in campaign.run_keys()]
    dirs = equilibrations_for(dirs) + dirs
    tasks = task_ids_by_run(campaign)
    jobs = sorted({t.split("_")[0] for t in tasks.values()})
    queue = squeue_states(jobs) if jobs else None
    sacct = sacct_states(jobs) if jobs else {}
    views = []
    for d in dirs:
        if not (d / "run.json").is_file():
            views.append(RunView(_key(campaign, d), "pending", None, None, None, None, None, None,
                                 "not rendered (elbench render)", str(d)))
            continue
        views.append(view_run(campaign, d, tasks.get(str(d)), queue, sacct))
    return views
