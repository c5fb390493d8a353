"""Hostile values never reach a deck: names, paths and numbers are validated on the way in."""

from __future__ import annotations

import math
from pathlib import Path

import jinja2
import pytest

from elbench.errors import InputError
from elbench.render import validate
from elbench.render.deck import deck_context, pair_context, render_deck
from elbench.render.environment import environment
from elbench.render.system import system_from_dict
from elbench.potentials.styles import pair_style_for

from render_fixtures import CASES, EAM, SYSTEM_JSON, entry, md, system

HOSTILE_WORDS = ["a b", "x;shell rm -rf /", "$(whoami)", "${x}", "a&", "a#b", "a\nshell ls", "'q'", '"q"', "`id`", ""]
HOSTILE_PATHS = ['/m/a"b.pb', "/m/$HOME/a.pb", "/m/a&.pb", "/m/a#b.pb", "/m/a\nshell ls", "/m/a'b", "/m/a;b", "/m/a\\b"]


@pytest.mark.parametrize("value", HOSTILE_WORDS)
def test_words_rejected(value: str) -> None:
    with pytest.raises(InputError):
        validate.word(value)


@pytest.mark.parametrize("value", HOSTILE_PATHS)
def test_paths_rejected(value: str) -> None:
    with pytest.raises(InputError):
        validate.path(value)


def test_paths_are_quoted_and_may_hold_spaces() -> None:
    assert validate.path("/data/my models/a.pb") == '"/data/my models/a.pb"'


@pytest.mark.parametrize("value", [math.nan, math.inf, True, "3", None, [1]])
def test_finalize_refuses_unvalidated_values(value) -> None:
    with pytest.raises(InputError):
        validate.finalize(value if value != "3" else "3 ; shell")
    if value == "3":
        assert validate.finalize("3") == "3"


def test_every_rendered_value_goes_through_finalize() -> None:
    env = environment()
    assert env.from_string("x {{ v }}").render(v="ok") == "x ok"
    with pytest.raises(InputError):
        env.from_string("x {{ v }}").render(v="ok\nshell rm -rf /")
    with pytest.raises(InputError):
        env.from_string("x {{ v }}").render(v="$(id)")


def test_strict_undefined() -> None:
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("{{ missing }}").render()


def _render(e, path_map=None, sys_changes=None):
    s = system(**(sys_changes or {}))
    files = path_map or {"model": [Path("/models/x.pb")]}
    pair = pair_context(e, engine="native", style=pair_style_for(e), files=files, system=s, metal="Au",
                        cation="Na", eam_file=EAM)
    return render_deck(deck_context(md=md(), entry=e, system=s, charge_state=2, seed=7, engine="native", pair=pair))


@pytest.mark.parametrize("bad", HOSTILE_PATHS)
def test_hostile_model_path_stops_the_render(bad: str) -> None:
    e = entry("dp_small", "dp", [("dp/model.pb", "model")])
    with pytest.raises(InputError):
        _render(e, {"model": [Path(bad)]})


def test_hostile_model_name_stops_the_render() -> None:
    e = entry("dp_small", "dp", [("dp/model.pb", "model")])
    object.__setattr__(e, "__dict__", e.__dict__ | {"name": "dp;shell rm"})  # bypass the registry's own check
    with pytest.raises(InputError):
        _render(e)


def test_registry_refuses_hostile_names_and_paths_first() -> None:
    with pytest.raises(Exception):
        entry("bad name", "dp", [("dp/model.pb", "model")])
    with pytest.raises(Exception):
        entry("ok", "dp", [("dp/$(id).pb", "model")])
    with pytest.raises(Exception):
        entry("ok", "dp", [("../outside.pb", "model")])


def test_hostile_eam_path_stops_the_reference() -> None:
    e = CASES["reference_slab"][0]
    s = system()
    with pytest.raises(InputError):
        pair = pair_context(e, engine="native", style=pair_style_for(e), files={}, system=s, metal="Au",
                            cation="Na", eam_file=Path('/x/"; shell id; "'))
        render_deck(deck_context(md=md(), entry=e, system=s, charge_state=2, seed=7, engine="native", pair=pair))


@pytest.mark.parametrize("key,value", [
    ("type_map", ["Au", "O", "H", "Na;shell"]),
    ("type_map", ["Au", "O", "H"]),
    ("geometry", "slab; shell id"),
    ("n_fixed_atoms", "1:10 shell"),
    ("n_fixed_atoms", -1),
    ("cell_A", [[1, 0, 0], [0, "x", 0], [0, 0, 1]]),
    ("counts", {"atoms": 0}),
])
def test_hostile_system_json_rejected(key, value) -> None:
    with pytest.raises(InputError, match=key.split("_")[0]):
        system_from_dict(dict(SYSTEM_JSON) | {key: value})


def test_seed_and_charge_state_must_be_integers() -> None:
    e = entry("dp_small", "dp", [("dp/model.pb", "model")])
    s = system()
    pair = pair_context(e, engine="native", style=pair_style_for(e), files={"model": [Path("/m/x.pb")]}, system=s,
                        metal="Au", cation="Na")
    with pytest.raises(InputError):
        deck_context(md=md(), entry=e, system=s, charge_state=2, seed="7 shell", engine="native", pair=pair)
    with pytest.raises(InputError):
        deck_context(md=md(), entry=e, system=s, charge_state=-1, seed=7, engine="native", pair=pair)
