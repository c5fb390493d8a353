"""Pure-Python parts of the launcher: segment decks, bounds, log parsing, blow-up checks, joining."""

from __future__ import annotations

import numpy as np
import pytest

from elbench.errors import InputError
from elbench.launch.blowup import BlowupLimits, check_frame, check_thermo
from elbench.launch.logparse import LogState, parse_line
from elbench.launch.segments import parse_deck, segment_bounds, segment_deck
from elbench.launch.trajectory import FrameRef, TrajIndex, select_frames

DECK = """units metal
read_data system.data  # the copied data file
variable neq equal 100
velocity mobile create 300.0 7 dist gaussian
fix integrate mobile nvt temp 300 300 0.05
timestep 0.0005
run ${neq}
dump traj all dcd 10 traj.dcd
restart 50 restart.a restart.b
run 300
write_restart restart.final
"""


def test_parse_deck_timeline_and_dumps():
    deck = parse_deck(DECK)
    assert deck.run_ends == [100, 400]
    assert deck.total_steps == 400
    assert deck.dumps == {"traj": "traj.dcd"}
    assert deck.restart_interval == 50
    assert deck.timestep_ps == pytest.approx(0.0005)


def test_segment_bounds_align_to_restart_interval():
    assert segment_bounds(400, None, 50) == [400]
    assert segment_bounds(400, 120, 50) == [150, 300, 400]
    assert segment_bounds(400, 400, 50) == [400]
    assert segment_bounds(1000, 10, 100) == list(range(100, 1001, 100))


def test_first_segment_deck_stops_at_segment_end():
    text = segment_deck(parse_deck(DECK), index=1, start_step=0, end_step=150, restart_from=None,
                        restart_interval=50)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines[0] == "log segments/001.log.lammps"
    assert "read_data system.data  # the copied data file" not in lines  # comments stripped
    assert "read_data system.data" in lines
    assert any(line.startswith("velocity mobile create") for line in lines)
    assert "run 100 upto" in lines and "run 150 upto" in lines
    assert "dump traj all dcd 10 segments/001.traj.dcd" in lines
    assert "restart 50 restart.a restart.b" in lines
    assert "write_restart restart.final" not in lines  # only the last segment reaches the end


def test_resumed_segment_deck_reads_restart_and_skips_done_stages():
    text = segment_deck(parse_deck(DECK), index=3, start_step=250, end_step=400, restart_from="restart.b",
                        restart_order=("restart.a", "restart.b"), restart_interval=50)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert "read_restart restart.b" in lines
    assert not any(line.startswith("read_data") or "create" in line for line in lines)
    assert "run 400 upto" in lines and not any(line.startswith("run 100") for line in lines)
    assert lines[-1] == "write_restart restart.final"
    # the restart command precedes the first run that executes
    assert lines.index("restart 50 restart.a restart.b") < lines.index("run 400 upto")


@pytest.mark.parametrize(
    "deck, words",
    [
        ("read_data x\nrun 10\nreset_timestep 0\nrun 10\n", "reset_timestep"),
        ("read_data x\nvariable n equal v_a*2\nrun ${n}\n", "run length"),
        ("read_data x\ninclude other.lammps\nrun 5\n", "include"),
        ("read_data x\n", "no 'run'"),
    ],
)
def test_unsegmentable_decks_are_refused(deck, words):
    with pytest.raises(InputError, match=words):
        parse_deck(deck, "in.lammps")


