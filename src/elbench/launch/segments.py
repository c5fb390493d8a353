"""Turn a rendered ``in.lammps`` into the deck of one segment.

A run is one timeline of ``run`` commands (equilibration, production) counted from
timestep 0. A segment covers ``(start, end]`` of that timeline: the first segment
starts from the data file, later ones from a restart file. The segment deck is the
run's own deck with a few commands rewritten, so any deck that follows LAMMPS's
ordinary syntax (one command per line, ``read_data``, ``run N``) can be segmented,
hand-edited ones included. The deck is read by :mod:`elbench.deck_reader`; this module
only rewrites it:

* ``read_data`` becomes ``read_restart`` when resuming; ``velocity ... create``,
  ``minimize`` and ``reset_timestep`` are dropped then (the restart holds the state);
* every ``run N`` becomes ``run T upto`` with T its end on the timeline, clipped at the
  segment end; stages already done are left out; nothing after the segment end runs;
* every dump writes to a per-segment file ``segments/NNN.<name>``;
* ``restart`` writes two alternating files, the older one first, so a crash while one
  is written keeps the other; ``log`` goes to ``segments/NNN.log.lammps``.
"""

from __future__ import annotations

from pathlib import Path

from elbench.deck_reader import Deck, parse_deck_text
from elbench.errors import InputError
from elbench.run_record import RESTART_FILES

SEGMENTS_DIR = "segments"


#: commands a segmented deck cannot hold (the segment decks are flat copies of in.lammps)
UNSUPPORTED = ("include", "jump", "label", "next")


def parse_deck(text: str, file: Path | str = "in.lammps") -> Deck:
    """Read ``in.lammps`` (:mod:`elbench.deck_reader`) and check that it can be cut into segments."""
    deck = parse_deck_text(text, file)
    seen_run = False
    for cmd in deck.commands:
        if cmd.name == "run":
            seen_run = True
        elif cmd.name == "minimize" and seen_run:
            raise InputError("'minimize' after a 'run' cannot be segmented; minimize before the MD runs", file=file)
        elif cmd.name == "reset_timestep" and seen_run:
            raise InputError(
                "'reset_timestep' after a 'run' breaks the run's timeline; count every stage from step 0", file=file
            )
        elif cmd.name in UNSUPPORTED:
            raise InputError(f"'{cmd.name}' is not supported in a deck elbench segments (flatten the deck)", file=file)
    if not deck.run_ends:  # reads the timeline: a run length it cannot determine is an InputError here
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
