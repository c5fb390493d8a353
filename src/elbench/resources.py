"""Where elbench's shipped files live: templates, the potential registry, analysis data.

elbench is installed editable from its source tree (the README's commands do
this), so the top-level folders of the repository are found next to ``src/``.
``ELBENCH_HOME`` points elsewhere when needed.
"""

from __future__ import annotations

import os
from pathlib import Path

from elbench.errors import ElbenchError


def project_root() -> Path:
    env = os.environ.get("ELBENCH_HOME")
    root = Path(env) if env else Path(__file__).resolve().parents[2]
    if not (root / "lammps_inputs").is_dir():
        raise ElbenchError(
            f"cannot find elbench's lammps_inputs/ under {root}; install elbench editable "
            "from its source tree (pip install -e .) or set ELBENCH_HOME"
        )
    return root


def templates_dir() -> Path:
    return project_root() / "lammps_inputs"


def potentials_dir() -> Path:
    return project_root() / "potentials"


def builtin_manifest() -> Path:
    return potentials_dir() / "manifest.toml"


def analysis_data_dir() -> Path:
    return project_root() / "analysis"
