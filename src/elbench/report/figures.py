"""Report figures (matplotlib, PNG + SVG) in elbench's shipped style ``analysis/elbench.mplstyle``.

Every figure draws the reference in black over a grey ±n_sigma·σ band and gives each
model the same colour in every figure. Functions return the written paths (PNG first)
or an empty list when there is nothing to draw.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from elbench.io import atomic_path  # noqa: E402
from elbench.report.collect import ReportData  # noqa: E402
from elbench.report.metrics import observables_of  # noqa: E402
from elbench.resources import analysis_data_dir  # noqa: E402

REF_COLOR = "black"
BAND_COLOR = "0.78"
PROFILE_XMAX_PAD_A = 4.0


def style_path() -> Path:
    return analysis_data_dir() / "elbench.mplstyle"


def model_colors(models: list[str]) -> dict[str, str]:
    with plt.style.context(str(style_path())):
        cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    # The reference line is always black; a campaign's own `reference` model compared with a
    # shipped reference set is a model like the others and gets a colour of the cycle.
    return {m: cycle[i % len(cycle)] for i, m in enumerate(m for m in models)}


def save(fig, directory: Path, stem: str) -> list[Path]:
    """Write stem.png and stem.svg atomically; close the figure."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in ("png", "svg"):
        target = directory / f"{stem}.{ext}"
        with atomic_path(target) as tmp:
            meta = {"Date": None} if ext == "svg" else {"Software": "elbench"}
            fig.savefig(tmp, format=ext, metadata=meta)
        out.append(target)
    plt.close(fig)
    return out


def _grid(n_panels: int, width_per: float = 2.7, height: float = 2.3, max_cols: int = 3):
    cols = min(max_cols, max(1, n_panels))
    rows = math.ceil(n_panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width_per * cols + 0.4, height * rows + 0.5), sharey=True, sharex=True,
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n_panels:
            ax.set_visible(False)
        if i + cols >= n_panels:  # nothing below it: label the x axis
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel("distance from surface d (Å)")
        if i % cols == 0:
            ax.yaxis.set_tick_params(labelleft=True)
    spare = axes.flat[n_panels] if n_panels < axes.size else None
    return fig, list(axes.flat[:n_panels]), spare


def _model_label(data: ReportData, m: str) -> str:
    if m == "reference":
        return "reference run of this campaign"
    info = data.info.get(m)
    if info is None or info.family in ("unknown", "reference"):
        return m
    extra = f"{info.family}, {info.training}" if info.training not in ("unknown", "none") else info.family
    return f"{m} ({extra})"


def _models_with_results(data: ReportData) -> list[str]:
    own = data.reference_label.startswith("the campaign")
    return [m for m in data.models if m in data.results and not (own and m == "reference")]


def profile_figure(data: ReportData, column: str, ylabel: str, stem: str, title: str, directory: Path,
                   *, skip_neutral: bool = False) -> list[Path]:
    """One panel per charge state: every model's profile over the reference's error band."""
    states = [n for n in data.charge_states if n in data.reference or any(n in data.results.get(m, {}) for m in data.models)]
    if skip_neutral:
        states = [n for n in states if n != 0]
    models = _models_with_results(data)
    if not states:
        return []
    colors = model_colors(data.models)
    with plt.style.context(str(style_path())):
        fig, axes, spare = _grid(len(states))
        xmax = data.window_A[1] + PROFILE_XMAX_PAD_A
        for ax, n in zip(axes, states):
            ref = data.reference.get(n)
            if ref is not None and ref.profile.has(column):
                z, y, e = ref.profile.z_A, ref.profile.get(column), ref.profile.err(column)
                ax.fill_between(z, y - data.n_sigma * e, y + data.n_sigma * e, color=BAND_COLOR, lw=0,
                                label=f"reference ±{data.n_sigma:g}σ")
                ax.plot(z, y, color=REF_COLOR, lw=0.9, ls=(0, (4, 2)), zorder=5, label="reference")
            for m in models:
                res = data.results[m].get(n)
                if res is None or not res.profile.has(column):
                    continue
                ax.plot(res.profile.z_A, res.profile.get(column), color=colors[m], lw=1.2, label=_model_label(data, m))
            ax.axhline(0.0, color="0.5", lw=0.5, zorder=0)
            ax.set_xlim(0.0, xmax)
            sigma = data.sigma_uC_cm2.get(n, math.nan)
            ax.set_title(f"n = {n}  (σ = {_signed(sigma)} µC/cm²)")
        for i, ax in enumerate(axes):
            if i % 3 == 0:
                ax.set_ylabel(ylabel)
        handles, labels = _unique_legend(axes)
        if spare is not None:  # an empty grid slot holds the legend
            spare.set_visible(True)
            spare.axis("off")
            spare.legend(handles, labels, loc="center", fontsize=8.5)
        else:
            fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)))
        fig.suptitle(title)
        return save(fig, directory, stem)


