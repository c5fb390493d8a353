"""Every family spec (elbench.families) is complete: one parametrised check per family.

A family is one Python file in src/elbench/families/, its templates under lammps_inputs/,
its environment script and registry entries (CONTRIBUTING.md, "Adding a family"). This test
is what makes a forgotten piece fail: each problem names the spec's field.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from elbench import families
from elbench.dataset.convert import FORMATS
from elbench.families.spec import (COST_DEVICES, COST_SIZES, GU_MODES, BackendSpec, CostRow, FamilySpec,
                                   ModelFileSpec, PairStyleSpec, TrainingSpec)
from elbench.potentials.manifest import Family
from elbench.resources import templates_dir

REPO = Path(__file__).resolve().parents[1]
#: presets every trainable family has (tiny: CPU tests; paper: clusters)
PRESETS = ("tiny", "paper")


def _text(value, field: str) -> list[str]:
    return [] if isinstance(value, str) and value.strip() else [f"{field}: a non-empty string, got {value!r}"]


def _template(path, field: str) -> list[str]:
    if not isinstance(path, str) or not path:
        return [f"{field}: a template path, got {path!r}"]
    return [] if (templates_dir() / path).is_file() else [f"{field}: lammps_inputs/{path} does not exist"]


def _cost(row, field: str) -> list[str]:
    if not isinstance(row, CostRow):
        return [f"{field}: a CostRow, got {row!r}"]
    bad = []
    if not (isinstance(row.seconds_per_atom_step, float) and row.seconds_per_atom_step > 0):
        bad.append(f"{field}.seconds_per_atom_step: a positive float, got {row.seconds_per_atom_step!r}")
    if not row.source.startswith(("measured here", "estimate")):
        bad.append(f"{field}.source: starts with 'measured here' or 'estimate', got {row.source!r}")
    return bad


def _pair_style(pair, field: str) -> list[str]:
    if not isinstance(pair, PairStyleSpec):
        return [f"{field}: a PairStyleSpec, got {pair!r}"]
    bad = _text(pair.name, f"{field}.name") + _template(pair.template, f"{field}.template")
    if not callable(pair.context):
        bad.append(f"{field}.context: a function of PairInputs")
    for style, needs in pair.lammps_styles():
        if not isinstance(needs, tuple) or not all(isinstance(n, str) and n for n in needs):
            bad.append(f"{field}.build_needs of {style}: a tuple of cmake switches, got {needs!r}")
    if pair.kokkos is not None:
        bad += _text(pair.kokkos, f"{field}.kokkos")
    return bad


def _training(tr, field: str) -> list[str]:
    if not isinstance(tr, TrainingSpec):
        return [f"{field}: a TrainingSpec, got {tr!r}"]
    bad = _template(tr.template, f"{field}.template") + _text(tr.config_file, f"{field}.config_file")
    if tr.data_format not in FORMATS:
        bad.append(f"{field}.data_format: one of {FORMATS}, got {tr.data_format!r}")
    if not tr.commands or not all(isinstance(c, tuple) and c and all(isinstance(w, str) for w in c) for c in tr.commands):
        bad.append(f"{field}.commands: argv tuples, got {tr.commands!r}")
    if not tr.model_files:
        bad.append(f"{field}.model_files: at least one trained file")
    if tr.gu_mode not in GU_MODES:
        bad.append(f"{field}.gu_mode: one of {GU_MODES}, got {tr.gu_mode!r}")
    bad += [f"{field}.presets: needs preset '{p}'" for p in PRESETS if p not in tr.presets]
    if not (isinstance(tr.default_cutoff_A, float) and 2.0 <= tr.default_cutoff_A <= 12.0):
        bad.append(f"{field}.default_cutoff_A: 2-12 Å, got {tr.default_cutoff_A!r}")
    if not callable(tr.curve):
        bad.append(f"{field}.curve: a learning-curve parser")
    key = tr.message_passing_layers_key
    if key is not None and not all(key in p for p in tr.presets.values()):
        bad.append(f"{field}.message_passing_layers_key: '{key}' is not in every preset")
    bad += [f"{field}.closed_form: preset '{p}' does not exist" for p in tr.closed_form if p not in tr.presets]
    return bad


def problems(spec: FamilySpec) -> list[str]:
    """Every missing or ill-typed field of ``spec``, each named (empty: the spec is complete)."""
    if not isinstance(spec, FamilySpec):
        return [f"not a FamilySpec: {spec!r}"]
    bad = _text(spec.name, "name") + _text(spec.title, "title") + _text(spec.environment, "environment")
    if spec.environment != "core" and not (REPO / "scripts" / f"env-{spec.environment}.sh").is_file():
        bad.append(f"environment: scripts/env-{spec.environment}.sh does not exist")
    if not isinstance(spec.costs, dict):
        bad.append(f"costs: a dict of (device, size) -> CostRow, got {spec.costs!r}")
    else:
        for device in COST_DEVICES:
            for size in COST_SIZES:
                bad += _cost(spec.costs.get((device, size)), f"costs[{device}, {size}]")
    if not isinstance(spec.pair_styles, tuple):
        bad.append(f"pair_styles: a tuple of PairStyleSpec, got {spec.pair_styles!r}")
    else:
        bad += [p for i, pair in enumerate(spec.pair_styles) for p in _pair_style(pair, f"pair_styles[{i}]")]
    if spec.backend is None and spec.model is not None:
        bad.append("backend: a family with model files needs a Python backend (BackendSpec)")
    if spec.backend is None and not spec.pair_styles:
        bad.append("pair_styles: a family without a Python backend must run natively")
    if spec.model is not None and not (isinstance(spec.model, ModelFileSpec) and spec.model.description
                                       and callable(spec.model.check)):
        bad.append(f"model: a ModelFileSpec with a description and a check, got {spec.model!r}")
    if spec.backend is not None:
        if spec.model is None:
            bad.append("model: a family with a Python backend has model files (ModelFileSpec)")
        if not isinstance(spec.backend, BackendSpec):
            bad.append(f"backend: a BackendSpec, got {spec.backend!r}")
        else:
            bad += (_text(spec.backend.module, "backend.module") + _text(spec.backend.package, "backend.package")
                    + _text(spec.backend.pip_name, "backend.pip_name"))
            if not callable(spec.backend.calculator):
                bad.append("backend.calculator: a calculator factory")
        bad += _cost(spec.bridge_cost, "bridge_cost")  # every family with a calculator can run through the bridge
        bad += _training(spec.training, "training")
    elif spec.bridge_cost is not None:
        bad.append("bridge_cost: set, but the family has no calculator for the bridge")
    if spec.default_style is not None and not callable(spec.default_style):
        bad.append("default_style: a function of the registry entry")
    if not isinstance(spec.float32, bool) or not isinstance(spec.full_pbc, bool):
        bad.append("float32, full_pbc: booleans")
    if not isinstance(spec.bridge_options, tuple) or not all(isinstance(o, tuple) and len(o) == 2
                                                             for o in spec.bridge_options):
        bad.append(f"bridge_options: (key, value) pairs, got {spec.bridge_options!r}")
    return bad


@pytest.mark.parametrize("name", families.names())
def test_family_spec_is_complete(name: str) -> None:
    spec = families.get(name)
    assert spec.name == name
    assert problems(spec) == []


def test_each_family_file_exports_its_spec() -> None:
    """One file per family, named after it, exporting SPEC; the registry lists exactly those."""
    files = {p.stem for p in (REPO / "src" / "elbench" / "families").glob("*.py")} - {"__init__", "spec"}
    assert files == {name.replace("-", "_") for name in families.names()}


def test_the_registry_schema_allows_exactly_the_families() -> None:
    from typing import get_args

    assert get_args(Family) == families.names()


def test_unknown_family_names_the_allowed_ones() -> None:
    from elbench.errors import InputError

    with pytest.raises(InputError, match="schnet") as err:
        families.get("schnet")
    assert err.value.allowed == ", ".join(families.names())


@pytest.mark.parametrize("field, value, named", [
    ("environment", "", "environment"),
    ("environment", "nequip", "scripts/env-nequip.sh"),
    ("costs", {}, "costs[cpu, small]"),
    ("bridge_cost", None, "bridge_cost"),
    ("training", None, "training"),
    ("title", None, "title"),
])
def test_a_spec_missing_a_field_names_it(field: str, value, named: str) -> None:
    broken = dataclasses.replace(families.get("mace"), **{field: value})
    assert any(p.startswith(named) or named in p for p in problems(broken)), problems(broken)


def test_broken_parts_are_named() -> None:
    mace = families.get("mace")
    no_paper = dataclasses.replace(mace.training, presets={"tiny": mace.training.presets["tiny"]})
    assert "training.presets: needs preset 'paper'" in problems(dataclasses.replace(mace, training=no_paper))
    bad_template = dataclasses.replace(mace.pair_styles[0], template="pair/nequip.j2")
    assert "pair_styles[0].template: lammps_inputs/pair/nequip.j2 does not exist" in problems(
        dataclasses.replace(mace, pair_styles=(bad_template,)))
    no_factory = dataclasses.replace(mace.backend, calculator=None)
    assert "backend.calculator: a calculator factory" in problems(dataclasses.replace(mace, backend=no_factory))
