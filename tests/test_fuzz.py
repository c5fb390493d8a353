"""Property tests: any campaign, registry or system input gives a valid deck or an InputError.

hypothesis draws campaign dicts (mostly plausible values with hostile ones mixed
in), raw campaign and registry text, registry entries and system.json dicts, and
pushes them through the real loaders and renderers. The only exception allowed is
:class:`InputError` (one line); everything else is a bug. A deck that renders
must read as LAMMPS reads it with no forbidden command and no variable
expansion; a run.sh must give back, through shlex, exactly the argv it was given.
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from elbench.config import parse_campaign, load_campaign
from elbench.errors import InputError
from elbench.potentials.compatibility import check_cutoff, check_type_map
from elbench.potentials.manifest import load_manifest
from elbench.potentials.styles import pair_style_for
from elbench.render.command import render_run_script
from elbench.render.deck import deck_context, pair_context, render_deck
from elbench.render.system import system_from_dict

from render_fixtures import EAM, SYSTEM_JSON, files_of, system
from test_injection import assert_safe_deck

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])
FUZZ_MORE = settings(FUZZ, max_examples=200)

HOSTILE_TEXT = st.sampled_from(["", " ", "a b", "x\nshell id", "$(id)", "${x}", "a&", "#", "'", '"', "shell", "include",
                                "..", "/abs/path", "Au", "Na", "reference", "é", "\x00", "a" * 70])
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    HOSTILE_TEXT,
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=4), st.dictionaries(st.text(max_size=6), SCALARS, max_size=2))



def plausible_number(lo: float, hi: float) -> st.SearchStrategy:
    return st.one_of(st.floats(min_value=lo, max_value=hi), st.integers(min_value=int(lo), max_value=int(hi)))


def section(plausible: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """A campaign section: some keys with plausible values, some with anything, now and then an unknown key."""
    return st.builds(lambda a, b: a | b, st.fixed_dictionaries({}, optional={k: mostly(v) for k, v in plausible.items()}),
                     mostly(st.just({}), st.dictionaries(st.sampled_from(["colour", "temprature_K", "x"]), VALUES,
                                                         min_size=1, max_size=1)))


def mostly(plausible: st.SearchStrategy, other: st.SearchStrategy | None = None) -> st.SearchStrategy:
    """The plausible strategy about 7 times in 8, else ``other`` (anything)."""
    return st.one_of(*[plausible] * 7, other if other is not None else VALUES)


MD = section({
    "temperature_K": mostly(st.floats(1, 1000), plausible_number(-10, 6000)),
    "timestep_fs": mostly(st.floats(0.1, 2), plausible_number(-1, 6)),
    "thermostat": mostly(st.sampled_from(["csvr", "nose-hoover"]), st.just("berendsen")),
    "thermostat_damping_fs": mostly(st.floats(1, 1000), plausible_number(-1, 2e5)),
    "equilibration_ps": mostly(st.floats(0, 10), st.one_of(plausible_number(-1, 100), st.floats())),
    "production_ps": mostly(st.floats(0, 10), st.one_of(plausible_number(-1, 100), st.floats())),
    "dump_interval_steps": mostly(st.integers(1, 1000), plausible_number(-1, 1e4)),
    "thermo_interval_steps": mostly(st.integers(1, 1000), plausible_number(-1, 1e4)),
    "restart_interval_steps": mostly(st.integers(1, 10000), plausible_number(-1, 1e5)),
    "segment_ps": mostly(st.floats(0.01, 10), plausible_number(-1, 50)),
    "seeds": mostly(st.lists(st.integers(1, 2**31 - 1), min_size=1, max_size=3, unique=True),
                    st.lists(st.integers(-5, 2**32), max_size=3)),
    "dump_format": mostly(st.sampled_from(["dcd", "xtc", "custom"]), st.just("pdb")),
})
SYSTEM = section({
    "metal": mostly(st.just("Au"), st.sampled_from(["Pt", "Cu", "Xx", "au"])),
    "cation": mostly(st.just("Na"), st.sampled_from(["K", "Li", "Cl", "na"])),
    "repeats": mostly(st.tuples(st.integers(1, 12), st.integers(1, 6).map(lambda k: 2 * k)).map(list),
                      st.lists(st.integers(-2, 50), min_size=0, max_size=3)),
    "layers": mostly(st.integers(3, 6), st.integers(-1, 14)),
    "fixed_layers": mostly(st.integers(0, 2), st.integers(-1, 14)),
    "water_thickness_A": mostly(st.floats(4, 30), plausible_number(-1, 250)),
    "charge_states": mostly(st.lists(st.integers(0, 8), min_size=1, max_size=5, unique=True),
                            st.lists(st.integers(-2, 70), max_size=6)),
    "geometry": mostly(st.sampled_from(["slab", "sandwich"]), st.just("tube")),
    "seed": mostly(st.integers(0, 2**31 - 1), st.integers(-1, 2**32)),
})
LAMMPS = section({
    "binary": mostly(st.just("auto"), HOSTILE_TEXT),
    "launcher": mostly(st.sampled_from(["mpirun", "srun", "none"]), st.just("ssh")),
    "mpi_ranks": mostly(st.integers(1, 64), st.integers(-1, 5000)),
    "engine": mostly(st.sampled_from(["auto", "native", "bridge"]), st.just("both")),
})
SLURM = section({
    "partition": mostly(st.just("gpu"), HOSTILE_TEXT), "account": mostly(st.just("proj1"), HOSTILE_TEXT),
    "time": mostly(st.sampled_from(["1:00:00", "2-00:00:00"]), st.sampled_from(["1h", "x", "1:00:00\nrm"])),
    "setup_lines": mostly(st.just(["module load lammps"]), st.lists(HOSTILE_TEXT, max_size=3)),
})
CAMPAIGN = st.builds(
    lambda top, md, sy, la, sl: top | {k: v for k, v in (("md", md), ("system", sy), ("lammps", la), ("slurm", sl)) if v},
    st.fixed_dictionaries({}, optional={"name": mostly(st.just("camp"), HOSTILE_TEXT),
                                        "models": mostly(st.just(["reference"]), st.lists(HOSTILE_TEXT, max_size=2)),
                                        "manifest": mostly(st.just("builtin"), HOSTILE_TEXT)}),
    MD, SYSTEM, LAMMPS, SLURM,
)


def one_line(err: InputError) -> None:
    assert "\n" not in str(err) and str(err).strip()


def render_reference(md) -> str:
    from render_fixtures import CASES

    e = CASES["reference_slab"][0]
    s = system()
    pair = pair_context(e, engine="native", style=pair_style_for(e), files={}, system=s, metal="Au", cation="Na",
                        eam_file=EAM)
    return render_deck(deck_context(md=md, entry=e, system=s, charge_state=2, seed=md.seeds[0], engine="native",
                                    pair=pair))


@FUZZ_MORE
@given(data=CAMPAIGN)
def test_campaign_dict_gives_config_and_deck_or_input_error(data: dict) -> None:
    try:
        cfg = parse_campaign(data, "fuzz.toml")
    except InputError as err:
        one_line(err)
        return
    try:
        deck = render_reference(cfg.md)
    except InputError as err:
        one_line(err)
        return
    event("deck rendered")
    commands = assert_safe_deck(deck)
    runs = [int(c[1]) for c in commands if c[0] == "run"]
    assert runs[-1] == cfg.md.production_steps > 0
    timestep = next(float(c[1]) for c in commands if c[0] == "timestep")
    assert math.isclose(timestep, cfg.md.timestep_fs / 1000.0, rel_tol=1e-9)


@FUZZ
@given(text=st.one_of(st.text(max_size=300), st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                 st.builds(lambda t, k, v: t.replace("{k}", k).replace("{v}", v),
                           st.sampled_from(["[md]\n{k} = {v}\n", "{k} = {v}\n", "[system]\n{k} = {v}\n[system]\n",
                                            "[[md]]\n{k} = {v}\n", "[slurm]\n{k} = [{v}, {v}]\n"]),
                           st.sampled_from(["temperature_K", "name", "seeds", "setup_lines", "metal", "a.b", '"q"']),
                           st.sampled_from(["1", "-1", "nan", "inf", '"x"', "'''a\nb'''", "[1,", "{a=1}", "1979-05-27",
                                            "0x10", "1e999", "true", '"\\u0000"']))))
def test_campaign_text_gives_campaign_or_input_error(text: str, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fz") / "elbench.toml"
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    try:
        load_campaign(path)
    except InputError as err:
        one_line(err)


def toml_value(value) -> str:
    """A TOML rendering of a drawn value (nan/inf as TOML writes them; dicts as inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


FAMILIES = st.sampled_from(["dp", "dp-mp", "ace", "grace", "mace", "esen", "reference", "schnet"])
FILE_PATHS = st.sampled_from(["m/model.pb", "m/model.pth", "m/p.yace", "m/p.yaml", "m/x.model",
                              "m/x.model-mliap_lammps.pt", "m/saved_model", "m/e.pt", "m/fs.yaml"])
ENTRY = st.fixed_dictionaries(
    {"name": mostly(st.sampled_from(["m1", "m2"]), HOSTILE_TEXT), "family": FAMILIES,
     "type_map": mostly(st.permutations(["Au", "O", "H", "Na"]),
                        st.lists(st.sampled_from(["Au", "O", "H", "Na", "K", "Xx", "au", ""]), max_size=5)),
     "cutoff_A": mostly(st.floats(1.0, 8.5), st.one_of(plausible_number(-1, 40), st.floats())),
     "files": mostly(st.lists(st.fixed_dictionaries(
         {"path": mostly(FILE_PATHS, HOSTILE_TEXT), "sha256": mostly(st.just("0" * 64), st.just("xyz"))},
         optional={"role": mostly(st.just("model"), st.sampled_from(["active_set", "x"]))}), min_size=1, max_size=2))},
    optional={
        "message_passing_layers": mostly(st.integers(0, 6), st.integers(-1, 20)),
        "pair_style": mostly(st.sampled_from(["deepmd", "pace", "pace/extrapolation", "grace", "grace/fs",
                                              "grace/1l/kk", "mliap", "mace", "eam"]), HOSTILE_TEXT),
        "description": mostly(st.just("d"), HOSTILE_TEXT), "citation": HOSTILE_TEXT,
    },
).flatmap(lambda e: mostly(st.just(e), st.builds(lambda v: e | {"colour": v}, VALUES)))


@FUZZ_MORE
@given(entries=st.lists(ENTRY, max_size=2, unique_by=lambda e: e["name"]), kokkos=st.booleans())
def test_registry_gives_deck_or_input_error(entries: list[dict], kokkos: bool, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("mf") / "manifest.toml"
    path.write_text("".join("[[potential]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in e.items())
                            for e in entries))
    try:
        manifest = load_manifest(path)
    except InputError as err:
        one_line(err)
        return
    s = system()
    for entry in manifest.entries.values():
        engine = "bridge" if entry.family == "esen" else "native"
        try:
            check_type_map(entry, s.type_map)
            check_cutoff(entry, s)
            style = pair_style_for(entry, kokkos=kokkos)
            pair = pair_context(entry, engine=engine, style=style, files=files_of(entry), system=s, metal="Au",
                                cation="Na", kokkos=kokkos, eam_file=EAM)
            from render_fixtures import md

            deck = render_deck(deck_context(md=md(), entry=entry, system=s, charge_state=2, seed=7, engine=engine,
                                            pair=pair))
        except InputError as err:
            one_line(err)
            continue
        event("deck rendered")
        commands = assert_safe_deck(deck)
        assert any(c[0] == "pair_style" for c in commands)


SYSTEM_VALUES = {
    "type_map": st.one_of(st.just(["Au", "O", "H", "Na"]), st.lists(HOSTILE_TEXT, max_size=5), VALUES),
    "geometry": st.one_of(st.sampled_from(["slab", "sandwich"]), HOSTILE_TEXT, VALUES),
    "n_cations": st.one_of(st.integers(-2, 500), VALUES),
    "counts": st.one_of(st.fixed_dictionaries({"atoms": st.integers(-1, 1000)}), VALUES),
    "cell_A": st.one_of(st.lists(st.lists(st.floats(), min_size=3, max_size=3), min_size=3, max_size=3), VALUES),
    "n_fixed_atoms": st.one_of(st.integers(-2, 500), VALUES),
}


@FUZZ
@given(st.fixed_dictionaries({}, optional={k: st.one_of(st.just(SYSTEM_JSON[k]), v) for k, v in SYSTEM_VALUES.items()}))
def test_system_json_gives_deck_or_input_error(changes: dict) -> None:
    from render_fixtures import CASES, md

    try:
        s = system_from_dict(dict(SYSTEM_JSON) | changes)
        e = CASES["deepmd"][0]
        pair = pair_context(e, engine="native", style=pair_style_for(e), files=files_of(e), system=s, metal="Au",
                            cation="Na")
        deck = render_deck(deck_context(md=md(), entry=e, system=s, charge_state=s.n_cations, seed=7,
                                        engine="native", pair=pair))
    except InputError as err:
        one_line(err)
        return
    event("deck rendered")
    commands = assert_safe_deck(deck)
    groups = [c for c in commands if c[:2] == ["group", "frozen"]]
    assert groups == [["group", "frozen", "id", f"1:{s.n_fixed_atoms}"]] if s.n_fixed_atoms else [["group", "frozen",
                                                                                                   "empty"]]


@FUZZ
@given(st.lists(st.text(min_size=1, max_size=15), min_size=1, max_size=5),
       st.dictionaries(st.text(max_size=8), st.text(max_size=15), max_size=3))
def test_run_script_gives_back_the_argv(argv: list[str], env: dict[str, str]) -> None:
    try:
        script = render_run_script({"version": "0", "model": "m1", "charge_state": 0, "seed": 1, "engine": "native",
                                    "env": env, "argv": argv})
    except InputError as err:
        one_line(err)
        return
    lines = script.split("\n")  # as bash splits lines (str.splitlines also splits on \x1e, \x85, ...)
    exec_lines = [ln for ln in lines if ln.startswith("exec ")]
    assert len(exec_lines) == 1
    assert shlex.split(exec_lines[0]) == ["exec", *argv]
    exports = [ln for ln in lines if ln.startswith("export ")]
    assert len(exports) == len(env)
    for line, (key, value) in zip(exports, env.items()):
        assert shlex.split(line) in (["export", f"{key}={value}"], ["export", f"{key}={value}${{{key}:+:${key}}}"])
    assert len(lines) == len(render_run_script(
        {"version": "0", "model": "m1", "charge_state": 0, "seed": 1, "engine": "native", "env": {}, "argv": ["x"]}
    ).split("\n")) + len(env)


MD_VALID_TYPES = st.fixed_dictionaries({}, optional={
    "temperature_K": st.floats(allow_nan=True, allow_infinity=True),
    "timestep_fs": st.floats(allow_nan=True, allow_infinity=True),
    "thermostat_damping_fs": st.floats(allow_nan=True, allow_infinity=True),
    "equilibration_ps": st.floats(allow_nan=True, allow_infinity=True),
    "production_ps": st.floats(allow_nan=True, allow_infinity=True),
    "dump_interval_steps": st.integers(-(2**70), 2**70),
    "thermo_interval_steps": st.integers(-(2**70), 2**70),
    "restart_interval_steps": st.integers(-(2**70), 2**70),
    "seeds": st.lists(st.integers(-(2**40), 2**40), max_size=2),
})


@FUZZ_MORE
@given(md=MD_VALID_TYPES)
def test_md_numbers_of_the_right_type_give_a_runnable_deck_or_input_error(md: dict) -> None:
    """Right types, any magnitude (nan, inf, 1e308, 2^70): the deck's numbers are what LAMMPS accepts."""
    try:
        cfg = parse_campaign({"md": md}, "fuzz.toml")
        deck = render_reference(cfg.md)
    except InputError as err:
        one_line(err)
        return
    event("deck rendered")
    commands = assert_safe_deck(deck)
    for c in commands:
        if c[0] == "run":
            assert 0 < int(c[1]) < 2**31, c  # LAMMPS: 'Invalid run command N value' above MAXSMALLINT
        if c[0] in ("thermo", "restart") or (c[0] == "dump" and len(c) > 4):
            interval = int(c[1] if c[0] != "dump" else c[4])
            assert 0 < interval < 2**31, c
        if c[0] in ("timestep", "fix") and any(w in ("nan", "inf", "-inf") for w in c):
            raise AssertionError(c)
