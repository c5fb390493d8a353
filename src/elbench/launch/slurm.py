"""SLURM: job-array scripts for a campaign, submission, and reading the queue.

``elbench submit`` writes ``jobs/<name>.sbatch`` (from ``lammps_inputs/job.sbatch.j2``)
and ``jobs/<name>.runs`` (one run directory per line; array task i runs line i+1)
per campaign or per model, submits them with ``sbatch --parsable`` and records the
job ids in ``jobs/submissions.json``, which ``elbench status`` joins with
``squeue``/``sacct`` output.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from elbench import __version__
from elbench.config import Campaign
from elbench.errors import InputError, RunError
from elbench.io import atomic_write_json, atomic_write_text
from elbench.launch import state
from elbench.launch.rundir import RunDir
from elbench.provenance import utc_now

TEMPLATE = "job.sbatch.j2"
#: a scratch path rendered inside double quotes: environment variables expand, nothing else does
SCRATCH = re.compile(r"^(?:[A-Za-z0-9_/.+-]|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\})+$")
JOBS_DIR = "jobs"
SUBMISSIONS = "submissions.json"


@dataclass
class JobArray:
    name: str
    script: Path
    run_list: Path
    run_dirs: list[Path]
    text: str
    job_id: str | None = None
    #: one job (a one-task array) runs every run of the list in order: ``elbench run --run-dir ...``
    one_job: bool = False
    #: names of arrays (of the same submission) this one waits for: ``--dependency=afterok``
    after: list[str] = field(default_factory=list)
    #: job ids already queued or running that this array waits for (equilibrations submitted before)
    after_jobs: list[str] = field(default_factory=list)


def jobs_dir(campaign: Campaign) -> Path:
    return campaign.root / JOBS_DIR


def elbench_executable() -> str:
    candidate = Path(sys.executable).parent / "elbench"
    if candidate.is_file():
        return str(candidate)
    return shutil.which("elbench") or "elbench"


def _example_command(run_dir: Path) -> str:
    """Task 0's LAMMPS command for a comment line; "(see run.json)" when it cannot be shown there."""
    # start-up time: elbench.render pulls in jinja2 and ASE (submit's module loads for --help)
    from elbench.render.validate import comment

    try:
        return comment(" ".join(RunDir.load(run_dir).command))
    except InputError:
        return "(see run.json)"


def check_script_directory(campaign: Campaign) -> None:
    """The campaign directory reaches the job script in #SBATCH --output, comments and quoted paths:
    refuse one that cannot, naming the directory (not the template filter that would trip over it)."""
    # start-up time: elbench.render pulls in jinja2 and ASE (submit's module loads for --help)
    from elbench.render.validate import COMMENT_OK

    root = str(campaign.root)
    bad = sorted({ch for ch in root if not COMMENT_OK.fullmatch(ch)})
    if not bad:
        return
    shown = root if root.isprintable() else repr(root)
    what = ", ".join("a newline" if ch == "\n" else repr(ch) if not ch.isprintable() else ch for ch in bad)
    raise InputError(f"campaign directory {shown} cannot be written into a SLURM job script (contains {what}); "
                     "move or rename it", key="campaign directory",
                     allowed="directories of letters, digits, spaces and _ . , : ; = + - / ( ) [ ] % @ < >")


def render_script(campaign: Campaign, name: str, run_list: Path, run_dirs: list[Path], *,
                  scratch: str | None, signal_grace_s: int, one_job: bool = False) -> str:
    # start-up time: elbench.render pulls in jinja2 and ASE (submit's module loads for --help)
    from elbench.render.environment import render_template
    from elbench.render.validate import Checked

    s = campaign.config.slurm
    check_script_directory(campaign)
    if scratch is not None and not SCRATCH.match(scratch):
        raise InputError(f"scratch directory {scratch!r} is not allowed", key="--scratch",
                         allowed="a path of letters, digits, / . _ - and $VAR or ${VAR}")
    context = {
        "version": __version__,
        "campaign_name": campaign.config.name,
        "campaign_file": str(campaign.path),
        "job_name": f"elbench-{campaign.config.name}-{name}"[:64],
        "n_tasks": len(run_dirs),
        "one_job": one_job,
        "array_max_parallel": s.array_max_parallel,
        "partition": s.partition,
        "account": s.account,
        "qos": s.qos,
        "time": Checked(s.time),
        "nodes": s.nodes,
        "ntasks_per_node": s.ntasks_per_node,
        "cpus_per_task": s.cpus_per_task,
        "gpus_per_node": s.gpus_per_node,
        "setup_lines": [Checked(line) for line in s.setup_lines],  # validated single lines (config)
        "log_pattern": str(run_list.parent / "logs" / f"{name}-%A_%a.out"),
        "signal_grace_s": signal_grace_s,
        "run_list": str(run_list),
        "example_command": _example_command(run_dirs[0]),
        "scratch": Checked(scratch) if scratch else None,
        "elbench": elbench_executable(),
    }
    return render_template(TEMPLATE, context)


