"""A rendered run directory as the launcher sees it: ``run.json`` and its inputs.

Before any segment starts, the inputs listed in ``run.json`` are hashed again; a
directory edited by hand after rendering is refused, and so is one whose inputs
changed between segments (a run must not mix segments made from different decks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from elbench.errors import InputError
from elbench.io import sha256_file

RUN_JSON = "run.json"
DECK = "in.lammps"


@dataclass
class RunDir:
    path: Path
    meta: dict

    @classmethod
    def load(cls, path: Path) -> "RunDir":
        path = Path(path)
        file = path / RUN_JSON
        if not file.is_file():
            raise InputError("run directory has no run.json; create it with `elbench render`", file=file)
        try:
            meta = json.loads(file.read_text())
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read run.json: {err}", file=file) from None
        for key in ("command",):
            if key not in meta:
                raise InputError("run.json lacks a required key", file=file, key=key)
        if not isinstance(meta["command"], list) or not all(isinstance(a, str) for a in meta["command"]):
            raise InputError("command must be a list of strings", file=file, key="command")
        return cls(path.resolve(), meta)

    @property
    def key(self) -> str:
        m = self.meta
        if {"model", "charge_state", "seed"} <= m.keys():
            return f"{m['model']}/q{m['charge_state']}/s{m['seed']}"
        return self.path.name

    @property
    def deck_path(self) -> Path:
        return self.path / DECK

    @property
    def command(self) -> list[str]:
        return list(self.meta["command"])

    @property
    def env(self) -> dict[str, str]:
        env = self.meta.get("env") or {}
        return {str(k): str(v) for k, v in env.items()}

    @property
    def engine(self) -> str:
        return str(self.meta.get("engine", "native"))

    @property
    def timestep_fs(self) -> float | None:
        value = self.meta.get("timestep_fs")
        return float(value) if value is not None else None

    @property
    def type_map(self) -> list[str]:
        return list(self.meta.get("type_map") or [])

    @property
    def dump(self) -> dict:
        return dict(self.meta.get("dump") or {})

    @property
    def production_start_step(self) -> int:
        steps = self.meta.get("steps") or {}
        return int(steps.get("equilibration", 0))

    def data_file(self) -> Path | None:
        """The atomic topology (ids and types) the dumped frames follow."""
        for key in ("topology_file", "data_file"):
            if isinstance(self.meta.get(key), str) and (self.path / self.meta[key]).is_file():
                return self.path / self.meta[key]
        for label, rel in self.input_paths().items():
            if "data" in label or rel.endswith(".data"):
                return self.path / rel
        found = sorted(self.path.glob("*.data"))
        return found[0] if found else None

    def input_paths(self) -> dict[str, str]:
        """Label -> path (relative to the run dir or absolute) of the hashed inputs."""
        out = {}
        for label, item in (self.meta.get("inputs") or {}).items():
            if isinstance(item, dict) and "path" in item:
                out[label] = str(item["path"])
            elif isinstance(item, str) and len(item) != 64:
                out[label] = item
        return out

    def expected_hashes(self) -> dict[str, tuple[Path, str]]:
        """Label -> (absolute path, sha256) for every input run.json lists with a hash."""
        out = {}
        for label, item in (self.meta.get("inputs") or {}).items():
            if isinstance(item, dict) and "sha256" in item:
                path = Path(item.get("path", label))
                out[label] = (path if path.is_absolute() else self.path / path, str(item["sha256"]))
        return out

    def current_hashes(self) -> dict[str, str]:
        return {
            label: (sha256_file(path) if path.is_file() else "missing")
            for label, (path, _) in self.expected_hashes().items()
        }

    def verify_inputs(self) -> dict[str, str]:
        """Hash the inputs again; raise InputError naming every file that changed."""
        expected = self.expected_hashes()
        current = self.current_hashes()
        changed = [
            f"{path.name if path.parent == self.path else path} ({'missing' if current[label] == 'missing' else 'edited'})"
            for label, (path, sha) in expected.items()
            if current[label] != sha
        ]
        if changed:
            raise InputError(
                f"inputs no longer match run.json: {', '.join(changed)}; re-render the run (`elbench render`) "
                "or restore the files",
                file=self.path / RUN_JSON,
                key="inputs",
            )
        return current
