"""Errors that the CLI turns into one line and exit code 2.

Anything a user can fix (a bad file, key or value) raises :class:`InputError`
with the file, the key and what is allowed, so the message fits on one line.
"""

from __future__ import annotations

from pathlib import Path


class ElbenchError(Exception):
    """Base class for errors elbench reports without a traceback."""

    exit_code = 1


class InputError(ElbenchError):
    """Bad user input: a file, key or value that is not allowed (exit code 2)."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        key: str | None = None,
        allowed: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.key = key
        self.allowed = allowed
        self.message = message
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.key:
            parts.append(f"key '{self.key}'")
        head = ": ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        return " ".join(text.split())


class RunError(ElbenchError):
    """An external program (LAMMPS, sbatch, ...) failed; the message says how."""

    exit_code = 1
