"""The one reader of LAMMPS input text (elbench.deck_reader) and of the type-map header (elbench.type_map)."""

from __future__ import annotations

from pathlib import Path

import pytest

from elbench import type_map
from elbench.deck_reader import logical_lines, parse_deck_text, read_deck, split_words, strip_comment
from elbench.errors import InputError

DECK = """\
# elbench:section setup
units metal
atom_style atomic   # comment
read_data "my system.data"  # quoted path with a space
variable neq equal 100
# elbench:section potential
pair_style zero 4.5
pair_coeff * *
fix elbench_ext all external pf/callback 1 1
fix_modify elbench_ext energy yes virial yes
fix freeze frozen setforce 0.0 0.0 &
   0.0
print "step #1 done" # a comment after a quoted '#'
print 'it''s #2'
timestep 0.0005
run ${neq}
dump traj all dcd 10 traj.dcd
restart 50 restart.a restart.b
run 300
"""


def test_continuations_are_joined():
    lines = logical_lines("fix a all &\n  nve\nrun 1 &\n")
    assert lines == ["fix a all    nve", "run 1"]
    assert split_words(lines[0]) == ("fix", "a", "all", "nve")


def test_comments_are_removed_but_quoted_hash_is_kept():
    assert strip_comment("atom_style atomic   # comment") == "atom_style atomic   "
    assert strip_comment('print "step #1 done" # a comment') == 'print "step #1 done" '
    assert strip_comment("print 'a # b' # c") == "print 'a # b' "
    assert strip_comment("# only a comment") == ""
    deck = parse_deck_text(DECK)
    prints = [c.text for c in deck.named("print")]
    assert prints[0] == 'print "step #1 done"'
    assert all("#" not in c.text for c in deck.commands if c.name != "print")


def test_words_are_shell_like():
    deck = parse_deck_text(DECK)
    assert deck.named("print")[0].words == ("print", "step #1 done")
    assert split_words('print "unbalanced') == ("print", '"unbalanced')  # falls back to whitespace


def test_read_data_fix_external_pair_styles_and_sections(tmp_path: Path):
    (tmp_path / "in.lammps").write_text(DECK)
    deck = read_deck(tmp_path / "in.lammps")
    assert deck.read_data() == "my system.data"
    assert [c.words[1] for c in deck.fix_externals()] == ["elbench_ext"]
    assert deck.pair_styles() == ["zero"]
    assert deck.atom_style() == "atomic"
    assert [c.name for c in deck.section("setup")] == ["units", "atom_style", "read_data", "variable"]
    assert deck.section("potential")[0].text == "pair_style zero 4.5"
    assert "fix freeze frozen setforce 0.0 0.0 0.0" in [" ".join(c.words) for c in deck.commands]


def test_timeline_run_lengths_dumps_restart_timestep():
    deck = parse_deck_text(DECK)
    assert deck.run_ends == [100, 400] and deck.total_steps == 400
    assert deck.dumps == {"traj": "traj.dcd"}
    assert deck.restart_interval == 50
    assert deck.timestep_ps == pytest.approx(0.0005)
    assert parse_deck_text("run 10\nrun 50 upto\nrun 5\n").run_ends == [10, 50, 55]


def test_missing_read_data_and_bad_run_length_are_input_errors(tmp_path: Path):
    deck = parse_deck_text("units metal\nrun ${n}\n", tmp_path / "in.lammps")
    with pytest.raises(InputError, match="no read_data"):
        deck.read_data()
    with pytest.raises(InputError, match="run length"):
        deck.run_ends
    with pytest.raises(InputError, match="cannot read"):
        read_deck(tmp_path / "absent.lammps")


def test_type_map_round_trip_writer_to_reader(tmp_path: Path):
    line = type_map.header_line(["Au", "O", "H", "Na"])
    assert line == "# elbench type_map: Au O H Na"
    assert type_map.parse_line(line) == ["Au", "O", "H", "Na"]
    assert type_map.from_text(f"{line}\n\n10 atoms\n") == ["Au", "O", "H", "Na"]
    data = tmp_path / "system.data"
    data.write_text(f"LAMMPS data file\n{line}\n\n10 atoms\n")
    assert type_map.read_header(data) == ["Au", "O", "H", "Na"]
    assert type_map.from_text("LAMMPS data file\n\n10 atoms\n") is None
    # only the head of a file is searched
    assert type_map.from_text("\n" * type_map.HEADER_LINES + line) is None


@pytest.mark.parametrize("header, needle", [
    ("# elbench type_map:", "no elements"),
    ("# elbench type_map:   ", "no elements"),
    ("# elbench type_map: Au Ow H Na", "Ow not element symbols"),
])
def test_malformed_type_map_header_is_refused(tmp_path: Path, header: str, needle: str):
    data = tmp_path / "system.data"
    data.write_text(f"{header}\n\n10 atoms\n")
    with pytest.raises(InputError, match=needle) as err:
        type_map.read_header(data)
    assert str(data) in str(err.value) and "type_map" in str(err.value)
