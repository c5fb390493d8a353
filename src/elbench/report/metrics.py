"""Comparison metrics: each model × charge state against the reference, with errors and flags.

Definitions (the README of ``analysis/`` repeats them for readers of a report):

* **L1 distance** of the water density, ∫|ρ_model(d) − ρ_ref(d)| dd over the interfacial
  window (default 0 ≤ d ≤ 8 Å) on the reference's grid, in g cm⁻³ Å. Even two runs of the
  same model differ by noise, so the L1 of pure noise, ``floor`` = Σ sqrt(2/π)·σᵢ·dz with
  σᵢ² = σ_model² + σ_ref² per bin, is reported with it; the flag is raised when
  L1 − floor > n_sigma · σ_L1 with σ_L1² = Σ (1 − 2/π) σᵢ² dz².
* **First O peak** and the **first-layer bound**: one definition for analysis, report and registry,
  :mod:`elbench.analysis.first_layer` (first maximum of the 0.3 Å-smoothed ρ_water(d) reaching half
  the maximum, refined by a parabola through the raw bins; the bound is the first minimum after it
  below 80 % of the peak), found on the seed-pooled profile. The peak's error comes from
  re-locating it in 200 profiles perturbed by their per-bin standard errors.
* **First-layer ⟨cos θ⟩, H-down fraction, cation contact fraction and mean distance** come from
  ``summary.json`` (block errors of ``elbench analyze``); where a summary lacks them they are
  computed from the profiles (first layer: up to the first-layer bound above).
* A **difference is flagged** when |model − ref| > n_sigma · sqrt(σ_model² + σ_ref²)
  (default n_sigma = 2); no flag (None) where an error is unknown.
* **Consistency across charge states**: per observable, the weighted least-squares slope
  d(observable)/dσ of the model and of the reference, the Pearson correlation of the model's
  values with the reference's over the common charge states, whether the slopes have the same
  sign, and a flag when the slopes differ beyond n_sigma combined errors.
* **Receptive field**: the fraction of the cation density that lies farther from the surface
  plane than the model's receptive field (cutoff × message-passing layers): surface atoms
  cannot "see" those ions, so a short-range model cannot know the surface charge from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from elbench.analysis.first_layer import first_layer, parabola_vertex
from elbench.report.data import Profile, StateResult, first_layer_window

DEFAULT_N_SIGMA = 2.0
DEFAULT_WINDOW_A = (0.0, 8.0)
#: A model × charge state is flagged when more than this fraction of the cation density lies beyond its receptive field.
RF_FLAG_FRACTION = 0.1
_MC_DRAWS = 200

#: Scalar observables compared per charge state: name → (label, unit).
OBSERVABLES: dict[str, tuple[str, str]] = {
    "o_peak_position_A": ("first O peak position", "Å"),
    "o_peak_height_g_cm3": ("first O peak height", "g/cm³"),
    "first_layer_cos_theta": ("first-layer ⟨cos θ⟩", ""),
    "h_down_fraction": ("first-layer H-down fraction", ""),
    "cation_contact_fraction": ("cation contact fraction", ""),
    "cation_mean_distance_A": ("cation mean distance", "Å"),
}

#: Observables whose trend with σ is compared to the reference's.
TREND_OBSERVABLES = ("first_layer_cos_theta", "h_down_fraction", "cation_contact_fraction", "o_peak_height_g_cm3")


@dataclass
class Comparison:
    """One observable of one model at one charge state against the reference."""

    value: float
    err: float
    ref: float
    ref_err: float

    @property
    def diff(self) -> float:
        return self.value - self.ref

    @property
    def diff_err(self) -> float:
        return math.hypot(self.err, self.ref_err)

    def flag(self, n_sigma: float = DEFAULT_N_SIGMA) -> bool | None:
        """True when the difference exceeds n_sigma combined errors; None when unknown."""
        if not (math.isfinite(self.diff) and math.isfinite(self.diff_err)):
            return None
        return abs(self.diff) > n_sigma * self.diff_err


@dataclass
class L1Distance:
    value: float
    err: float
    floor: float
    window_A: tuple[float, float]

    def flag(self, n_sigma: float = DEFAULT_N_SIGMA) -> bool | None:
        if not math.isfinite(self.value):
            return None
        return (self.value - self.floor) > n_sigma * self.err


@dataclass
class StateComparison:
    """Every metric of one model at one charge state."""

    model: str
    charge_state: int
    sigma_uC_cm2: float
    l1: L1Distance
    observables: dict[str, Comparison]
    cation_beyond_rf_fraction: float = math.nan
    receptive_field_A: float = math.nan
    n_frames: float = math.nan

    @property
    def rf_flag(self) -> bool | None:
        if not math.isfinite(self.cation_beyond_rf_fraction):
            return None
        return self.cation_beyond_rf_fraction > RF_FLAG_FRACTION


@dataclass
class Trend:
    """Slope of an observable vs σ for a model and for the reference, and how they agree."""

    observable: str
    slope: float
    slope_err: float
    ref_slope: float
    ref_slope_err: float
    correlation: float
    n_states: int

    @property
    def same_sign(self) -> bool | None:
        """Whether the model's slope has the reference's sign; None when the reference shows no significant trend."""
        if not (math.isfinite(self.slope) and math.isfinite(self.ref_slope)):
            return None
        if math.isfinite(self.ref_slope_err) and abs(self.ref_slope) <= DEFAULT_N_SIGMA * self.ref_slope_err:
            return None
        return bool(np.sign(self.slope) == np.sign(self.ref_slope))

    def flag(self, n_sigma: float = DEFAULT_N_SIGMA) -> bool | None:
        """True when the slopes differ beyond n_sigma combined errors (or have opposite signs significantly)."""
        err = math.hypot(self.slope_err, self.ref_slope_err)
        if not (math.isfinite(self.slope) and math.isfinite(self.ref_slope) and math.isfinite(err)):
            return None
        return abs(self.slope - self.ref_slope) > n_sigma * err


@dataclass
class ModelConsistency:
    model: str
    trends: dict[str, Trend] = field(default_factory=dict)


# --------------------------------------------------------------------------- profiles


def on_grid(profile: Profile, name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A column and its error interpolated onto z (NaN outside the profile's range)."""
    lo, hi = profile.z_A[0], profile.z_A[-1]
    val = np.interp(z, profile.z_A, profile.get(name), left=np.nan, right=np.nan)
    err = np.interp(z, profile.z_A, profile.err(name), left=np.nan, right=np.nan)
    outside = (z < lo - 1e-9) | (z > hi + 1e-9)
    val[outside] = np.nan
    err[outside] = np.nan
    return val, err