def runs_to_submit(campaign: Campaign, run_dirs: list[Path]) -> tuple[list[Path], dict[str, list[Path]]]:
    """Runs that still need work; the others grouped by why they are left out."""
    active = active_jobs_by_run(campaign)
    todo, skipped = [], {"done": [], "failed": [], "queued or running": []}
    for d in run_dirs:
        st = state.read_status(d).get("state")
        if st == "done":
            skipped["done"].append(d)
        elif st == "failed":
            skipped["failed"].append(d)
        elif str(d) in active:
            skipped["queued or running"].append(d)
        else:
            todo.append(d)
    return todo, skipped


#: the job array of a two-stage campaign's shared reference equilibrations (submitted first)
EQUILIBRATION_ARRAY = "equilibration"


def plan_arrays(campaign: Campaign, run_dirs: list[Path], *, per_model: bool, scratch: str | None = None,
                signal_grace_s: int = 300, one_job: bool = False) -> list[JobArray]:
    """Job arrays for ``run_dirs``; the equilibrations of a two-stage campaign get their own array, which
    every array with a run starting from one of them waits for (``--dependency=afterok``).

    ``one_job``: a single job runs every run in order (equilibrations first), one after the other.
    """
    if one_job:
        if per_model or scratch is not None:
            raise InputError("--one-job runs the whole list in one job: not with --per-model or --scratch",
                             key="--one-job")
        jd = jobs_dir(campaign)
        run_list = jd / "campaign.runs"
        text = render_script(campaign, "campaign", run_list, run_dirs, scratch=None, signal_grace_s=signal_grace_s,
                             one_job=True)
        return [JobArray("campaign", jd / "campaign.sbatch", run_list, run_dirs, text, one_job=True)]
    groups: dict[str, list[Path]] = {}
    equilibrations = [d for d in run_dirs if RunDir.load(d).record.stage == "equilibration"]
    if equilibrations and scratch is not None:
        raise InputError("--scratch is not supported with a two-stage campaign (md.start_from = 'reference'): "
                         "its runs read their equilibration's state from the campaign directory", key="--scratch")
    if equilibrations:
        groups[EQUILIBRATION_ARRAY] = equilibrations
    active: dict[str, str] | None = None  # queued or running runs: squeue only when a run needs it
    waits: dict[str, set[str]] = {}
    for d in run_dirs:
        if d in equilibrations:
            continue
        key = d.relative_to(campaign.runs_dir).parts[0] if per_model else "campaign"
        groups.setdefault(key, []).append(d)
        eq = RunDir.load(d).record.start_run_dir(d)
        if eq is not None and eq in equilibrations:
            waits.setdefault(key, set()).add(EQUILIBRATION_ARRAY)
        elif eq is not None:
            active = active_jobs_by_run(campaign) if active is None else active
            if str(eq) in active:
                waits.setdefault(key, set()).add("job:" + active[str(eq)].split("_")[0])
    out = []
    jd = jobs_dir(campaign)
    for name, dirs in groups.items():
        run_list = jd / f"{name}.runs"
        text = render_script(campaign, name, run_list, dirs, scratch=scratch, signal_grace_s=signal_grace_s)
        wait = sorted(waits.get(name, ()))
        out.append(JobArray(name, jd / f"{name}.sbatch", run_list, dirs, text,
                            after=[w for w in wait if not w.startswith("job:")],
                            after_jobs=[w[4:] for w in wait if w.startswith("job:")]))
    return out


def dependency_of(arr: JobArray, arrays: list[JobArray]) -> str | None:
    """``afterok:<id>[:<id>]`` of the arrays (submitted before) and jobs ``arr`` waits for, or None."""
    ids = [a.job_id for a in arrays if a.name in arr.after and a.job_id] + list(arr.after_jobs)
    return "afterok:" + ":".join(ids) if ids else None


