"""Golden decks: the exact text of every pair block, the GPU variant and the deck variants.

Regenerate after an intended template change with
``ELBENCH_REGEN_GOLDEN=1 python -m pytest tests/test_render_golden.py`` and review
the diff of tests/golden/ before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from elbench.deck_reader import parse_deck_text

from render_fixtures import CASES, render_case

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("ELBENCH_REGEN_GOLDEN") == "1"

VARIANTS = {
    # name: (case, system changes, md changes)
    **{case: (case, {}, {}) for case in CASES},
    "reference_sandwich_nose_hoover": ("reference_slab", {"geometry": "sandwich", "n_cations": 0},
                                       {"thermostat": "nose-hoover"}),
    "deepmd_custom_dump_no_fixed": ("deepmd", {"n_fixed_atoms": 0}, {"dump_format": "custom"}),
    "mace_xtc": ("mace", {}, {"dump_format": "xtc", "equilibration_ps": 0.0}),
    # two-stage campaigns (md.start_from = "reference"): the shared reference equilibration, and an MLIP
    # production (native and bridge) that starts from its last state
    "two_stage_equilibration": ("reference_slab", {}, {"start_from": "reference", "reference_equilibration_ps": 2.0},
                                {"stage": "equilibration"}),
    "two_stage_deepmd": ("deepmd", {}, {"start_from": "reference"}, {"start_file": "start.data"}),
    "two_stage_bridge_esen": ("bridge_esen", {}, {"start_from": "reference"}, {"start_file": "start.data"}),
}


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.lammps"
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"no golden deck {path}; run with ELBENCH_REGEN_GOLDEN=1 to create it"
    assert text == path.read_text(), f"deck {name} differs from {path} (ELBENCH_REGEN_GOLDEN=1 regenerates)"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_golden_deck(name: str) -> None:
    case, sys_changes, md_changes, *deck = VARIANTS[name]
    check_golden(name, render_case(case, sys_changes=sys_changes, md_changes=md_changes, **(deck[0] if deck else {})))


def test_every_golden_file_is_tested() -> None:
    on_disk = {p.stem for p in GOLDEN.glob("*.lammps")}
    assert on_disk == set(VARIANTS), f"stale golden files: {on_disk - set(VARIANTS)}"


def test_deck_structure_numbers() -> None:
    """Numbers that golden files could pin wrongly: steps, timestep, groups, seeds."""
    deck = render_case("deepmd")
    cmds = [list(cmd.words) for cmd in parse_deck_text(deck).commands]
    assert ["timestep", "0.0005"] in cmds
    runs = [int(w[1]) for w in cmds if w[0] == "run"]
    assert runs == [2000, 10000]  # 1 ps and 5 ps at 0.5 fs
    assert ["group", "frozen", "id", "1:48"] in cmds
    assert ["boundary", "p", "p", "f"] in cmds
    # velocities only on the mobile group, from the seed; frozen atoms get zero velocity
    assert ["velocity", "frozen", "set", "0.0", "0.0", "0.0"] in cmds
    vel = next(w for w in cmds if w[:3] == ["velocity", "mobile", "create"])
    assert vel[3:5] == ["300", "7"]
    # the thermostat and thermo use the temperature of the mobile atoms only
    assert ["compute", "mobile_temp", "mobile", "temp"] in cmds
    assert ["thermo_modify", "temp", "mobile_temp", "flush", "yes"] in cmds
    # dump and restart only in production, after the equilibration run
    order = [w[0] for w in cmds]
    first_run = order.index("run")
    assert order.index("dump") > first_run and order.index("restart") > first_run
    assert ["restart", "2000", "restart.a", "restart.b"] in cmds
    # pair_coeff maps types 1..4 by element name in the system's order, not the model's
    assert ["pair_coeff", "*", "*", "Au", "O", "H", "Na"] in cmds


def test_fix_order_keeps_frozen_atoms_frozen() -> None:
    """setforce comes after every force source (fix external in the bridge), the integrator only on mobile."""
    deck = render_case("bridge_esen")
    fixes = [line.split() for line in deck.splitlines() if line.startswith("fix ")]
    ids = [f[1] for f in fixes]
    assert ids.index("elbench_ext") < ids.index("freeze")
    assert ["fix", "elbench_ext", "all", "external", "pf/callback", "1", "1"] in fixes
    for f in fixes:
        if f[3] in ("nve", "nvt", "temp/csvr", "wall/reflect"):
            assert f[2] == "mobile", f
    assert "fix_modify      elbench_ext energy yes virial yes" in deck


def test_slab_and_sandwich_differ_where_they_must() -> None:
    slab = render_case("reference_slab")
    sandwich = render_case("reference_slab", sys_changes={"geometry": "sandwich"})
    assert "kspace_modify   slab 3" in slab and "wall/reflect zhi" in slab and "boundary        p p f" in slab
    assert "kspace_modify" not in sandwich and "wall/reflect" not in sandwich and "boundary        p p p" in sandwich