def l1_distance(
    model: Profile, ref: Profile, column: str = "rho_water_g_cm3", window_A: tuple[float, float] = DEFAULT_WINDOW_A
) -> L1Distance:
    """L1 distance of a profile column against the reference's, with its noise floor and error."""
    z = ref.z_A
    inside = (z >= window_A[0]) & (z <= window_A[1])
    m, me = on_grid(model, column, z[inside])
    r, re = ref.get(column)[inside], ref.err(column)[inside]
    ok = np.isfinite(m) & np.isfinite(r)
    if not ok.any():
        return L1Distance(math.nan, math.nan, math.nan, window_A)
    dz = ref.dz_A
    sig = np.sqrt(me[ok] ** 2 + re[ok] ** 2)
    value = float(np.abs(m[ok] - r[ok]).sum() * dz)
    floor = float(math.sqrt(2.0 / math.pi) * sig.sum() * dz)
    err = float(math.sqrt((1.0 - 2.0 / math.pi) * (sig**2).sum()) * dz)
    return L1Distance(value, err, floor, window_A)


def first_peak(z: np.ndarray, rho: np.ndarray, rho_err: np.ndarray | None = None) -> tuple[float, float, float, float]:
    """(position, position error, height, height error) of the first peak of a density profile.

    The peak is :func:`elbench.analysis.first_layer.first_layer`'s (the one definition the
    analysis and the registry use too); its error is the spread of the parabola vertex over
    profiles perturbed by their per-bin standard errors, staying on the same peak.
    """
    layer = first_layer(z, rho)
    i = layer.peak_index
    if i is None:
        return math.nan, math.nan, math.nan, math.nan
    pos, height = layer.peak_position_A, layer.peak_height
    if rho_err is None or not np.any(rho_err > 0):
        return pos, 0.0, height, 0.0
    rng = np.random.default_rng(0)
    draws = rho + rng.standard_normal((_MC_DRAWS, len(rho))) * rho_err
    found = []
    for y in draws:
        # Stay on the same peak: search near the unperturbed one only.
        lo, hi = max(1, i - 5), min(len(y) - 2, i + 5)
        j = lo + int(np.argmax(y[lo : hi + 1]))
        found.append(parabola_vertex(z, y, j))
    arr = np.array(found)
    return pos, float(arr[:, 0].std(ddof=1)), height, float(arr[:, 1].std(ddof=1))


