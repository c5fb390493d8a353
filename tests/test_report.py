"""elbench report on a synthetic campaign with known differences: the metrics must recover them."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import report_synthetic as syn
from elbench.cli.main import app
from elbench.config import load_campaign
from elbench.report.collect import collect
from elbench.report.metrics import first_peak, l1_distance, weighted_slope
from elbench.report.data import Profile


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    return load_campaign(syn.make_campaign(tmp_path_factory.mktemp("synthetic")))


@pytest.fixture(scope="module")
def data(campaign):
    return collect(campaign)


def test_reference_is_the_campaign_model_without_a_shipped_set(data):
    assert data.reference_label == "the campaign's `reference` model"
    assert "reference" not in data.comparisons
    assert sorted(data.comparisons) == sorted(syn.MODELS[1:])


def test_identical_model_has_no_flags(data):
    for n, c in data.comparisons["same"].items():
        assert c.l1.value == 0.0
        assert c.l1.flag() is False
        for name, o in c.observables.items():
            assert o.diff == 0.0 or math.isnan(o.diff), name
            assert not o.flag(), name


def test_shifted_profile_l1_and_peak_shift(data):
    expected = syn.expected_l1_shift()
    for n, c in data.comparisons["shifted"].items():
        assert c.l1.value == pytest.approx(expected, rel=0.02)
        # noise floor: sqrt(2/pi) * sqrt(2) * 0.02 * 8 Å
        assert c.l1.floor == pytest.approx(math.sqrt(2 / math.pi) * math.sqrt(2) * syn.RHO_ERR * 8.0, rel=1e-6)
        assert c.l1.flag() is True
        peak = c.observables["o_peak_position_A"]
        assert peak.ref == pytest.approx(syn.PEAK_Z, abs=0.01)
        assert peak.diff == pytest.approx(syn.SHIFT_A, abs=0.01)
        assert 0 < peak.diff_err < 0.05
        assert peak.flag() is True
        height = c.observables["o_peak_height_g_cm3"]
        assert height.value == pytest.approx(height.ref, abs=0.02)
        assert not height.flag()


def test_cos_theta_offset_flagged_with_consistent_trend(data):
    for n, c in data.comparisons["tilted"].items():
        o = c.observables["first_layer_cos_theta"]
        assert o.diff == pytest.approx(syn.COS_OFFSET, abs=1e-12)
        assert o.diff_err == pytest.approx(math.hypot(syn.COS_ERR, syn.COS_ERR))
        assert o.flag() is True
        assert not c.observables["o_peak_position_A"].flag()
        assert c.l1.value == 0.0
    t = data.consistency["tilted"].trends["first_layer_cos_theta"]
    sig = [syn.expected_sigma(n) for n in syn.STATES]
    assert t.slope == pytest.approx(-0.06 / (sig[1] - sig[0]), rel=1e-9)
    assert t.slope == pytest.approx(t.ref_slope, rel=1e-9)
    assert t.same_sign is True and t.flag() is False
    assert t.correlation == pytest.approx(1.0)


def test_reversed_trend_is_inconsistent(data):
    t = data.consistency["flipped"].trends["first_layer_cos_theta"]
    assert t.same_sign is False
    assert t.flag() is True
    assert t.correlation == pytest.approx(-1.0)
    assert t.n_states == 4  # the n = 4 run failed


def test_receptive_field_and_cation_metrics(data):
    for n, c in data.comparisons["shortrange"].items():
        assert c.receptive_field_A == 4.0
        if n == 0:
            assert c.rf_flag is None
            continue
        assert c.cation_beyond_rf_fraction > 0.99
        assert c.rf_flag is True
        assert c.observables["cation_contact_fraction"].diff == pytest.approx(-0.8)
        assert c.observables["cation_contact_fraction"].flag() is True
        assert c.observables["cation_mean_distance_A"].diff == pytest.approx(3.0)
    for n, c in data.comparisons["same"].items():
        assert c.receptive_field_A == 10.0  # 5 Å x 2 message-passing layers
        assert c.rf_flag in (None, False)


def test_sigma_from_system_json(data):
    assert data.sigma_uC_cm2[3] == pytest.approx(-3 * 16.02176634)


def test_failed_run_progress(data):
    failed = [r for r in data.runs if r.state == "failed"]
    assert len(failed) == 1
    assert (failed[0].model, failed[0].charge_state) == ("flipped", 4)
    assert failed[0].fraction_done == pytest.approx(0.12)


def test_first_peak_of_a_sampled_gaussian():
    z = np.arange(0.05, 10, 0.1)
    rho = 2.0 * np.exp(-((z - 3.337) ** 2) / (2 * 0.3**2))
    pos, pos_err, h, h_err = first_peak(z, rho)
    assert pos == pytest.approx(3.337, abs=0.005)
    assert h == pytest.approx(2.0, rel=0.01)


def test_l1_noise_floor_matches_pure_noise():
    """Two noisy copies of one profile: L1 is close to the reported floor and not flagged."""
    rng = np.random.default_rng(1)
    z = np.arange(0.05, 8.0, 0.01)
    true = syn.rho_water(z)
    e = np.full_like(z, 0.05)
    a = Profile(z, {"rho_water_g_cm3": true + rng.normal(size=z.size) * 0.05}, {"rho_water_g_cm3": e})
    b = Profile(z, {"rho_water_g_cm3": true + rng.normal(size=z.size) * 0.05}, {"rho_water_g_cm3": e})
    d = l1_distance(a, b)
    assert d.value == pytest.approx(d.floor, rel=0.1)
    assert d.flag() is False


def test_weighted_slope():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    slope, err = weighted_slope(x, 2 * x + 1, np.full(4, 0.1))
    assert slope == pytest.approx(2.0)
    assert err == pytest.approx(0.1 / math.sqrt(5.0))


def test_report_command_writes_everything(campaign, tmp_path):
    out = tmp_path / "rep"
    result = CliRunner().invoke(app, ["report", "-c", str(campaign.path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    md = (out / "report.md").read_text()
    for stem in ("trends_vs_sigma", "profiles_density", "profiles_orientation", "profiles_cation", "rmse", "parity", "runs"):
        assert (out / "figures" / f"{stem}.png").stat().st_size > 5000, stem
        assert (out / "figures" / f"{stem}.svg").is_file()
        assert f"figures/{stem}.png" in md
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 7
    assert "figures/" not in html  # self-contained
    with open(out / "tables" / "comparison.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5 * 5 - 1
    shifted = [r for r in rows if r["model"] == "shifted" and r["charge_state"] == "2"][0]
    assert float(shifted["o_peak_position_A_diff"]) == pytest.approx(0.3, abs=0.01)
    assert shifted["l1_flag"] == "true"
    meta = json.loads((out / "report.json").read_text())
    assert meta["flags"]["tilted"]["first_layer_cos_theta"] == [0, 1, 2, 3, 4]
    assert "same" in meta["flags"] and meta["flags"]["same"] == {}
    rmse = list(csv.DictReader(open(out / "tables" / "rmse.csv")))
    assert [r["charge_state"] for r in rmse] == ["0", "1", "2", "3", "4", "all"]


def test_report_bad_options(campaign, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["report", "-c", str(campaign.path), "--n-sigma", "0", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--n-sigma" in r.output
    r = runner.invoke(app, ["report", "-c", str(tmp_path / "missing.toml")])
    assert r.exit_code == 2
    r = runner.invoke(app, ["report", "-c", str(campaign.path), "--reference", str(tmp_path / "nope"), "--out", str(tmp_path / "y")])
    assert r.exit_code == 2 and "--reference" in r.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def _reference_set(root, system: dict, shift: float = 0.0):
    """A reference set directory (reference.json + q<n>/) built from the synthetic `shifted` profiles."""
    root.mkdir(parents=True)
    (root / "reference.json").write_text(json.dumps({"name": "test", "system": system, "md": {"production_ps": 30.0}}))
    for n in syn.STATES:
        syn.write_profiles(root / f"q{n}" / "profiles.csv", "shifted", n)
        syn.write_summary(root / f"q{n}" / "summary.json", "shifted", n)
    return root


def test_shipped_reference_set_is_matched_by_system(campaign, tmp_path):
    from elbench.report.collect import find_reference_set

    _reference_set(tmp_path / "sets" / "a", {"metal": "Au", "repeats": [9, 8]})
    assert find_reference_set(campaign, tmp_path / "sets") is None
    match = _reference_set(tmp_path / "sets" / "b", {"metal": "Au", "cation": "Na", "repeats": [4, 6], "layers": 3})
    assert find_reference_set(campaign, tmp_path / "sets") == match
    from elbench.report.collect import run_length_warnings

    (warning,) = run_length_warnings(campaign, match)  # 4 ps here vs 30 ps in the set
    assert "4 ps" in warning and "30 ps" in warning


def test_explicit_reference_set_compares_the_campaign_reference_model(campaign, tmp_path):
    ref = _reference_set(tmp_path / "set", {"metal": "Au"})
    data = collect(campaign, reference_dir=ref)
    assert data.reference_label.startswith("reference set")
    assert "reference" in data.comparisons  # the campaign's own reference run is checked against the set
    for n, c in data.comparisons["reference"].items():
        assert c.observables["o_peak_position_A"].diff == pytest.approx(-syn.SHIFT_A, abs=0.01)
    for n, c in data.comparisons["shifted"].items():
        assert c.l1.value == 0.0


def test_profile_fallbacks_ignore_empty_bins():
    """Bins without water carry NaN cos θ (as elbench analyze writes them); fallbacks skip them."""
    from elbench.report.metrics import first_layer_cos_theta_from_profile

    z = np.arange(-1.95, 6.0, 0.1)
    rho = np.where(z > 2.0, 1.0, 0.0)
    rc = np.where(z > 2.0, -0.3, np.nan)
    p = Profile(z, {"rho_water_g_cm3": rho, "rho_cos_theta_g_cm3": rc}, {"rho_cos_theta_g_cm3": np.full_like(z, 0.01)})
    value, err = first_layer_cos_theta_from_profile(p, 4.0)
    assert value == pytest.approx(-0.3)
    assert err > 0


def test_report_without_results_still_writes(tmp_path):
    from elbench.templates_campaign import write_campaign

    path = write_campaign(tmp_path / "empty", "quickstart")
    result = CliRunner().invoke(app, ["report", "-c", str(path)])
    assert result.exit_code == 0, result.output
    md = (tmp_path / "empty" / "report" / "report.md").read_text()
    assert "reference: no analysed results for charge states [0, 1, 2, 3, 4]" in md


def test_replicas_that_disagree_beyond_their_block_errors_get_their_spread_as_error():
    """Two seeds at 0.0 and 1.0, each with block error 0.01: the pooled error is the spread's standard
    error (0.5), not sqrt(2 x 0.01^2)/2; seeds that agree keep the propagated block error."""
    from elbench.report.data import pool_profiles, pool_scalars, replica_error

    assert pool_scalars([(0.0, 0.01), (1.0, 0.01)]) == pytest.approx((0.5, 0.5))
    assert pool_scalars([(0.30, 0.02), (0.30, 0.02)]) == pytest.approx((0.30, math.sqrt(2) * 0.02 / 2))
    assert pool_scalars([(0.2, math.nan), (0.4, math.nan)]) == pytest.approx((0.3, 0.1))  # no block errors: spread
    assert pool_scalars([(0.7, 0.05)]) == (0.7, 0.05)
    assert math.isnan(pool_scalars([(math.nan, 0.1)])[0])
    values = np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 4.0], [0.0, 1.0, 3.0]])
    errors = np.full_like(values, 0.03)
    np.testing.assert_allclose(replica_error(values, errors), [0.03 / math.sqrt(3), 0.03 / math.sqrt(3), 1 / math.sqrt(3)])
    z = np.linspace(0.0, 2.0, 3)
    pooled = pool_profiles([Profile(z_A=z, values={"rho": v}, errors={"rho": e}) for v, e in zip(values, errors)])
    np.testing.assert_allclose(pooled.get("rho"), [0.0, 1.0, 3.0])
    np.testing.assert_allclose(pooled.err("rho"), replica_error(values, errors))


def test_reference_set_replicas_are_pooled(tmp_path):
    """q<n>/s<seed>/ replicas of a reference set are averaged, with the replicas' error."""
    from elbench.report.collect import load_reference_set

    root = _reference_set(tmp_path / "flat", {"metal": "Au"})
    flat = load_reference_set(root, [1])[1]
    replicas = tmp_path / "replicas"
    for seed, model in ((1, "shifted"), (2, "tilted")):
        syn.write_profiles(replicas / "q1" / f"s{seed}" / "profiles.csv", model, 1)
        syn.write_summary(replicas / "q1" / f"s{seed}" / "summary.json", model, 1)
    pooled = load_reference_set(replicas, [1])[1]
    assert pooled.seeds == [1, 2]
    tilted = load_reference_set(_single(tmp_path / "tilted", "tilted"), [1])[1]
    key = "first_layer_cos_theta"
    assert abs(flat.scalars[key] - tilted.scalars[key]) > 0.05  # the two replicas really disagree
    expected = (flat.scalars[key] + tilted.scalars[key]) / 2
    assert pooled.scalars[key] == pytest.approx(expected)
    spread = abs(flat.scalars[key] - tilted.scalars[key]) / 2  # std(ddof=1)/sqrt(2) of two values
    assert pooled.scalar_errors[key] == pytest.approx(max(spread, math.hypot(flat.scalar_errors[key],
                                                                          tilted.scalar_errors[key]) / 2))


def _single(root, model):
    syn.write_profiles(root / "q1" / "profiles.csv", model, 1)
    syn.write_summary(root / "q1" / "summary.json", model, 1)
    return root
