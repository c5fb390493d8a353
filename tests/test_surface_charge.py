"""Surface charge: one definition (σ = −n·e/A), cation counts across cells, and training σ in the registry/report."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from elbench.build.slab import build_slab, fcc111_area_A2
from elbench.errors import InputError
from elbench.potentials.manifest import load_manifest
from elbench.report.collect import ModelInfo
from elbench.resources import builtin_manifest
from elbench.surface_charge import cations_for_sigma, lateral_area_A2, same_sigma, sigma_uC_cm2

TRAINING_CELL = ("Au", (4, 4))    # tests/data/reference_small.extxyz
QUICKSTART_CELL = ("Au", (6, 8))


def test_sigma_by_hand() -> None:
    # one e on 100 Å² = 1e-14 cm²: 1.602176634e-19 C / 1e-14 cm² = 16.02176634 µC/cm², negative on the metal
    assert sigma_uC_cm2(1, 100.0) == pytest.approx(-16.02176634, rel=1e-12)
    assert sigma_uC_cm2(0, 100.0) == 0.0


def test_area_formula_is_the_built_cell() -> None:
    for metal, repeats in (TRAINING_CELL, QUICKSTART_CELL, ("Pt", (3, 4))):
        assert fcc111_area_A2(metal, repeats) == pytest.approx(build_slab(metal, repeats, 3).area_A2, rel=1e-12)
    cell = np.array([[10.0, 0, 0], [5.0, 8.0, 0], [0, 0, 40.0]])
    assert lateral_area_A2(cell) == pytest.approx(80.0)


def test_cation_count_for_the_same_sigma_on_another_cell() -> None:
    """The quickstart cell is 3x the training cell: n = 4 there is σ = −55.6 µC/cm², n = 12 here."""
    a_train, a_qs = fcc111_area_A2(*TRAINING_CELL), fcc111_area_A2(*QUICKSTART_CELL)
    assert a_qs / a_train == pytest.approx(3.0, rel=1e-12)
    assert sigma_uC_cm2(4, a_train) == pytest.approx(-55.623, abs=1e-3)
    assert cations_for_sigma(sigma_uC_cm2(4, a_train), a_qs) == 12
    assert cations_for_sigma(sigma_uC_cm2(1, a_train), a_qs) == 3
    assert cations_for_sigma(0.0, a_qs) == 0
    assert cations_for_sigma(sigma_uC_cm2(1, a_qs), a_train) is None     # a third of an ion
    assert cations_for_sigma(+5.0, a_qs) is None                         # anions are not counter-ions here


def test_same_sigma_tolerance() -> None:
    assert same_sigma(-55.6, -55.6 * 1.009) and not same_sigma(-55.6, -55.6 * 1.02)
    assert same_sigma(0.0, 0.005) and not same_sigma(0.0, -4.6)


def test_shipped_models_know_their_training_sigma() -> None:
    reg = load_manifest(builtin_manifest())
    q4 = reg.get("dp-q4")
    assert q4.trained_area_A2 == pytest.approx(fcc111_area_A2(*TRAINING_CELL), rel=1e-6)
    assert q4.trained_sigma_uC_cm2 == [pytest.approx(-55.623, abs=1e-3)]
    a_qs = fcc111_area_A2(*QUICKSTART_CELL)

    def trained_at(name: str, n: int, area_A2: float) -> bool:
        """The report's decision for a registry entry (ModelInfo as report.collect.model_info fills it)."""
        entry = reg.get(name)
        info = ModelInfo(name=name, trained_charge_states=list(entry.trained_charge_states),
                         trained_sigma_uC_cm2=entry.trained_sigma_uC_cm2)
        return info.trained_at(n, sigma_uC_cm2(n, area_A2))

    # n = 4 in the quickstart is a different surface charge from the one dp-q4 was trained at
    assert not trained_at("dp-q4", 4, a_qs) and trained_at("dp-q4", 12, a_qs)
    assert trained_at("dp-q4", 4, q4.trained_area_A2)
    assert [n for n in range(5) if trained_at("dp-mixed", n, a_qs)] == [0, 3]
    assert reg.get("dp-tiny").trained_area_A2 is None and trained_at("dp-tiny", 2, a_qs)  # by count
    assert not trained_at("dp-tiny", 1, a_qs)


def test_area_without_states_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "manifest.toml"
    (tmp_path / "m.pb").write_bytes(b"x")
    sha = hashlib.sha256(b"x").hexdigest()
    path.write_text('[[potential]]\nname = "m"\nfamily = "dp"\ntype_map = ["Au", "O", "H", "Na"]\ncutoff_A = 6.0\n'
                    f'trained_area_A2 = 115.2\nfiles = [{{path = "m.pb", sha256 = "{sha}"}}]\n')
    with pytest.raises(InputError, match="trained_area_A2"):
        load_manifest(path)


@pytest.mark.parametrize("states, sigmas, n, sigma, expected", [
    ([4], [-55.62], 4, -18.54, False),   # same count, other σ: open marker
    ([4], [-55.62], 12, -55.62, True),
    ([0, 1, 2, 3, 4], [0.0, -13.9, -27.8, -41.7, -55.6], 2, -9.27, False),
    ([0, 1, 2, 3, 4], [0.0, -13.9, -27.8, -41.7, -55.6], 3, -13.9, True),
    ([0, 2], [], 2, -9.27, True),         # no training cell known: by count
    ([0, 2], [], 1, -4.6, False),
    ([], [], 3, -13.9, True),             # untrained / classical models are never 'outside'
])
def test_report_marks_trained_states_by_sigma(states, sigmas, n, sigma, expected) -> None:
    info = ModelInfo(name="m", trained_charge_states=states, trained_sigma_uC_cm2=sigmas)
    assert info.trained_at(n, sigma) is expected
