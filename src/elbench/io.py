"""Small file helpers used everywhere: atomic writes and hashes.

Status, results and reports are always written through a temporary file in the
same directory and an ``os.replace``, so a crash never leaves a file that looks
complete but is not; whole directories (a built system, a rendered run) the same
way through :func:`atomic_directory`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from elbench.errors import InputError


def sha256_file(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are ordinary files
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield an empty temporary directory next to ``path``; on success it replaces ``path`` whole.

    An existing ``path`` is moved aside first and removed after the swap. Whatever happens (an error, a
    Ctrl-C even between ``mkdtemp`` and the assignment of its result), the temporary and replaced copies
    are removed by name afterwards, so nothing half-written is left beside ``path``. OSError propagates;
    callers turn it into their own message.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        yield tmp
        tmp.chmod(0o755)  # mkdtemp makes 0700; the result is an ordinary directory
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            target.replace(old / target.name)
        tmp.replace(target)
    finally:
        for pattern in (f".{target.name}.tmp-*", f".{target.name}.old-*"):
            for leftover in target.parent.glob(pattern):
                shutil.rmtree(leftover, ignore_errors=True)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def atomic_write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON atomically."""
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def check_writable_dir(path: str | Path, *, key: str | None = None) -> None:
    """Raise InputError unless ``path`` is, or can be created as, a writable directory.

    Called before any work, so an output directory under a regular file (or a
    read-only one) fails in one line and nothing is created.
    """
    probe = Path(path).absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"cannot write there: {probe} is not a directory", file=path, key=key)
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"cannot write there: {probe} is not writable", file=path, key=key)


def read_toml(path: str | Path) -> dict:
    """Parse a TOML file the user wrote; any problem is one InputError naming the file."""
    import tomllib

    try:
        return tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"malformed TOML: {err}", file=path) from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read: {err}", file=path) from None


def read_json(path: str | Path) -> Any:
    with open(path) as handle:
        return json.load(handle)