def _signed(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace("-", "−") if math.isfinite(value) else "?"


def _unique_legend(axes) -> tuple[list, list[str]]:
    seen: dict[str, object] = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, h)
    return list(seen.values()), list(seen.keys())


TREND_PANELS = (
    ("first_layer_cos_theta", "first-layer ⟨cos θ⟩"),
    ("h_down_fraction", "first-layer H-down fraction"),
    ("cation_contact_fraction", "cation contact fraction"),
    ("l1", "L1 distance of ρ_water (g cm⁻³ Å)"),
)


def _state_value(data: ReportData, m: str, n: int, name: str) -> tuple[float, float]:
    if name == "l1":
        c = data.comparisons.get(m, {}).get(n)
        return (c.l1.value, c.l1.err) if c is not None else (math.nan, math.nan)
    res = data.results.get(m, {}).get(n)
    return observables_of(res).get(name, (math.nan, math.nan)) if res is not None else (math.nan, math.nan)


def trends_figure(data: ReportData, directory: Path) -> list[Path]:
    """The report's main figure: first-layer observables and L1 distance vs surface charge, every model."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    models = _models_with_results(data)
    if not models and not data.reference:
        return []
    colors = model_colors(data.models)
    markers = "sD^vP*Xho"
    xs = [v for v in data.sigma_uC_cm2.values() if math.isfinite(v)]
    dodge = 0.012 * (max(xs) - min(xs) if len(xs) > 1 and max(xs) > min(xs) else 1.0)
    handles: list = [Patch(color=BAND_COLOR, label=f"reference ±{data.n_sigma:g}σ"),
                     Line2D([], [], color=REF_COLOR, marker="o", ms=4, label="reference")]
    with plt.style.context(str(style_path())):
        fig, axes = plt.subplots(2, 2, figsize=(7.6, 5.9), sharex=True)
        for ax, (name, label) in zip(axes.flat, TREND_PANELS):
            if name != "l1" and data.reference:
                ns = sorted(data.reference)
                x = np.array([data.sigma_uC_cm2[n] for n in ns])
                v = np.array([observables_of(data.reference[n]).get(name, (math.nan, math.nan)) for n in ns])
                half = data.n_sigma * np.nan_to_num(v[:, 1])
                ax.fill_between(x, v[:, 0] - half, v[:, 0] + half, color=BAND_COLOR, lw=0)
                ax.plot(x, v[:, 0], color=REF_COLOR, marker="o", ms=3.5, lw=0.9, ls=(0, (4, 2)), zorder=6)
            if name == "l1":
                _noise_band(ax, data)
                if not data.comparisons:
                    ax.text(0.5, 0.5, "no model to compare with the reference yet", transform=ax.transAxes,
                            ha="center", va="center", color="0.4")
            for i, m in enumerate(models):
                ns = sorted(data.results[m])
                x = np.array([data.sigma_uC_cm2[n] for n in ns]) + (i - (len(models) - 1) / 2) * dodge
                v = np.array([_state_value(data, m, n, name) for n in ns])
                if not np.isfinite(v[:, 0]).any():
                    continue
                mk = markers[i % len(markers)]
                ax.errorbar(x, v[:, 0], yerr=np.nan_to_num(v[:, 1]), color=colors[m], marker="none", lw=1.1, zorder=3)
                for xi, (vi, _), n in zip(x, v, ns):
                    filled = m not in data.info or data.info[m].trained_at(n, data.sigma_uC_cm2[n])
                    ax.plot([xi], [vi], marker=mk, color=colors[m], mfc=colors[m] if filled else "white", ls="none", zorder=4)
            ax.set_ylabel(label)
            if name == "l1":
                ax.set_ylim(bottom=0.0)
        for i, m in enumerate(models):
            handles.append(Line2D([], [], color=colors[m], marker=markers[i % len(markers)], label=_model_label(data, m)))
        for ax in axes[1]:
            ax.set_xlabel("surface charge σ (µC/cm²)")
        fig.legend(handles=handles, loc="outside lower center", ncol=min(4, len(handles)))
        fig.suptitle("Interfacial water and ions vs surface charge\n(open markers: surface charge outside the model's training set;"
                     " grey: consistent with the reference)", fontsize=8.5, fontweight="normal")
        return save(fig, directory, "trends_vs_sigma")


def _noise_band(ax, data: ReportData) -> None:
    """On the L1 panel: the band of L1 values explained by noise (0 to floor + n_sigma·σ_L1), averaged over models."""
    by_state: dict[int, list[float]] = {}
    for comps in data.comparisons.values():
        for n, c in comps.items():
            if math.isfinite(c.l1.floor):
                by_state.setdefault(n, []).append(c.l1.floor + data.n_sigma * c.l1.err)
    if by_state:
        ns = sorted(by_state)
        x = [data.sigma_uC_cm2[n] for n in ns]
        ax.fill_between(x, 0.0, [float(np.mean(by_state[n])) for n in ns], color=BAND_COLOR, lw=0)


def rmse_figure(data: ReportData, directory: Path) -> list[Path]:
    """Energy and force RMSE per charge state (grouped bars, one colour per model)."""
    models = [m for m in data.models if m in data.rmse]
    if not models:
        return []
    colors = model_colors(data.models)
    with plt.style.context(str(style_path())):
        fig, axes = plt.subplots(1, 2, figsize=(7.6, 2.9))
        for ax, key, label in zip(axes, ("energy_rmse_meV_atom", "force_rmse_meV_A"), ("energy RMSE (meV/atom)", "force RMSE (meV/Å)")):
            groups = sorted({k for m in models for k in (data.rmse[m].get("per_charge_state") or {})}, key=int) + ["all"]
            width = 0.8 / len(models)
            for i, m in enumerate(models):
                per = data.rmse[m].get("per_charge_state") or {}
                vals = [(per.get(g) or {}).get(key) if g != "all" else (data.rmse[m].get("overall") or {}).get(key) for g in groups]
                vals = [float(v) if v is not None else np.nan for v in vals]
                ax.bar(np.arange(len(groups)) + (i - (len(models) - 1) / 2) * width, vals, width, color=colors[m], label=m)
            ax.set_xticks(np.arange(len(groups)), [f"n={g}" if g != "all" else "all" for g in groups])
            ax.set_ylabel(label)
            ax.tick_params(axis="x", which="minor", bottom=False, top=False)
        handles, labels = _unique_legend(axes)
        fig.legend(handles, labels, loc="outside lower center", ncol=min(5, len(labels)))
        fig.suptitle("Energy and force errors on held-out reference frames")
        return save(fig, directory, "rmse")


def parity_figure(data: ReportData, directory: Path) -> list[Path]:
    """Parity plots (energy per atom, force components) for models whose rmse.json has per-frame values."""
    models = [m for m in data.models if m in data.rmse and (data.rmse[m].get("frames") or data.rmse[m].get("forces"))]
    if not models:
        return []
    cmap = plt.get_cmap("viridis")
    states = sorted({int(f.get("charge_state", 0)) for m in models for f in data.rmse[m].get("frames") or []}
                    | {int(q) for m in models for q in (data.rmse[m].get("forces") or {}).get("charge_state", [])}) or [0]
    bounds = np.arange(min(states) - 0.5, max(states) + 1.5)
    cmap = matplotlib.colors.ListedColormap(cmap(np.linspace(0.0, 0.9, len(bounds) - 1)))
    norm = matplotlib.colors.BoundaryNorm(bounds, cmap.N)
    with plt.style.context(str(style_path())):
        fig, axes = plt.subplots(len(models), 2, figsize=(6.4, 2.9 * len(models)), squeeze=False)
        for row, m in zip(axes, models):
            frames = data.rmse[m].get("frames") or []
            ax = row[0]
            if frames:
                ref = np.array([f["energy_ref_eV"] / f["n_atoms"] for f in frames])
                pred = np.array([f["energy_pred_eV"] / f["n_atoms"] for f in frames])
                q = np.array([int(f.get("charge_state", 0)) for f in frames])
                off = ref.mean()
                ax.scatter((ref - off) * 1e3, (pred - off) * 1e3, c=q, cmap=cmap, norm=norm, s=10)
                _diagonal(ax)
                _rmse_note(ax, float(np.sqrt(np.mean((pred - ref) ** 2))) * 1e3, "meV/atom")
            ax.set_xlabel("reference E/atom − mean (meV)")
            ax.set_ylabel("predicted E/atom − mean (meV)")
            ax.set_title(f"{m}: energy")
            forces = data.rmse[m].get("forces") or {}
            ax = row[1]
            if forces.get("ref_eV_A"):
                fr, fp = np.asarray(forces["ref_eV_A"], float), np.asarray(forces["pred_eV_A"], float)
                q = np.asarray(forces.get("charge_state", [0] * len(fr)), int)
                ax.scatter(fr, fp, c=q, cmap=cmap, norm=norm, s=3, alpha=0.6, rasterized=True)
                _diagonal(ax)
                _rmse_note(ax, float(np.sqrt(np.mean((fp - fr) ** 2))) * 1e3, "meV/Å")
            ax.set_xlabel("reference force component (eV/Å)")
            ax.set_ylabel("predicted (eV/Å)")
            ax.set_title(f"{m}: forces")
        fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[:, -1].tolist(), label="charge state n", shrink=0.8,
                     ticks=np.arange(min(states), max(states) + 1))
        return save(fig, directory, "parity")


def _rmse_note(ax, value: float, unit: str) -> None:
    ax.text(0.04, 0.95, f"RMSE {value:.3g} {unit}", transform=ax.transAxes, va="top", fontsize=8)


def _diagonal(ax) -> None:
    lo = min(ax.get_xlim()[0], ax.get_ylim()[0])
    hi = max(ax.get_xlim()[1], ax.get_ylim()[1])
    ax.plot([lo, hi], [lo, hi], color="0.4", lw=0.7, zorder=0)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")


STATE_COLORS = {"done": "#009E73", "failed": "#D55E00", "running": "#0072B2", "pending": "#999999", "not rendered": "#DDDDDD"}


def _short_reason(reason: str, limit: int = 115) -> str:
    """The informative tail of a failure reason (after the last 'error:'), shortened."""
    text = reason.rsplit("error:", 1)[-1].strip() if "error:" in reason else reason.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def runs_figure(data: ReportData, directory: Path) -> list[Path]:
    """How far every unfinished run got (bar and tick = fraction of its steps), coloured by state, with why."""
    runs = [r for r in data.runs if r.state != "done"]
    if not runs:
        return []
    n_done = len(data.runs) - len(runs)
    with plt.style.context(str(style_path())):
        fig, ax = plt.subplots(figsize=(7.6, 1.0 + 0.42 * len(runs)))
        y = np.arange(len(runs))[::-1]
        colors = [STATE_COLORS.get(r.state, "#CC79A7") for r in runs]
        ax.barh(y, [1.0] * len(runs), color="0.94", height=0.8)
        ax.barh(y, [r.fraction_done for r in runs], color=colors, height=0.8)
        ax.scatter([r.fraction_done for r in runs], y, marker="|", s=300, c=colors, linewidths=2.5, zorder=3)
        for yi, r in zip(y, runs):
            steps = f" at step {r.step}" + (f" of {r.total_steps}" if r.total_steps else "") if r.step is not None else ""
            text = f"{r.state}{steps}" + (f": {_short_reason(r.reason)}" if r.reason else "")
            ax.text(0.012, yi, text, va="center", fontsize=6.8, zorder=4)
        ax.set_yticks(y, [f"{r.model}  n={r.charge_state}  s{r.seed}" for r in runs], fontsize=7.5)
        ax.tick_params(axis="y", which="both", left=False, right=False)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.6, len(runs) - 0.4)
        ax.set_xlabel("fraction of the run's steps completed")
        ax.set_title(f"Runs that did not finish ({n_done} of {len(data.runs)} finished)")
        return save(fig, directory, "runs")


def all_figures(data: ReportData, directory: Path) -> dict[str, list[Path]]:
    """Every figure the report shows, keyed by role."""
    cation = next((r.profile.cation_column() for res in data.results.values() for r in res.values() if r.profile.cation_column()), None)
    figs = {
        "trends": trends_figure(data, directory),
        "density": profile_figure(data, "rho_water_g_cm3", "ρ_water (g/cm³)", "profiles_density",
                                  "Water density at each charge state", directory),
        "orientation": profile_figure(data, "rho_cos_theta_g_cm3", "ρ·⟨cos θ⟩ (g/cm³)", "profiles_orientation",
                                      "Water orientation: ρ(d)·⟨cos θ⟩(d) (positive: dipole points away from the metal)", directory),
    }
    if cation:
        ion = cation[2 : -len("_per_A3")]
        figs["cation"] = profile_figure(data, cation, f"n_{ion} (Å⁻³)", "profiles_cation", f"{ion}⁺ density at each charge state", directory, skip_neutral=True)
    figs["rmse"] = rmse_figure(data, directory)
    figs["parity"] = parity_figure(data, directory)
    figs["runs"] = runs_figure(data, directory)
    return {k: v for k, v in figs.items() if v}
