"""The one reader of LAMMPS input text (``in.lammps``, segment decks, rendered blocks).

LAMMPS syntax as elbench reads it back:

* a line whose last printable character (after its comment is removed) is ``&``
  continues on the next line; the pieces are joined with one space;
* ``#`` starts a comment unless it is inside single or double quotes
  (``print "step #1"`` keeps its ``#``); LAMMPS's triple quotes are not supported;
* words are split shell-like (``shlex``), so a quoted path with spaces is one word
  and its quotes are removed; an unbalanced quote falls back to whitespace splitting;
* a comment line ``# elbench:section NAME`` (``lammps_inputs/md.lammps.j2``) puts the
  commands after it into section NAME.

:func:`read_deck` / :func:`parse_deck_text` give a :class:`Deck`: its commands in order
(:attr:`Command.text` is the logical line, comment removed, ready for ``lmp.command``)
and what elbench reads from them: the data file, fix-external IDs, pair styles, the
timeline of ``run`` commands, dumps, restart interval and timestep.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from elbench.errors import InputError

SECTION_MARK = re.compile(r"^\s*#\s*elbench:section\s+(\S+)")
_VAR_REF = re.compile(r"\$\{(\w+)\}|\$(\w)")
#: ``variable`` styles whose value is a plain string elbench can substitute
_STRING_VARIABLES = ("index", "equal", "string", "internal")


@dataclass(frozen=True)
class Command:
    """One LAMMPS command: its logical line (comment removed) and its words."""

    text: str
    words: tuple[str, ...]
    section: str = ""

    @property
    def name(self) -> str:
        return self.words[0] if self.words else ""


def strip_comment(line: str) -> str:
    """``line`` without its ``#`` comment; a ``#`` inside quotes is kept."""
    quote = None
    for i, ch in enumerate(line):
        if ch in "\"'" and quote is None:
            quote = ch
        elif ch == quote:
            quote = None
        elif ch == "#" and quote is None:
            return line[:i]
    return line


def split_words(line: str) -> tuple[str, ...]:
    """The words of a command line, quotes removed (whitespace split if a quote is unbalanced)."""
    try:
        return tuple(shlex.split(line, posix=True))
    except ValueError:
        return tuple(line.split())


def _logical(text: str) -> list[tuple[str, str]]:
    """(section, logical line) pairs: continuations joined, comments and blank lines dropped."""
    out: list[tuple[str, str]] = []
    section, buf = "", ""
    for raw in text.splitlines():
        if not buf and (mark := SECTION_MARK.match(raw)):
            section = mark.group(1)
            continue
        line = strip_comment(raw).rstrip()
        if line.endswith("&"):
            buf += line[:-1] + " "
            continue
        joined, buf = (buf + line).strip(), ""
        if joined:
            out.append((section, joined))
    if buf.strip():
        out.append((section, buf.strip()))
    return out


def logical_lines(text: str) -> list[str]:
    """The deck's command lines: ``&`` continuations joined, comments and blank lines dropped."""
    return [line for _, line in _logical(text)]


@dataclass
class Timeline:
    """What the ``run``, ``dump``, ``restart`` and ``timestep`` commands say, in deck order."""

    run_ends: list[int] = field(default_factory=list)  # step at which each ``run`` ends, counted from 0
    dumps: dict[str, str] = field(default_factory=dict)  # dump id -> file name
    restart_interval: int | None = None
    timestep_ps: float | None = None


