"""Validation of every value that reaches a LAMMPS deck or a shell script.

LAMMPS input has a ``shell`` command, ``$`` variable expansion, ``&`` line
continuation, ``#`` comments and quoting, so a model name or path that carries
one of those could change what a deck does. Every ``{{ value }}`` in a template
goes through :func:`finalize` (the Jinja environment's ``finalize`` hook):

* numbers must be finite ints/floats (bools are refused, they are a template bug);
* strings must be plain LAMMPS words (``WORD``: letters, digits, ``_ . + - / : =``),
  unless they were validated on purpose and wrapped in :class:`Checked`
  (quoted paths, comment text).

So a value that no one validated cannot reach a deck.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import jinja2

from elbench.errors import InputError

#: A bare LAMMPS word: no whitespace, quotes, ``$ & # ; | < > ` \\ ! * ?``.
WORD = re.compile(r"^[A-Za-z0-9_.+\-/:=,@%]+$")
#: Characters never allowed in a path rendered into a deck (even quoted).
PATH_FORBIDDEN = set("\"'$&#;|<>`\\!*?{}\n\r\t\x00")
#: Free text allowed in deck comments.
COMMENT_OK = re.compile(r"^[A-Za-z0-9 _.,:;=+\-/()\[\]%@<>]*$")


class Checked(str):
    """A string that a validator in this module produced; rendered as is."""


def word(value: object, key: str = "value") -> Checked:
    """A single LAMMPS word (style names, IDs, element symbols)."""
    text = str(value)
    if not text or not WORD.match(text):
        raise InputError(
            f"{text!r} cannot be written into a LAMMPS deck",
            key=key,
            allowed="letters, digits and _ . + - / : = , @ % without spaces, quotes, $, &, #",
        )
    return Checked(text)


def path(value: str | Path, key: str = "path") -> Checked:
    """An absolute or relative path, double-quoted for LAMMPS.

    Spaces are allowed inside the quotes; quote characters, ``$``, ``&``, ``#``,
    shell metacharacters and control characters are not.
    """
    text = str(value)
    bad = sorted({ch for ch in text if ch in PATH_FORBIDDEN or not ch.isprintable()})
    if not text or bad:
        raise InputError(
            f"path {text!r} cannot be written into a LAMMPS deck (contains {''.join(bad)!r})",
            key=key,
            allowed="paths without quotes, $, &, #, ;, |, <, >, backslash, * ? ! { } or control characters",
        )
    return Checked(f'"{text}"')


def comment(value: object, key: str = "comment") -> Checked:
    """Text for a ``#`` comment line: one printable line of harmless characters."""
    text = " ".join(str(value).split())
    if not COMMENT_OK.match(text):
        raise InputError(f"{text!r} cannot be written into a deck comment", key=key,
                         allowed="letters, digits, spaces and _ . , : ; = + - / ( ) [ ] % @ < >")
    return Checked(text)


def number(value: object, key: str = "value") -> float | int:
    """A finite int or float (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{value!r} is not a number", key=key)
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{value!r} is not a finite number", key=key)
    return value


def positive_int(value: object, key: str = "value") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(f"{value!r} is not a positive integer", key=key)
    return value


def nonnegative_int(value: object, key: str = "value") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{value!r} is not a non-negative integer", key=key)
    return value


def finalize(value: object) -> object:
    """Jinja ``finalize`` hook: refuse anything that was not validated."""
    if isinstance(value, Checked):
        return value
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the missing variable
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value)
    if isinstance(value, str):
        return word(value)
    raise InputError(f"template rendered a {type(value).__name__} ({value!r}); only numbers and words are allowed",
                     key="template")


def fmt(value: float, digits: int = 10) -> Checked:
    """A float in a stable, short text form (``%.10g``), for golden-deck stability."""
    number(value)
    return Checked(f"{float(value):.{digits}g}")
