"""Run a rendered training directory locally in the family's environment."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from elbench.engines.select import env_dir
from elbench.errors import InputError, RunError
from elbench.io import atomic_write_json, read_json
from elbench.train.curves import learning_curve, write_curve


def require_env(environment: str, family: str) -> Path:
    """The env's bin/ or InputError with the command that creates it."""
    bindir = env_dir(environment) / "bin"
    if not (bindir / "python").exists():
        raise InputError(f"the '{environment}' environment for {family} training does not exist; "
                         f"create it with `./dev env {environment}`", key="family")
    return bindir


def run_training(directory: str | Path, *, timeout_s: float | None = None, nice: int = 0) -> dict:
    """Run every command of train.json in order (log to train.log), then write the learning curve."""
    directory = Path(directory)
    record_path = directory / "train.json"
    if not record_path.is_file():
        raise InputError("not a training directory (no train.json); run `elbench train render`", file=record_path)
    record = read_json(record_path)
    bindir = require_env(record["environment"], record["family"])
    status = {"state": "running", "started": time.time()}
    log = directory / "train.log"
    with open(log, "w") as handle:
        for argv in record["commands"]:
            program = bindir / argv[0]
            if not program.exists():
                raise InputError(f"{program} is missing; recreate the environment with `./dev env {record['environment']}`",
                                 key="family")
            full = ([f"nice", "-n", str(nice)] if nice else []) + [str(program), *argv[1:]]
            handle.write(f"$ {' '.join(full)}\n")
            handle.flush()
            try:
                proc = subprocess.run(full, cwd=directory, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout_s,
                                      env=_env(bindir))
            except subprocess.TimeoutExpired:
                raise RunError(f"training command {argv[0]} ran past {timeout_s} s; see {log}") from None
            if proc.returncode != 0:
                tail = log.read_text(errors="replace").strip().splitlines()[-5:]
                raise RunError(f"{argv[0]} failed (exit {proc.returncode}) in {directory}: {' | '.join(tail)}")
    rows = learning_curve(directory, record)
    write_curve(directory, rows, f"{record['name']} ({record['family']}, set {record['training_set']})")
    missing = [m for m in record["model_files"] if not (directory / m).exists()]
    if missing:
        raise RunError(f"training finished but {missing} were not written in {directory}")
    status |= {"state": "done", "finished": time.time(), "learning_curve": "learning_curve.csv",
               "final": rows[-1]}
    atomic_write_json(directory / "train_status.json", status)
    return status


def _env(bindir: Path) -> dict:
    import os

    env = dict(os.environ)
    env["PATH"] = f"{bindir}:{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(bindir.parent)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["CUDA_VISIBLE_DEVICES"] = ""
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env
