"""The one definition of the first O peak and the first-layer bound (elbench.analysis.first_layer).

A synthetic layered profile with a known first peak and first minimum; the analysis
(summary.json), the report and the water count of the build each come from one place.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis_cases import Z_TOP, grid_xy, slab, write_case
from elbench.analysis.first_layer import first_layer, parabola_vertex
from elbench.analysis.interface import InterfaceAnalysis
from elbench.analysis.readers import open_trajectory
from elbench.build.assemble import assemble_interface, slab_area_A2, water_count
from elbench.report.data import Profile, StateResult
from elbench.report.metrics import first_layer_bound, first_peak, observables_of
from elbench.templates_campaign import quickstart_config

PEAK_A, MIN_A = 2.83, 4.1


def layered(z: np.ndarray) -> np.ndarray:
    """A first peak at PEAK_A (height 3), a minimum near MIN_A, a second layer, bulk 1."""
    first = 3.0 * np.exp(-((z - PEAK_A) ** 2) / (2 * 0.25**2))
    second = 0.6 * np.exp(-((z - 5.6) ** 2) / (2 * 0.5**2))
    bulk = 1.0 / (1.0 + np.exp(-(z - MIN_A - 0.6) / 0.25))
    return np.where(z > 1.5, first + second + bulk, 0.0)


def _true_minimum(z0: float = 3.3, z1: float = 5.0) -> float:
    fine = np.arange(z0, z1, 1e-4)
    return float(fine[np.argmin(layered(fine))])


def test_known_peak_and_minimum():
    z = np.arange(-2.25, 20.0, 0.1)
    layer = first_layer(z, layered(z))
    assert layer.peak_position_A == pytest.approx(PEAK_A, abs=0.01)
    assert layer.peak_height == pytest.approx(layered(np.array([PEAK_A]))[0], rel=0.01)
    assert layer.boundary_source == "auto"
    assert layer.boundary_A == pytest.approx(_true_minimum(), abs=0.1)  # a bin centre of the smoothed minimum
    assert first_layer(z, layered(z), boundary_override_A=3.5).boundary_A == 3.5
    assert first_layer(z, layered(z), boundary_override_A=3.5).boundary_source == "user"


def test_noise_does_not_move_the_layer():
    """Single-bin noise of 3 % neither adds a peak nor ends the layer early."""
    z = np.arange(-2.25, 20.0, 0.1)
    rng = np.random.default_rng(4)
    for _ in range(20):
        noisy = layered(z) * (1 + 0.03 * rng.standard_normal(z.size))
        layer = first_layer(z, noisy)
        assert abs(layer.peak_position_A - PEAK_A) < 0.06
        assert abs(layer.boundary_A - _true_minimum()) < 0.31


def test_no_density_no_peak():
    z = np.arange(-2.25, 10.0, 0.1)
    layer = first_layer(z, np.zeros_like(z))
    assert layer.peak_index is None and layer.boundary_A is None and layer.boundary_source == "none"


def test_parabola_vertex_of_a_sampled_parabola_is_exact():
    z = np.arange(0.05, 2.0, 0.1)
    y = 4.0 - (z - 1.0123) ** 2
    i = int(np.argmax(y))
    assert parabola_vertex(z, y, i) == pytest.approx((1.0123, 4.0))


def test_report_uses_the_one_definition():
    z = np.arange(-2.25, 20.0, 0.1)
    rho = layered(z)
    layer = first_layer(z, rho)
    pos, _, height, _ = first_peak(z, rho)
    assert (pos, height) == (layer.peak_position_A, layer.peak_height)
    assert first_layer_bound(z, rho) == layer.boundary_A


def test_analysis_and_report_give_the_same_numbers(tmp_path):
    """A trajectory with a layered O density: summary.json's peak and bound are the report's on its profile."""
    metal, lx, ly = slab()
    rng = np.random.default_rng(8)
    # O heights drawn from the layered profile (inverse CDF on a fine grid), the same in every frame
    fine = np.arange(1.5, 12.0, 0.001)
    cdf = np.cumsum(layered(fine))
    d = np.interp(rng.uniform(0, cdf[-1], 400), cdf, fine)
    o = np.column_stack([grid_xy(len(d), lx, ly, rng), Z_TOP + d])
    dips = [rng.normal(size=o.shape) for _ in range(5)]
    data, traj, _ = write_case(tmp_path, [o] * 5, dips, metal=metal, lx=lx, ly=ly, lz=40.0)
    opened = open_trajectory(traj, data)
    res = InterfaceAnalysis(opened.universe.atoms, type_map=opened.data.type_map).run().results
    prof, summary = res.profiles["top"], res.summary["top"]
    profile = Profile(prof["z_A"], {"rho_water_g_cm3": prof["rho_water_g_cm3"]})
    scalars = {"first_layer_max_A": float("nan")}  # no summary: the report finds the bound itself
    report = observables_of(StateResult("m", 0, [1], profile, scalars, {}, []))
    layer = first_layer(prof["z_A"], prof["rho_water_g_cm3"])
    assert summary["first_O_peak_position_A"] == pytest.approx(report["o_peak_position_A"][0], abs=1e-9)
    assert summary["first_O_peak_rho_g_cm3"] == pytest.approx(report["o_peak_height_g_cm3"][0], rel=1e-9)
    assert summary["first_layer_boundary_A"] == pytest.approx(layer.boundary_A, abs=1e-9)
    assert 2.6 < summary["first_O_peak_position_A"] < 3.1
    json.dumps(summary)  # the summary stays JSON-serialisable


def test_water_count_is_what_the_build_packs():
    system = quickstart_config().system
    interface = assemble_interface(system, 2)
    assert interface.n_water + 2 == water_count(system)
    assert slab_area_A2(system) == pytest.approx(interface.slab.area_A2, rel=1e-12)


def test_user_window_replaces_the_layer_and_keeps_the_peak():
    """--first-layer MIN MAX: the layer is MIN <= d < MAX (both edges), source 'user'; the peak is the automatic one."""
    z = np.arange(0.05, 12.0, 0.1)
    rho = layered(z)
    auto = first_layer(z, rho)
    user = first_layer(z, rho, window_A=(2.0, 4.5))
    assert auto.boundary_source == "auto" and auto.lower_A is None
    assert auto.window_A == [None, auto.boundary_A]
    assert user.boundary_source == "user" and user.window_A == [2.0, 4.5]
    assert user.peak_position_A == auto.peak_position_A and user.peak_height == auto.peak_height
    mask = user.mask(z)
    np.testing.assert_array_equal(mask, (z >= 2.0) & (z < 4.5))
    np.testing.assert_array_equal(auto.mask(z), z < auto.boundary_A)
    # bin centres exactly on the edges: MIN is in, MAX is out
    edges = np.array([1.95, 2.0, 4.45, 4.5])
    np.testing.assert_array_equal(user.mask(edges), [False, True, True, False])
    # no density at all: still the user's window, no peak
    empty = first_layer(z, np.zeros_like(z), window_A=(0.0, 4.5))
    assert empty.peak_index is None and empty.window_A == [0.0, 4.5] and empty.boundary_source == "user"
    assert first_layer(z, np.zeros_like(z)).mask(z).sum() == 0


def test_report_takes_a_user_window_from_the_summary_and_says_so():
    """A run analysed with --first-layer: the report's fallback uses that window, never a recomputed bound,
    and its first-layer sentence names the window."""
    from elbench.report.data import first_layer_definition, first_layer_window

    z = np.arange(0.05, 12.0, 0.1)
    rho = layered(z)
    cos = np.where(z < 2.0, 0.9, np.where(z < 4.5, -0.5, 0.3))
    profile = Profile(z, {"rho_water_g_cm3": rho, "rho_cos_theta_g_cm3": rho * cos})
    window = {"profiles_interface": "top", "interfaces": {"top": {
        "first_layer_source": "user", "first_layer_window_A": [2.0, 4.5], "first_layer_boundary_A": 4.5}}}
    auto = {"profiles_interface": "top", "interfaces": {"top": {
        "first_layer_source": "auto", "first_layer_window_A": [None, 4.1], "first_layer_boundary_A": 4.1}}}
    assert first_layer_window(window) == (2.0, 4.5) and first_layer_window(auto) is None
    assert first_layer_window({"interfaces": {}}) is None  # an older summary: automatic
    scalars = {"first_layer_max_A": 4.5}  # no first_layer_cos_theta in the summary: the profile's, over the window
    got = observables_of(StateResult("m", 0, [1], profile, scalars, {}, [window]))["first_layer_cos_theta"][0]
    assert got == pytest.approx(-0.5)
    auto_got = observables_of(StateResult("m", 0, [1], profile, {"first_layer_max_A": 4.1}, {}, [auto]))
    assert auto_got["first_layer_cos_theta"][0] != pytest.approx(-0.5)
    text = first_layer_definition([window, auto])
    assert "user-set window: 2 <= d < 4.5 Å" in text and "automatic" in text
    assert "user-set" not in first_layer_definition([auto])
