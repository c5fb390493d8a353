"""The exact command of a run: argv, environment and ``run.sh``.

Native runs start the real LAMMPS binary (never the venv's Python launcher)
through the campaign's launcher; KOKKOS builds get
``-k on g N -sf kk -pk kokkos newton on neigh half``. Bridge runs start
``python -m elbench.engines.bridge``; :func:`bridge_command` is the one place
that says how.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from elbench.engines.bridge import command
from elbench.errors import InputError
from elbench.render import validate
from elbench.render.environment import ENV_NAME, render_template

#: Variables whose value is prepended to the caller's (``VALUE:$OLD``).
PREPEND = ("LD_LIBRARY_PATH", "LAMMPS_PLUGIN_PATH", "PATH", "PYTHONPATH")
RUN_SCRIPT_TEMPLATE = "run.sh.j2"


def kokkos_args(kokkos) -> list[str]:
    """LAMMPS command-line switches of a KOKKOS/GPU run (``lammps.kokkos`` settings)."""
    if not kokkos.enabled:
        return []
    return ["-k", "on", "g", str(kokkos.gpus_per_node), "-sf", "kk",
            "-pk", "kokkos", "newton", kokkos.newton, "neigh", kokkos.neigh]


def launcher_args(lammps_cfg, mpirun: Path | None) -> list[str]:
    ranks = lammps_cfg.mpi_ranks
    if lammps_cfg.launcher == "none":
        if ranks != 1:
            raise InputError(f"mpi_ranks = {ranks} needs a launcher", key="lammps.launcher", allowed="mpirun, srun")
        return []
    if lammps_cfg.launcher == "srun":
        return ["srun", "-n", str(ranks)]
    if mpirun is None:
        raise InputError("mpirun not found; install lammps[mpi] or set launcher = 'none'", key="lammps.launcher")
    return [str(mpirun), "-np", str(ranks)]


def native_argv(lammps_cfg, binary_path: Path, mpirun: Path | None, *, deck: str = "in.lammps") -> list[str]:
    """``[launcher..., lmp, kokkos switches..., -in in.lammps, -log log.lammps]``."""
    return [*launcher_args(lammps_cfg, mpirun), str(binary_path), *kokkos_args(lammps_cfg.kokkos),
            "-in", deck, "-log", "log.lammps"]


def bridge_command(run_dir: Path, *, environment: str = "core") -> list[str]:
    """argv of a bridge run (LAMMPS driven from Python, forces from the model's calculator).

    Delegates to ``elbench.engines.bridge.command`` (owned by the engines), which
    starts the family environment's Python; refuses while that module is missing.
    """
    if importlib.util.find_spec("elbench.engines.bridge") is None:
        raise InputError(
            "the bridge engine (elbench.engines.bridge) is not available yet; "
            "use a LAMMPS binary with the model's pair style (see cmake/) or the reference model",
            key="lammps.engine",
        )

    return [str(a) for a in command(run_dir, environment)]


def environment_list(env: dict[str, str]) -> list[dict]:
    out = []
    for key, value in env.items():
        if not ENV_NAME.match(key):
            raise InputError(f"environment variable name {key!r} is not allowed", key="env")
        out.append({"key": validate.Checked(key), "value": value, "prepend": key in PREPEND})
    return out


def render_run_script(context: dict) -> str:
    """``run.sh``: ``cd`` to its directory, export the environment, ``exec`` the argv."""
    return render_template(RUN_SCRIPT_TEMPLATE, context | {"env": environment_list(context["env"])})