class Deck:
    """A parsed LAMMPS input: commands in order and what elbench reads from them."""

    def __init__(self, commands: list[Command], file: Path | str = "in.lammps") -> None:
        self.commands = commands
        self.file = file

    # ------------------------------------------------------------------ commands
    def named(self, *names: str) -> list[Command]:
        """The commands called one of ``names``, in deck order."""
        return [c for c in self.commands if c.name in names]

    def section(self, name: str) -> list[Command]:
        """The commands under ``# elbench:section NAME``."""
        return [c for c in self.commands if c.section == name]

    def read_data(self) -> str:
        """The file argument of the first ``read_data`` (quotes removed); InputError if there is none."""
        for cmd in self.named("read_data"):
            if len(cmd.words) >= 2:
                return cmd.words[1]
        raise InputError("the deck has no read_data line", file=self.file, key="read_data")

    def fix_externals(self) -> list[Command]:
        """The ``fix ID group external pf/callback ...`` commands (the bridge's force fix)."""
        return [c for c in self.named("fix") if is_fix_external(c)]

    def pair_styles(self) -> list[str]:
        """The style of every ``pair_style`` command, in deck order."""
        return [c.words[1] for c in self.named("pair_style") if len(c.words) >= 2]

    def atom_style(self, default: str = "atomic") -> str:
        return next((c.words[1] for c in self.named("atom_style") if len(c.words) >= 2), default)

    # ------------------------------------------------------------------ timeline
    @cached_property
    def timeline(self) -> Timeline:
        """Run ends, dumps, restart interval and timestep; ``${var}`` of string variables substituted."""
        variables: dict[str, str] = {}
        timeline = Timeline()
        step = 0
        for cmd in self.commands:
            words = cmd.words
            if cmd.name == "variable" and len(words) >= 4 and words[2] in _STRING_VARIABLES:
                variables.setdefault(words[1], words[3])
            elif cmd.name == "run":
                if len(words) < 2:
                    raise InputError("'run' without a number of steps", file=self.file)
                n = self._int_value(words[1], variables, "run length")
                step = n if "upto" in words[2:] else step + n
                timeline.run_ends.append(step)
            elif cmd.name == "dump" and len(words) >= 6:
                timeline.dumps[words[1]] = words[5]
            elif cmd.name == "restart" and len(words) >= 2:
                timeline.restart_interval = self._int_value(words[1], variables, "restart interval") or None
            elif cmd.name == "timestep" and len(words) >= 2:
                try:
                    timeline.timestep_ps = float(_substitute(words[1], variables))
                except ValueError:
                    pass
        return timeline

    @property
    def run_ends(self) -> list[int]:
        return self.timeline.run_ends

    @property
    def total_steps(self) -> int:
        return self.run_ends[-1] if self.run_ends else 0

    @property
    def dumps(self) -> dict[str, str]:
        return self.timeline.dumps

    @property
    def restart_interval(self) -> int | None:
        return self.timeline.restart_interval

    @property
    def timestep_ps(self) -> float | None:
        return self.timeline.timestep_ps

    def _int_value(self, word: str, variables: dict[str, str], what: str) -> int:
        value = _substitute(word, variables)
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"cannot determine {what} from '{word}' (use a number or a numeric variable)",
                             file=self.file) from None
        if number != int(number) or number < 0:
            raise InputError(f"{what} must be a non-negative integer, got '{value}'", file=self.file)
        return int(number)


def is_fix_external(cmd: Command) -> bool:
    """``fix ID group external pf/callback ...``."""
    return cmd.name == "fix" and len(cmd.words) >= 5 and cmd.words[3] == "external" and cmd.words[4] == "pf/callback"


def _substitute(word: str, variables: dict[str, str]) -> str:
    def repl(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return variables.get(name, match.group(0))

    return _VAR_REF.sub(repl, word)


def parse_deck_text(text: str, file: Path | str = "in.lammps") -> Deck:
    """The :class:`Deck` of LAMMPS input ``text`` (``file`` names it in errors)."""
    commands = [Command(line, split_words(line), section) for section, line in _logical(text)]
    return Deck([c for c in commands if c.words], file)


def read_deck(path: Path | str) -> Deck:
    """The :class:`Deck` of the LAMMPS input file ``path``; InputError if it cannot be read."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read the deck: {err}", file=path) from None
    return parse_deck_text(text, path)
