"""Total dipole per frame and angular distributions per layer (analysis/dipole.py): known answers."""

from __future__ import annotations

import numpy as np
import pytest

from analysis_cases import Z_TOP, grid_xy, slab, write_case
from elbench.analysis.dipole import TOTAL_DIPOLE_BIN_PER_NM2, GrowingHistogram
from elbench.analysis.interface import InterfaceAnalysis
from elbench.analysis.orientation import N_COS_BINS, cos_bin_centers
from elbench.analysis.readers import open_trajectory

# (distance from the surface Å, number of waters, cos θ): a first layer, a second layer, bulk, far water
GROUPS = ((2.05, 8, 0.62), (4.05, 6, -0.32), (6.25, 10, 0.12), (12.05, 10, 0.12))  # cos θ off the bin edges
N_FRAMES = 10


def _case(tmp_path):
    metal, lx, ly = slab()
    oxygen, dipole = [], []
    for d, n, c in GROUPS:
        xy = grid_xy(n, lx, ly)
        # a little lateral offset per group so no two O sit above one another
        oxygen.append(np.column_stack([xy + 0.3 * len(oxygen), np.full(n, Z_TOP + d)]))
        dipole.append(np.tile([np.sqrt(1 - c * c), 0.0, c], (n, 1)))
    o, dip = np.vstack(oxygen), np.vstack(dipole)
    data, traj, _ = write_case(tmp_path, [o] * N_FRAMES, [dip] * N_FRAMES, metal=metal, lx=lx, ly=ly)
    return data, traj, lx * ly


def _run(data, traj, **kw):
    opened = open_trajectory(traj, data)
    return InterfaceAnalysis(opened.universe.atoms, type_map=opened.data.type_map, **kw).run()


def _bin_of(value: float, width: float, lo: float) -> int:
    return int(np.floor((value - lo) / width))


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("window", [None, (0.0, 3.0)])
def test_total_dipole_known_answer(tmp_path, compiled, window):
    """N waters with cos θ = c in the first layer on area A: Σ cos θ / A = N c / A in every frame."""
    data, traj, area = _case(tmp_path)
    res = _run(data, traj, compiled=compiled, first_layer_A=window).results
    s = res.summary["top"]
    assert s["first_layer_boundary_A"] < 4.0
    layer = GROUPS[0][1] * GROUPS[0][2] / area * 100.0
    slab_total = sum(n * c for _, n, c in GROUPS) / area * 100.0
    assert s["first_layer_total_dipole_per_nm2"] == pytest.approx(layer, rel=1e-5)
    assert s["first_layer_total_dipole_per_nm2_err"] == pytest.approx(0.0, abs=1e-6)
    assert s["first_layer_total_dipole_per_nm2_blocks"] == pytest.approx([layer] * 5, rel=1e-5)
    assert s["slab_total_dipole_per_nm2"] == pytest.approx(slab_total, rel=1e-5)
    t = res.tables["top"]["total_dipole.csv"]
    x = t["total_dipole_per_nm2"]
    w = TOTAL_DIPOLE_BIN_PER_NM2
    for col, value in (("p_first_layer_nm2", layer), ("p_slab_nm2", slab_total)):
        p = t[col]
        assert np.nansum(p) * w == pytest.approx(1.0)
        k = int(np.argmax(p))
        assert p[k] == pytest.approx(1.0 / w)
        assert x[k] - w / 2 <= value < x[k] + w / 2


@pytest.mark.parametrize("compiled", [True, False])
def test_angular_distributions_per_layer(tmp_path, compiled):
    """Every water of a layer at cos θ = c: that layer's P(cos θ) is all in c's bin; 2-D histogram the same per d."""
    data, traj, _ = _case(tmp_path)
    res = _run(data, traj, compiled=compiled).results
    s = res.summary["top"]
    layers = s["angle_layers_A"]
    bound = s["first_layer_boundary_A"]
    assert layers["second_layer"] == pytest.approx([bound, bound + 3.0])
    mid = sum(n * d for d, n, _ in GROUPS) / sum(n for _, n, _ in GROUPS)
    assert layers["bulk"][1] == pytest.approx(mid, abs=1e-6)
    tables = res.tables["top"]
    per_layer = tables["angles_layers.csv"]
    c = cos_bin_centers()
    width = 2.0 / N_COS_BINS
    for (d, n, cos), name in zip(GROUPS[:3], ("first_layer", "second_layer", "bulk")):
        p = per_layer[f"p_dipole_{name}"]
        k = _bin_of(cos, width, -1.0)
        assert p[k] == pytest.approx(1.0 / width)
        assert np.delete(p, k) == pytest.approx(0.0)
        assert per_layer[f"p_oh_{name}"].sum() * width == pytest.approx(1.0)
    assert np.array_equal(per_layer["cos_theta"], c)
    grid = tables["angles_dipole.csv"]
    for d, n, cos in GROUPS:
        rows = np.flatnonzero(np.isclose(grid["d_A"], d))
        assert len(rows) == N_COS_BINS
        k = _bin_of(cos, width, -1.0)
        assert grid["count"][rows[k]] == n * N_FRAMES
        assert grid["p_cos_theta"][rows[k]] == pytest.approx(1.0 / width)
    oh = tables["angles_oh.csv"]
    rows = np.flatnonzero(np.isclose(oh["d_A"], GROUPS[0][0]))
    assert oh["count"][rows].sum() == 2 * GROUPS[0][1] * N_FRAMES