def test_log_lines_parsed_into_rows_errors_and_performance():
    st = LogState()
    lines = [
        "LAMMPS (22 Jul 2025 - Update 4)",
        "   Step          Time           Temp          PotEng",
        "       100   0.05           301.5         -1234.5",
        "       110   0.055          nan           -1234.5",
        "Loop time of 0.1 on 1 procs for 10 steps with 36 atoms",
        "Performance: 123.4 ns/day, 0.19 hours/ns, 1.0 timesteps/s",
        "ERROR: Lost atoms: original 36 current 35 (src/thermo.cpp:494)",
    ]
    rows = [r for r in (parse_line(line, st) for line in lines) if r is not None]
    assert [r["Step"] for r in rows] == [100, 110]
    assert rows[0]["Temp"] == pytest.approx(301.5)
    assert st.ns_per_day == pytest.approx(123.4)
    assert st.error.startswith("ERROR: Lost atoms")
    assert st.lammps_version == "22 Jul 2025 - Update 4"
    limits = BlowupLimits(max_temperature_K=1000.0)
    assert check_thermo(rows[0], limits) is None
    bad = check_thermo(rows[1], limits)
    assert bad.step == 110 and "Temp" in bad.reason
    hot = check_thermo({"Step": 120.0, "Temp": 1500.0}, limits)
    assert hot.step == 120 and "1500 K" in hot.reason


def _waters(n: int, box: float, rng) -> np.ndarray:
    """n water molecules (O, H, H) on a grid, O-H 0.96 A."""
    xyz = []
    grid = int(np.ceil(n ** (1 / 3)))
    spacing = box / grid
    for i in range(n):
        o = (np.array(np.unravel_index(i, (grid,) * 3)) + 0.5) * spacing
        xyz += [o, o + [0.96, 0, 0], o + [-0.24, 0.93, 0]]
    return np.array(xyz) + rng.normal(0, 0.01, (3 * n, 3))


def test_frame_checks_find_close_atoms_and_broken_waters():
    rng = np.random.default_rng(3)
    box = np.array([12.0, 12.0, 12.0])
    xyz = _waters(27, 12.0, rng)
    types = np.tile([2, 3, 3], 27)
    tmap = ["Au", "O", "H", "Na"]
    limits = BlowupLimits(min_distance_A=0.6, max_broken_water_fraction=0.1)
    assert check_frame(10, xyz, box, types, tmap, limits) is None
    # periodic images count: an O next to the far wall meets an H across the boundary
    close = xyz.copy()
    close[0] = [0.1, 5.0, 5.0]
    close[4] = [11.8, 5.0, 5.0]  # 0.3 A from atom 0 through the x boundary
    fail = check_frame(20, close, box, types, tmap, limits)
    assert fail.step == 20 and "closer than 0.6" in fail.reason
    broken = xyz.copy()
    for k in range(4):  # 4 of 27 waters (15 %) lose a proton
        broken[3 * k + 1] += [2.0, 2.0, 2.0]
    fail = check_frame(30, broken, box, types, tmap, limits)
    assert fail is not None and "water dissociation" in fail.reason and "15%" in fail.reason
    assert check_frame(30, broken, box, types, tmap, BlowupLimits(max_broken_water_fraction=0.2)) is None
    lost = check_frame(40, xyz[:-3], box, types, tmap, limits)
    assert "lost atoms" in lost.reason


def _index(name: str, steps: list[int]) -> TrajIndex:
    from pathlib import Path

    return TrajIndex(Path(name), "text", b"", [FrameRef(s, 0, 0) for s in steps])


def test_select_frames_keeps_each_step_once_after_a_crash():
    # segment 1: 100..150 complete; segment 2 started at 150, killed after dumping up to 230;
    # newest restart was 200, so segment 3 starts at 200 and replaces 200..230.
    seg1 = _index("1", list(range(100, 151, 10)))
    seg2 = _index("2", list(range(150, 231, 10)))
    seg3 = _index("3", list(range(200, 301, 10)))
    pieces = select_frames([(seg1, 100), (seg2, 150), (seg3, 200)])
    steps = [f.step for p in pieces for f in p.frames]
    assert steps == list(range(100, 301, 10))
    assert [p.index.path.name for p in pieces] == ["1", "2", "3"]
    # a failed run keeps frames before its first bad step only
    pieces = select_frames([(seg1, 100), (seg2, 150)], stop_step=175)
    assert [f.step for p in pieces for f in p.frames] == list(range(100, 171, 10))
