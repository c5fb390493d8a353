"""The exact argv of run.sh and run.json for every launcher, KOKKOS switches, the bridge."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from elbench.config import KokkosConfig, LammpsConfig
from elbench.errors import InputError
from elbench.render import command
from elbench.render.command import bridge_command, kokkos_args, native_argv, render_run_script

LMP = Path("/opt/lammps/bin/lmp")
MPIRUN = Path("/opt/mpich/bin/mpirun")


def test_mpirun_argv() -> None:
    cfg = LammpsConfig(mpi_ranks=2)
    assert native_argv(cfg, LMP, MPIRUN) == [
        "/opt/mpich/bin/mpirun", "-np", "2", "/opt/lammps/bin/lmp", "-in", "in.lammps", "-log", "log.lammps"]


def test_no_launcher_argv_and_ranks() -> None:
    assert native_argv(LammpsConfig(launcher="none"), LMP, None) == [
        "/opt/lammps/bin/lmp", "-in", "in.lammps", "-log", "log.lammps"]
    with pytest.raises(InputError, match="lammps.launcher"):
        native_argv(LammpsConfig(launcher="none", mpi_ranks=4), LMP, None)


def test_kokkos_gpu_argv_as_the_lammps_docs_require() -> None:
    cfg = LammpsConfig(launcher="srun", mpi_ranks=4, kokkos=KokkosConfig(enabled=True, gpus_per_node=4))
    assert native_argv(cfg, LMP, None) == [
        "srun", "-n", "4", "/opt/lammps/bin/lmp",
        "-k", "on", "g", "4", "-sf", "kk", "-pk", "kokkos", "newton", "on", "neigh", "half",
        "-in", "in.lammps", "-log", "log.lammps"]
    assert kokkos_args(KokkosConfig(enabled=False)) == []


def test_mpirun_missing_is_input_error() -> None:
    with pytest.raises(InputError, match="mpirun not found"):
        native_argv(LammpsConfig(), LMP, None)


def test_run_script_text_exact() -> None:
    argv = ["/opt/mpich/bin/mpirun", "-np", "1", "/opt/lammps/bin/lmp", "-in", "in.lammps", "-log", "log.lammps"]
    text = render_run_script({"version": "0.1.0", "model": "reference", "charge_state": 4, "seed": 3,
                              "engine": "native", "argv": argv,
                              "env": {"LD_LIBRARY_PATH": "/opt/env/lib", "OMP_NUM_THREADS": "1"}})
    assert text == (
        "#!/usr/bin/env bash\n"
        "# elbench 0.1.0: reference q4 s3, engine native\n"
        "# Runnable without elbench: changes to its own directory, sets the environment, starts the run.\n"
        "set -euo pipefail\n"
        'cd "$(dirname "$0")"\n'
        'export LD_LIBRARY_PATH=/opt/env/lib"${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"\n'
        "export OMP_NUM_THREADS=1\n"
        "exec /opt/mpich/bin/mpirun -np 1 /opt/lammps/bin/lmp -in in.lammps -log log.lammps\n"
    )
    exec_line = text.splitlines()[-1]
    assert shlex.split(exec_line)[1:] == argv


def test_run_script_quotes_hostile_paths() -> None:
    argv = ["/opt/my lammps/lmp; rm -rf ~", "-in", "in.lammps"]
    text = render_run_script({"version": "0.1.0", "model": "m", "charge_state": 0, "seed": 1, "engine": "native",
                              "argv": argv, "env": {"OMP_NUM_THREADS": "1"}})
    assert shlex.split(text.splitlines()[-1])[1:] == argv


def test_run_script_rejects_newlines_and_bad_env_names() -> None:
    base = {"version": "0.1.0", "model": "m", "charge_state": 0, "seed": 1, "engine": "native"}
    with pytest.raises(InputError):
        render_run_script(base | {"argv": ["lmp\nrm -rf /"], "env": {}})
    with pytest.raises(InputError):
        render_run_script(base | {"argv": ["lmp"], "env": {"BAD;NAME": "x"}})


def test_bridge_command_until_the_bridge_exists(monkeypatch) -> None:
    """Without elbench.engines.bridge the bridge refuses with one line; with it, run.sh runs the module."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(command.importlib.util, "find_spec",
                        lambda name, *a: None if name == "elbench.engines.bridge" else real(name, *a))
    with pytest.raises(InputError, match="bridge engine"):
        bridge_command(Path("/runs/x"))
    monkeypatch.setattr(command.importlib.util, "find_spec", real)
    argv = bridge_command(Path("/runs/x"), environment="mace")
    assert argv[0].endswith("/mace/bin/python") and argv[1:3] == ["-m", "elbench.engines.bridge"]
