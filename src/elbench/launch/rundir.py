"""A rendered run directory as the launcher sees it: ``run.json`` and its inputs.

Before any segment starts, the inputs listed in ``run.json`` are hashed again; a
directory edited by hand after rendering is refused, and so is one whose inputs
changed between segments (a run must not mix segments made from different decks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elbench.errors import InputError
from elbench.io import sha256_file
from elbench.run_record import RUN_JSON, RunRecord

DECK = "in.lammps"


@dataclass
class RunDir:
    path: Path
    record: RunRecord

    @classmethod
    def load(cls, path: Path) -> "RunDir":
        return cls(Path(path).resolve(), RunRecord.load(path))

    @property
    def key(self) -> str:
        return self.record.key

    @property
    def deck_path(self) -> Path:
        return self.path / DECK

    @property
    def command(self) -> list[str]:
        return list(self.record.command)

    @property
    def env(self) -> dict[str, str]:
        return dict(self.record.env)

    @property
    def engine(self) -> str:
        return self.record.engine

    @property
    def timestep_fs(self) -> float:
        return self.record.timestep_fs

    @property
    def type_map(self) -> list[str]:
        return list(self.record.type_map)

    @property
    def total_steps(self) -> int:
        """The last step of the run's timeline (equilibration + production)."""
        return self.record.steps.last_step

    def data_file(self) -> Path:
        """The atomic topology (ids and types) the dumped frames follow."""
        return self.path / self.record.topology_file

    def expected_hashes(self) -> dict[str, tuple[Path, str]]:
        """Label -> (absolute path, sha256) for every input run.json lists with a hash."""
        out = {}
        for label, item in self.record.inputs.items():
            path = Path(item.path)
            out[label] = (path if path.is_absolute() else self.path / path, item.sha256)
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
