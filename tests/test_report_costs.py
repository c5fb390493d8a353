"""Expected-cost table used by `elbench render`: atoms x steps x seconds per atom-step of the family."""

from __future__ import annotations

from typing import get_args

import pytest

from elbench import families
from elbench.costs import cost_entry, device_of, estimate_cost, format_seconds, units_of
from elbench.errors import InputError
from elbench.potentials.manifest import Family
from elbench.templates_campaign import paper_config, quickstart_config


def test_every_registry_family_has_a_cost_on_cpu_and_gpu():
    """Every family the registry schema allows has all four cost rows (tests/test_families.py checks the specs too)."""
    registry_families = get_args(Family)
    for family in registry_families:
        for device in ("cpu", "gpu"):
            for size in ("small", "production"):
                entry = cost_entry(family, device, size)
                assert entry.seconds_per_atom_step > 0
                assert entry.source.startswith(("measured here", "estimate"))
    assert set(families.names()) == set(registry_families)


def test_estimate_is_atoms_times_steps_times_rate():
    est = estimate_cost("mace", 200, 1000, size="small")
    assert est.atom_steps == 200_000
    assert est.seconds == pytest.approx(200_000 * 3.3e-4)
    assert est.human == "66 s on 1 core"
    four = estimate_cost("mace", 200, 1000, size="small", units=4, runs=2)
    assert four.seconds == pytest.approx(est.seconds / 2)


def test_paper_campaign_runs_on_gpus_quickstart_on_cpu():
    paper, quick = paper_config(), quickstart_config()
    assert device_of(paper.lammps, paper.slurm) == "gpu"
    assert device_of(quick.lammps, quick.slurm) == "cpu"
    assert units_of(paper.lammps, "gpu") == 1
    gpu = estimate_cost("mace", 3000, paper.md.production_steps, device="gpu")
    cpu = estimate_cost("mace", 3000, paper.md.production_steps, device="cpu")
    assert cpu.seconds > 100 * gpu.seconds


def test_format_seconds():
    assert format_seconds(30) == "30 s"
    assert format_seconds(600) == "10 min"
    assert format_seconds(3 * 3600) == "3 h"
    assert format_seconds(10 * 86400) == "10 d"


def test_bad_input():
    with pytest.raises(InputError, match="family"):
        estimate_cost("lj", 10, 10)
    with pytest.raises(InputError):
        estimate_cost("mace", -1, 10)


def test_campaign_run_cost():
    from elbench.costs import estimate_run_cost

    paper = paper_config()
    est = estimate_run_cost(paper, "mace", 3000, paper.md.production_steps, runs=15)
    assert (est.device, est.size, est.units) == ("gpu", "production", 1)
    assert est.seconds == pytest.approx(3000 * paper.md.production_steps * 15 * 1e-5)
    quick = quickstart_config()
    small = estimate_run_cost(quick, "reference", 558, 10000)
    assert (small.device, small.size) == ("cpu", "small")
    assert small.seconds == pytest.approx(558 * 10000 * 5.3e-6)


def test_bridge_costs_more_than_native_for_small_cpu_models():
    native = estimate_cost("ace", 558, 10000, size="small")
    bridge = estimate_cost("ace", 558, 10000, size="small", engine="bridge")
    assert bridge.seconds > 10 * native.seconds
    assert bridge.source.startswith("measured here")