def first_layer_bound(z: np.ndarray, rho: np.ndarray) -> float:
    """Upper edge of the first layer (:func:`elbench.analysis.first_layer.first_layer`), NaN where none."""
    bound = first_layer(z, rho).boundary_A
    return math.nan if bound is None else bound


def first_layer_cos_theta_from_profile(profile: Profile, d_max_A: float, d_min_A: float = -math.inf) -> tuple[float, float]:
    """Density-weighted ⟨cos θ⟩ of the bins below d_max_A (and from d_min_A: a user window), pooled like the analysis."""
    if not (profile.has("rho_cos_theta_g_cm3") and profile.has("rho_water_g_cm3")) or not math.isfinite(d_max_A):
        return math.nan, math.nan
    sel = _layer_bins(profile.z_A, d_max_A, d_min_A)
    rho = np.nansum(profile.get("rho_water_g_cm3")[sel])
    if rho <= 0:
        return math.nan, math.nan
    rc = profile.get("rho_cos_theta_g_cm3")[sel]  # NaN in bins without water
    err = math.sqrt(np.nansum(profile.err("rho_cos_theta_g_cm3")[sel] ** 2)) / rho
    return float(np.nansum(rc) / rho), float(err)


def _layer_bins(z: np.ndarray, d_max_A: float, d_min_A: float) -> np.ndarray:
    """Bins of the first layer: z <= d_max_A (automatic bound), or d_min_A <= z < d_max_A (a user window,
    as :meth:`elbench.analysis.first_layer.FirstLayer.mask` takes it)."""
    if d_min_A == -math.inf:
        return z <= d_max_A
    return (z >= d_min_A) & (z < d_max_A)


def cation_scalars_from_profile(
    profile: Profile, contact_max_A: float, contact_min_A: float = -math.inf
) -> dict[str, tuple[float, float]]:
    """Cation mean distance and fraction within contact_max_A (from contact_min_A: a user window) from the cation density profile.

    Errors are propagated linearly from the per-bin standard errors (bins treated as independent).
    """
    col = profile.cation_column()
    if col is None:
        return {}
    n, e, z = np.nan_to_num(profile.get(col)), np.nan_to_num(profile.err(col)), profile.z_A
    total = n.sum()
    if total <= 0:
        return {}
    mean = float((z * n).sum() / total)
    out = {"cation_mean_distance_A": (mean, float(np.sqrt((((z - mean) * e) ** 2).sum()) / total))}
    if math.isfinite(contact_max_A):
        inner = _layer_bins(z, contact_max_A, contact_min_A).astype(float)
        frac = float((n * inner).sum() / total)
        out["cation_contact_fraction"] = (frac, float(np.sqrt((((inner - frac) * e) ** 2).sum()) / total))
    return out


def cation_fraction_beyond(profile: Profile, distance_A: float) -> float:
    """Fraction of the cation density farther than distance_A from the surface plane."""
    col = profile.cation_column()
    if col is None or not math.isfinite(distance_A):
        return math.nan
    n = np.nan_to_num(profile.get(col))
    total = n.sum()
    if total <= 0:
        return math.nan
    return float(n[profile.z_A > distance_A].sum() / total)


# --------------------------------------------------------------------------- per state


def observables_of(result: StateResult) -> dict[str, tuple[float, float]]:
    """Every compared scalar of one model × charge state, as (value, error)."""
    p = result.profile
    out: dict[str, tuple[float, float]] = {}
    if p.has("rho_water_g_cm3"):
        pos, pos_err, h, h_err = first_peak(p.z_A, p.get("rho_water_g_cm3"), p.err("rho_water_g_cm3"))
        out["o_peak_position_A"] = (pos, pos_err)
        out["o_peak_height_g_cm3"] = (h, h_err)
        layer_max = result.scalars.get("first_layer_max_A", math.nan)
        if not math.isfinite(layer_max):
            layer_max = first_layer_bound(p.z_A, p.get("rho_water_g_cm3"))
    else:
        layer_max = math.nan
    # a user-set window (elbench analyze --first-layer MIN MAX) is the layer: never a recomputed bound
    window = next((w for w in map(first_layer_window, result.summaries) if w is not None), None)
    layer_min = -math.inf
    if window is not None:
        layer_min = -math.inf if window[0] is None else window[0]
        layer_max = window[1]
    fallback = {"first_layer_cos_theta": first_layer_cos_theta_from_profile(p, layer_max, layer_min)}
    fallback.update(cation_scalars_from_profile(p, layer_max, layer_min))
    for name in ("first_layer_cos_theta", "h_down_fraction", "cation_contact_fraction", "cation_mean_distance_A"):
        value = result.scalar(name)
        backup = fallback.get(name, (math.nan, math.nan))
        if not math.isfinite(value[0]):
            value = backup
        elif not math.isfinite(value[1]) and name == "cation_mean_distance_A":
            value = (value[0], backup[1])  # the analysis gives no error for it: propagate the profile's
        out[name] = value
    return out