def test_growing_histogram_extends_both_ways():
    h = GrowingHistogram(2, 0.5)
    h.add(np.array([[0.1, 1.2]]))
    h.add(np.array([[-1.1, 3.0], [0.2, 0.0]]))
    lo, row0 = h.row(0)
    assert lo == -3
    assert row0.tolist() == [1, 0, 0, 2, 0, 0, 0, 0, 0, 0]
    _, row1 = h.row(1)
    assert row1[2 - lo] == 1 and row1[6 - lo] == 1 and row1[0 - lo] == 1


def test_analyze_writes_dipole_and_angle_files(tmp_path):
    """elbench analyze's pipeline writes the four files (units in the names) and the summary keys."""
    from elbench.analysis.pipeline import AnalysisOptions, analyze_trajectory

    data, traj, area = _case(tmp_path)
    out = analyze_trajectory(traj, data, tmp_path / "out", AnalysisOptions(plots=False))
    names = {p.name for p in out.files}
    assert {"total_dipole.csv", "angles_dipole.csv", "angles_oh.csv", "angles_layers.csv"} <= names
    s = out.summary["interfaces"]["top"]
    assert s["first_layer_total_dipole_per_nm2"] == pytest.approx(GROUPS[0][1] * GROUPS[0][2] / area * 100.0, rel=1e-5)
    for name, first in (
        ("total_dipole.csv", "total_dipole_per_nm2,p_first_layer_nm2,p_slab_nm2"),
        ("angles_dipole.csv", "d_A,cos_theta,p_cos_theta,count"),
        ("angles_layers.csv", "cos_theta,p_dipole_first_layer,p_dipole_second_layer,p_dipole_bulk"),
    ):
        lines = [ln for ln in (tmp_path / "out" / name).read_text().splitlines() if not ln.startswith("#")]
        assert lines[0].startswith(first)
        assert len(lines) > 1


def test_sandwich_slab_side_is_each_faces_half(tmp_path):
    """Sandwich: each face's slab total counts only the water on its side (d < half the gap); symmetrized averages."""
    from analysis_cases import LAYER_Z

    metal, lx, ly = slab()
    area = lx * ly
    n_top, c_top, n_bot, c_bot = 6, 0.42, 4, -0.27
    top = np.column_stack([grid_xy(n_top, lx, ly), np.full(n_top, Z_TOP + 2.05)])
    bottom = np.column_stack([grid_xy(n_bot, lx, ly) + 0.7, np.full(n_bot, LAYER_Z[0] - 2.05)])
    # bottom face normal is -z: cos θ along it = c_bot means μ_z = -c_bot
    dip = np.vstack([np.tile([np.sqrt(1 - c_top**2), 0.0, c_top], (n_top, 1)), np.tile([np.sqrt(1 - c_bot**2), 0.0, -c_bot], (n_bot, 1))])
    o = np.vstack([top, bottom])
    data, traj, _ = write_case(tmp_path, [o] * N_FRAMES, [dip] * N_FRAMES, metal=metal, lx=lx, ly=ly)
    s = _run(data, traj, geometry="sandwich").results.summary
    want_top, want_bot = n_top * c_top / area * 100, n_bot * c_bot / area * 100
    assert s["top"]["slab_total_dipole_per_nm2"] == pytest.approx(want_top, rel=1e-5)
    assert s["bottom"]["slab_total_dipole_per_nm2"] == pytest.approx(want_bot, rel=1e-5)
    assert s["top"]["first_layer_total_dipole_per_nm2"] == pytest.approx(want_top, rel=1e-5)
    assert s["symmetrized"]["slab_total_dipole_per_nm2"] == pytest.approx((want_top + want_bot) / 2, rel=1e-5)
