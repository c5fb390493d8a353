"""Turn a rendered ``in.lammps`` into the deck of one segment.

A run is one timeline of ``run`` commands (equilibration, production) counted from
timestep 0. A segment covers ``(start, end]`` of that timeline: the first segment
starts from the data file, later ones from a restart file. The segment deck is the
run's own deck with a few commands rewritten, so any deck that follows LAMMPS's
ordinary syntax (one command per line, ``read_data``, ``run N``) can be segmented,
hand-edited ones included:

* ``read_data`` becomes ``read_restart`` when resuming; ``velocity ... create``,
  ``minimize`` and ``reset_timestep`` are dropped then (the restart holds the state);
* every ``run N`` becomes ``run T upto`` with T its end on the timeline, clipped at the
  segment end; stages already done are left out; nothing after the segment end runs;
* every dump writes to a per-segment file ``segments/NNN.<name>``;
* ``restart`` writes two alternating files, the older one first, so a crash while one
  is written keeps the other; ``log`` goes to ``segments/NNN.log.lammps``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from elbench.errors import InputError

RESTART_FILES = ("restart.a", "restart.b")
SEGMENTS_DIR = "segments"


@dataclass
class Command:
    """One LAMMPS command line: the original text and its words."""

    text: str
    words: list[str]

    @property
    def name(self) -> str:
        return self.words[0] if self.words else ""


@dataclass
class Deck:
    """A parsed deck: its commands and where the timeline's runs end."""

    commands: list[Command]
    run_ends: list[int] = field(default_factory=list)
    dumps: dict[str, str] = field(default_factory=dict)  # dump id -> file name
    restart_interval: int | None = None
    timestep_ps: float | None = None

    @property
    def total_steps(self) -> int:
        return self.run_ends[-1] if self.run_ends else 0


def _logical_lines(text: str) -> list[str]:
    """Lines with ``&`` continuations joined and comments removed."""
    out: list[str] = []
    buf = ""
    for raw in text.splitlines():
        line = _strip_comment(raw).rstrip()
        if line.endswith("&"):
            buf += line[:-1] + " "
            continue
        out.append(buf + line)
        buf = ""
    if buf:
        out.append(buf)
    return out


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if ch in "\"'" and quote is None:
            quote = ch
        elif ch == quote:
            quote = None
        elif ch == "#" and quote is None:
            return line[:i]
    return line


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError:
        return line.split()


_VAR_REF = re.compile(r"\$\{(\w+)\}|\$(\w)")


def _substitute(word: str, variables: dict[str, str]) -> str:
    def repl(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return variables.get(name, match.group(0))

    return _VAR_REF.sub(repl, word)


def _int_value(word: str, variables: dict[str, str], file: Path | str, what: str) -> int:
    value = _substitute(word, variables)
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"cannot determine {what} from '{word}' (use a number or a numeric variable)", file=file) from None
    if number != int(number) or number < 0:
        raise InputError(f"{what} must be a non-negative integer, got '{value}'", file=file)
    return int(number)


def parse_deck(text: str, file: Path | str = "in.lammps") -> Deck:
    """Parse ``in.lammps`` into commands, run ends on the timeline and dump files."""
    commands: list[Command] = []
    variables: dict[str, str] = {}
    deck = Deck(commands)
    step = 0
    for line in _logical_lines(text):
        words = _words(line)
        if not words:
            continue
        cmd = Command(line, words)
        commands.append(cmd)
        name = cmd.name
        if name == "variable" and len(words) >= 4 and words[2] in ("index", "equal", "string", "internal"):
            variables.setdefault(words[1], words[3])
        elif name == "run":
            if len(words) < 2:
                raise InputError("'run' without a number of steps", file=file)
            n = _int_value(words[1], variables, file, "run length")
            step = n if "upto" in words[2:] else step + n
            deck.run_ends.append(step)
        elif name == "minimize" and deck.run_ends:
            raise InputError("'minimize' after a 'run' cannot be segmented; minimize before the MD runs", file=file)
        elif name == "reset_timestep" and deck.run_ends:
            raise InputError(
                "'reset_timestep' after a 'run' breaks the run's timeline; count every stage from step 0", file=file
            )
        elif name == "dump" and len(words) >= 6:
            deck.dumps[words[1]] = words[5]
        elif name == "restart" and len(words) >= 2:
            deck.restart_interval = _int_value(words[1], variables, file, "restart interval") or None
        elif name == "timestep" and len(words) >= 2:
            try:
                deck.timestep_ps = float(_substitute(words[1], variables))
            except ValueError:
                pass
        elif name in ("include", "jump", "label", "next"):
            raise InputError(f"'{name}' is not supported in a deck elbench segments (flatten the deck)", file=file)
    if not deck.run_ends:
        raise InputError("the deck has no 'run' command", file=file)
    return deck


def segment_path(index: int, name: str) -> str:
    """Relative path of a per-segment file, e.g. ``segments/002.traj.dcd``."""
    return f"{SEGMENTS_DIR}/{index:03d}.{Path(name).name}"


def segment_bounds(total_steps: int, segment_steps: int | None, restart_interval: int) -> list[int]:
    """Segment end steps on the timeline; each inner end is a multiple of the restart interval."""
    if not segment_steps or segment_steps >= total_steps:
        return [total_steps]
    per = max(restart_interval, -(-segment_steps // restart_interval) * restart_interval)
    ends = list(range(per, total_steps, per))
    return ends + [total_steps]


def segment_deck(
    deck: Deck,
    *,
    index: int,
    start_step: int,
    end_step: int,
    restart_from: str | None,
    restart_order: tuple[str, str] = RESTART_FILES,
    restart_interval: int,
) -> str:
    """The LAMMPS input of one segment: ``(start_step, end_step]`` of the run's timeline."""
    resuming = restart_from is not None
    out = [
        f"# elbench segment {index}: steps {start_step} -> {end_step}"
        + (f", from {restart_from}" if resuming else ", from the data file"),
        f"log {segment_path(index, 'log.lammps')}",
    ]
    run_i = 0
    restart_set = False
    last = end_step >= deck.total_steps
    for cmd in deck.commands:
        name, words = cmd.name, cmd.words
        if name == "log":
            continue
        if name == "read_data" and resuming:
            out.append(f"read_restart {restart_from}")
            continue
        if resuming and (name in ("minimize", "reset_timestep") or (name == "velocity" and "create" in words[2:3])):
            out.append(f"# elbench: resumed from a restart, left out: {cmd.text.strip()}")
            continue
        if name == "restart":
            continue
        if name == "dump" and len(words) >= 6:
            new = list(words)
            new[5] = segment_path(index, words[5])
            out.append(" ".join(new))
            continue
        if name == "run":
            target = deck.run_ends[run_i]
            run_i += 1
            if target <= start_step:
                out.append(f"# elbench: stage done before step {start_step}, left out: {cmd.text.strip()}")
                continue
            if not restart_set:
                out.append(f"restart {restart_interval} {restart_order[0]} {restart_order[1]}")
                restart_set = True
            extra = [w for w in words[2:] if w != "upto"]
            out.append(" ".join(["run", str(min(target, end_step)), "upto", *extra]))
            if target >= end_step and not last:
                break
            continue
        out.append(cmd.text.strip())
    return "\n".join(out) + "\n"