def compare_state(
    model: StateResult,
    ref: StateResult,
    *,
    sigma_uC_cm2: float = math.nan,
    receptive_field_A: float = math.nan,
    window_A: tuple[float, float] = DEFAULT_WINDOW_A,
) -> StateComparison:
    """All metrics of one model at one charge state against the reference at the same state."""
    mo, ro = observables_of(model), observables_of(ref)
    comps = {name: Comparison(*mo.get(name, (math.nan, math.nan)), *ro.get(name, (math.nan, math.nan))) for name in OBSERVABLES}
    l1 = (
        l1_distance(model.profile, ref.profile, window_A=window_A)
        if model.profile.has("rho_water_g_cm3") and ref.profile.has("rho_water_g_cm3")
        else L1Distance(math.nan, math.nan, math.nan, window_A)
    )
    return StateComparison(
        model=model.model,
        charge_state=model.charge_state,
        sigma_uC_cm2=sigma_uC_cm2,
        l1=l1,
        observables=comps,
        cation_beyond_rf_fraction=cation_fraction_beyond(model.profile, receptive_field_A),
        receptive_field_A=receptive_field_A,
        n_frames=model.scalars.get("n_frames", math.nan),
    )


# --------------------------------------------------------------------------- trends


def weighted_slope(x: np.ndarray, y: np.ndarray, err: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of y(x) and its standard error (weights 1/σ² when all errors are known and positive)."""
    x, y, err = np.asarray(x, float), np.asarray(y, float), np.asarray(err, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y, err = x[ok], y[ok], err[ok]
    if len(x) < 2 or np.ptp(x) == 0:
        return math.nan, math.nan
    if np.all(np.isfinite(err)) and np.all(err > 0):
        w = 1.0 / err**2
        xm = (w * x).sum() / w.sum()
        sxx = (w * (x - xm) ** 2).sum()
        slope = float((w * (x - xm) * (y - (w * y).sum() / w.sum())).sum() / sxx)
        return slope, float(math.sqrt(1.0 / sxx))
    slope, intercept = np.polyfit(x, y, 1)
    if len(x) < 3:
        return float(slope), math.nan
    resid = y - (slope * x + intercept)
    s2 = (resid**2).sum() / (len(x) - 2)
    return float(slope), float(math.sqrt(s2 / ((x - x.mean()) ** 2).sum()))


def trend(observable: str, sigma: list[float], model: list[tuple[float, float]], ref: list[tuple[float, float]]) -> Trend:
    """Compare how an observable changes with σ for a model and the reference (same charge states)."""
    x = np.array(sigma, float)
    my, me = np.array([v for v, _ in model]), np.array([e for _, e in model])
    ry, re = np.array([v for v, _ in ref]), np.array([e for _, e in ref])
    slope, slope_err = weighted_slope(x, my, me)
    ref_slope, ref_slope_err = weighted_slope(x, ry, re)
    ok = np.isfinite(my) & np.isfinite(ry)
    corr = math.nan
    if ok.sum() >= 3 and np.std(my[ok]) > 0 and np.std(ry[ok]) > 0:
        corr = float(np.corrcoef(my[ok], ry[ok])[0, 1])
    return Trend(observable, slope, slope_err, ref_slope, ref_slope_err, corr, int(ok.sum()))


def consistency(model: str, comparisons: list[StateComparison]) -> ModelConsistency:
    """Trends vs σ of every trend observable for one model (its comparisons over charge states)."""
    rows = sorted(comparisons, key=lambda c: c.charge_state)
    sigma = [c.sigma_uC_cm2 if math.isfinite(c.sigma_uC_cm2) else -float(c.charge_state) for c in rows]
    out = ModelConsistency(model)
    for name in TREND_OBSERVABLES:
        m = [(c.observables[name].value, c.observables[name].err) for c in rows]
        r = [(c.observables[name].ref, c.observables[name].ref_err) for c in rows]
        out.trends[name] = trend(name, sigma, m, r)
    return out
