"""The element order of a LAMMPS file's atom types: the ``# elbench type_map:`` header line.

``elbench build`` writes ``# elbench type_map: Au O H Na`` as the first line of every
data file (LAMMPS skips it: a data file's first line is its title) and the MD deck
carries the same line; type ``i`` is the ``i``-th element. This module is the one
writer (:func:`header_line`) and the one reader (:func:`parse_line`, :func:`from_text`,
:func:`read_header`) of that line. A file without the line gives None (callers decide
whether that is an error); a line that names no elements or something that is not an
element symbol is an InputError.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from elbench.elements import is_element
from elbench.errors import InputError

HEADER_PREFIX = "# elbench type_map:"
#: the header is looked for in this many first lines of a file
HEADER_LINES = 40
_HEADER = re.compile(r"#\s*elbench\s+type_map\s*:(.*)$")


def header_line(type_map: Sequence[str]) -> str:
    """``# elbench type_map: Au O H Na``."""
    return f"{HEADER_PREFIX} {' '.join(type_map)}"


def parse_line(line: str, *, file: Path | str | None = None) -> list[str] | None:
    """The element order if ``line`` is a type-map header, else None; a malformed header is an InputError."""
    match = _HEADER.search(line)
    if match is None:
        return None
    elements = match.group(1).split()
    bad = [el for el in elements if not is_element(el)]
    if not elements or bad:
        raise InputError(f"malformed type-map header {line.strip()!r}: "
                         + (f"{' '.join(bad)} not element symbols" if bad else "no elements"),
                         file=file, key="type_map", allowed=f"'{header_line(['Au', 'O', 'H', 'Na'])}'")
    return elements


def from_lines(lines: Iterable[str], *, file: Path | str | None = None) -> list[str] | None:
    """The element order from the first header among the first :data:`HEADER_LINES` lines, else None."""
    for i, line in enumerate(lines):
        if i >= HEADER_LINES:
            break
        found = parse_line(line, file=file)
        if found is not None:
            return found
    return None


def from_text(text: str, *, file: Path | str | None = None) -> list[str] | None:
    """The element order from the header of a file's text, else None."""
    return from_lines(text.splitlines(), file=file)


def read_header(path: Path | str) -> list[str] | None:
    """The element order from the header of the file ``path``, else None (only its head is read)."""
    try:
        with open(path, errors="replace") as handle:
            return from_lines(handle, file=path)
    except OSError as err:
        raise InputError(f"cannot read: {err}", file=path) from None
