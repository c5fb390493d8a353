"""The one Jinja environment elbench renders decks and scripts with.

``StrictUndefined`` turns a missing variable into an error instead of an empty
string; ``finalize`` validates every rendered value (see :mod:`.validate`).
Filters: ``path`` (quoted path), ``paths`` (several), ``words`` (a list of
words), ``type_map_header`` (the ``# elbench type_map:`` line of a list of
elements), ``fmt`` (a float in ``%.10g``), ``comment`` (free text for ``#`` lines),
``sh`` (one shell-quoted argument), ``argv`` (a shell-quoted command line) and
``sh_prepend`` (``"${KEY:+:$KEY}"``) for scripts.
"""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path

import jinja2

from elbench.errors import InputError
from elbench.render import validate
from elbench.resources import templates_dir
from elbench.type_map import header_line


def _words(values) -> validate.Checked:
    return validate.Checked(" ".join(validate.word(v) for v in values))


def _type_map_header(values) -> validate.Checked:
    """The ``# elbench type_map: Au O H Na`` line (:mod:`elbench.type_map` owns its format)."""
    return validate.Checked(header_line([validate.word(v) for v in values]))


def _paths(values) -> validate.Checked:
    return validate.Checked(" ".join(validate.path(v) for v in values))


def _sh(value) -> validate.Checked:
    text = str(value)
    if any(ch in text for ch in "\n\r\x00"):
        validate.word(text, key="script argument")
    return validate.Checked(shlex.quote(text))


def _argv(values) -> validate.Checked:
    return validate.Checked(" ".join(_sh(v) for v in values))


ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _sh_prepend(key) -> validate.Checked:
    """``"${KEY:+:$KEY}"``: keep the caller's value of a PATH-like variable after ours."""
    text = str(key)
    if not ENV_NAME.match(text):
        validate.word("$" + text, key="environment variable")
    return validate.Checked(f'"${{{text}:+:${text}}}"')


@functools.lru_cache(maxsize=4)
def environment(directory: str | None = None) -> jinja2.Environment:
    """The environment over ``lammps_inputs/`` (or another template directory)."""
    root = Path(directory) if directory else templates_dir()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        finalize=validate.finalize,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        path=validate.path,
        paths=_paths,
        words=_words,
        type_map_header=_type_map_header,
        fmt=validate.fmt,
        comment=validate.comment,
        sh=_sh,
        argv=_argv,
        sh_prepend=_sh_prepend,
    )
    return env


def render_template(name: str, context: dict) -> str:
    """Render ``lammps_inputs/<name>`` with ``context``; undefined names are errors."""
    try:
        return environment().get_template(name).render(**context)
    except jinja2.UndefinedError as err:
        raise InputError(f"template {name} needs a value that was not given: {err.message}", key="template") from None