def write_arrays(arrays: list[JobArray]) -> None:
    for arr in arrays:
        (arr.run_list.parent / "logs").mkdir(parents=True, exist_ok=True)
        atomic_write_text(arr.run_list, "".join(f"{d}\n" for d in arr.run_dirs))
        atomic_write_text(arr.script, arr.text)
        arr.script.chmod(0o755)


def sbatch_path() -> str:
    path = shutil.which("sbatch")
    if not path:
        raise InputError("sbatch not found: this machine has no SLURM client; run the campaign here with "
                         "`elbench run`, or submit from a cluster login node", key="sbatch")
    return path


def _one_line(text: str) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines() if line.strip()) or "no message"


def submit_array(arr: JobArray, campaign: Campaign, *, hold: bool = False, dependency: str | None = None) -> str:
    """``sbatch --parsable``; the scheduler's own error becomes one InputError line."""
    sbatch = sbatch_path()
    extra = (["--hold"] if hold else []) + ([f"--dependency={dependency}", "--kill-on-invalid-dep=yes"]
                                            if dependency else [])
    try:
        proc = subprocess.run([sbatch, "--parsable", *extra, str(arr.script)], capture_output=True, text=True,
                              timeout=120, cwd=campaign.root)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RunError(f"sbatch failed to run: {err}") from None
    if proc.returncode != 0:
        raise InputError(f"sbatch refused {arr.script.name}: {_one_line(proc.stderr or proc.stdout)}",
                         file=campaign.path, key="slurm")
    job_id = proc.stdout.strip().split(";")[0]
    if not job_id.isdigit():
        raise RunError(f"sbatch returned no job id: {_one_line(proc.stdout)}")
    arr.job_id = job_id
    return job_id


def record_submission(campaign: Campaign, arrays: list[JobArray]) -> None:
    path = jobs_dir(campaign) / SUBMISSIONS
    data = read_submissions(campaign)
    for arr in arrays:
        data.append({"job_id": arr.job_id, "name": arr.name, "script": str(arr.script),
                     "runs": [str(d) for d in arr.run_dirs], "submitted_utc": utc_now(),
                     **({"one_job": True} if arr.one_job else {})})
    atomic_write_json(path, data)


def read_submissions(campaign: Campaign) -> list[dict]:
    try:
        data = json.loads((jobs_dir(campaign) / SUBMISSIONS).read_text())
        return data if isinstance(data, list) else []
    except (OSError, ValueError):
        return []


# ------------------------------------------------------------------ reading the scheduler


def squeue_states(job_ids: list[str]) -> dict[str, tuple[str, str]] | None:
    """``"<array job>_<task>" -> (state, reason)`` from squeue; None when squeue is unavailable."""
    squeue = shutil.which("squeue")
    if not squeue or not job_ids:
        return None if not squeue else {}
    try:
        proc = subprocess.run([squeue, "-h", "-r", "-j", ",".join(job_ids), "-o", "%i|%T|%r"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out: dict[str, tuple[str, str]] = {}
    if proc.returncode != 0 and "Invalid job id" not in proc.stderr:
        return None
    for line in proc.stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out


def sacct_states(job_ids: list[str]) -> dict[str, str]:
    """``"<array job>_<task>" -> state`` from sacct, empty when accounting is off."""
    sacct = shutil.which("sacct")
    if not sacct or not job_ids:
        return {}
    try:
        proc = subprocess.run([sacct, "-n", "-X", "-P", "-j", ",".join(job_ids), "-o", "JobID,State"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if proc.returncode != 0:
        return {}
    out = {}
    for line in proc.stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 2 and "_" in parts[0]:
            out[parts[0]] = parts[1].split()[0]
    return out


def task_ids_by_run(campaign: Campaign) -> dict[str, str]:
    """Run dir -> ``"<array job>_<task>"`` of its latest submission."""
    out = {}
    for sub in read_submissions(campaign):
        for i, run in enumerate(sub.get("runs", [])):
            if sub.get("job_id"):
                out[run] = f"{sub['job_id']}_{0 if sub.get('one_job') else i}"
    return out


def active_jobs_by_run(campaign: Campaign) -> dict[str, str]:
    tasks = task_ids_by_run(campaign)
    queue = squeue_states(sorted({t.split("_")[0] for t in tasks.values()})) or {}
    return {run: task for run, task in tasks.items() if task in queue}
