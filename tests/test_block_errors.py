"""Block standard errors (analysis/blocks.py): a mean and its error come from the same blocks.

A block with no water in a bin still counts: it contributes 0 to ρ·⟨cos θ⟩ and
nothing to ⟨cos θ⟩'s pooled sums (issue 18). Expected numbers are worked out by
hand from the per-block values the trajectory is built with.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.constants import Avogadro

from analysis_cases import Z_TOP, slab, write_case
from elbench.analysis.blocks import BlockRatio, estimate, sem
from elbench.analysis.density import water_molar_mass
from elbench.analysis.interface import InterfaceAnalysis
from elbench.analysis.readers import open_trajectory

# Two waters, A and B, 10 frames, 5 blocks of 2 frames. (d in Å, cos θ) of A and B per block:
# the bin at d = 5.25 holds 0, 0, 1, 2, 1 waters; blocks 0 and 1 have no water there.
PER_BLOCK = [
    ((12.25, 0.1), (14.25, 0.3)),
    ((12.25, 0.1), (14.25, 0.3)),
    ((5.25, 0.6), (14.25, 0.3)),
    ((5.25, 0.8), (5.25, 0.4)),
    ((5.25, -0.2), (14.25, 0.3)),
]


def _empty_blocks_case(tmp_path, **kw):
    metal, lx, ly = slab()
    xy = np.array([[0.25 * lx, 0.25 * ly], [0.75 * lx, 0.75 * ly]])
    oxygen, dipoles = [], []
    for block in PER_BLOCK:
        o = np.column_stack([xy, [Z_TOP + d for d, _ in block]])
        dip = np.array([[np.sqrt(1 - c * c), 0.0, c] for _, c in block])
        oxygen += [o, o]
        dipoles += [dip, dip]
    data, traj, _ = write_case(tmp_path, oxygen, dipoles, metal=metal, lx=lx, ly=ly)
    opened = open_trajectory(traj, data)
    res = InterfaceAnalysis(opened.universe.atoms, type_map=opened.data.type_map, n_blocks=5, **kw).run().results
    return res, lx * ly


def test_rho_cos_and_cos_errors_count_blocks_without_water(tmp_path):
    res, area = _empty_blocks_case(tmp_path)
    prof = res.profiles["top"]
    assert res.info["block_frames"] == [2, 2, 2, 2, 2]
    k = int(np.argmin(np.abs(prof["z_A"] - 5.25)))
    assert prof["z_A"][k] == pytest.approx(5.25)
    u = water_molar_mass() / Avogadro / (area * 0.1) * 1e24  # g cm⁻³ of one water per frame in the bin
    # ρ_b·⟨cos θ⟩_b / u = [0, 0, 0.6, 1.2, -0.2]: mean 0.32; deviations -0.32 -0.32 0.28 0.88 -0.52,
    # Σ² = 1.328, SE = sqrt(1.328 / 4 / 5) = sqrt(0.0664). (The old code dropped blocks 0 and 1:
    # SE of [0.6, 1.2, -0.2] = sqrt(0.1644…) = 0.4055.)
    assert prof["rho_cos_theta_g_cm3"][k] == pytest.approx(0.32 * u, rel=1e-5)
    assert prof["rho_cos_theta_g_cm3_err"][k] == pytest.approx(np.sqrt(0.0664) * u, rel=1e-5)
    # ⟨cos θ⟩ pooled: Σcos = [0, 0, 1.2, 2.4, -0.4], count = [0, 0, 2, 4, 2]; R = 3.2 / 8 = 0.4;
    # residuals Σcos − R·count = [0, 0, 0.4, 0.8, -1.2], mean count 1.6:
    # SE² = (0.4² + 0.8² + 1.2²) / (5·4·1.6²) = 2.24 / 51.2 = 0.04375. (Old: SE of the
    # block ratios [0.6, 0.6, -0.2] = sqrt(0.0711…) = 0.2667.)
    assert prof["cos_theta"][k] == pytest.approx(0.4, abs=2e-6)
    assert prof["cos_theta_err"][k] == pytest.approx(np.sqrt(0.04375), rel=1e-5)
    # a bin no water ever visits: value and errors NaN; a bin filled in every block: 0 scatter
    empty = int(np.argmin(np.abs(prof["z_A"] - 8.25)))
    assert np.isnan(prof["cos_theta"][empty]) and np.isnan(prof["cos_theta_err"][empty])
    assert np.isnan(prof["rho_cos_theta_g_cm3_err"][empty])
    assert prof["rho_water_g_cm3_err"][empty] == 0.0


def test_first_layer_cos_theta_error_counts_blocks_without_water(tmp_path):
    res, _ = _empty_blocks_case(tmp_path, first_layer_max_A=8.0)
    s = res.summary["top"]
    assert s["first_layer_cos_theta"] == pytest.approx(0.4, abs=2e-6)
    assert s["first_layer_cos_theta_err"] == pytest.approx(np.sqrt(0.04375), rel=1e-5)
    assert s["first_layer_cos_theta_blocks"][:2] == [None, None]
    assert s["first_layer_cos_theta_blocks"][2:] == pytest.approx([0.6, 0.6, -0.2], abs=2e-6)


def test_block_ratio_equal_counts_is_plain_sem_and_needs_two_filled_blocks():
    numer = np.array([[1.0, 3.0], [2.0, 0.0], [4.0, 0.0]])
    denom = np.array([[2.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
    r = BlockRatio(numer, denom)
    assert r.value == pytest.approx([7.0 / 6.0, 1.5])
    assert r.err[0] == pytest.approx(sem(numer[:, 0] / 2.0))
    assert np.isnan(r.err[1])  # one block with samples: its scatter is not measurable
    value, err, blocks = estimate(BlockRatio(numer[:, 1], denom[:, 1]))
    assert value == 1.5 and np.isnan(err) and np.isnan(blocks[1:]).all()


def test_sem_drops_no_block():
    assert sem(np.array([1.0, 2.0, 3.0])) == pytest.approx(np.std([1, 2, 3], ddof=1) / np.sqrt(3))
    assert np.isnan(sem(np.array([1.0, np.nan, 3.0])))
    assert np.isnan(sem(np.array([1.0])))
