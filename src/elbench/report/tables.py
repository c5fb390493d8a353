"""Tables of a report: full-precision CSV files and compact Markdown/HTML views.

Each ``*_table`` function returns a :class:`Table` (headers + raw rows) written to
``report/tables/<name>.csv``; the ``*_view`` functions return the short, formatted
version (values ± errors with a ⚑ where the flag is raised) shown in report.md/html.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from elbench.io import atomic_write_text
from elbench.report.collect import ReportData
from elbench.report.metrics import OBSERVABLES, TREND_OBSERVABLES, observables_of

FLAG = "⚑"


@dataclass
class Table:
    name: str
    headers: list[str]
    rows: list[list]

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.headers)
        for row in self.rows:
            writer.writerow([_csv_cell(v) for v in row])
        return buf.getvalue()

    def to_markdown(self) -> str:
        def cell(v) -> str:
            return str(v).replace("|", "\\|")

        lines = ["| " + " | ".join(self.headers) + " |", "|" + "|".join(" --- " for _ in self.headers) + "|"]
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in self.rows]
        return "\n".join(lines)

    def write_csv(self, directory: Path) -> Path:
        return atomic_write_text(directory / f"{self.name}.csv", self.to_csv())


def _csv_cell(value):
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.10g}"
    return value


def fmt(value: float, err: float = math.nan, digits: int = 3) -> str:
    """'v ± e' with e to 1–2 significant digits and v to the same decimal place; '–' for NaN."""
    if value is None or not math.isfinite(value):
        return "–"
    if not math.isfinite(err) or err <= 0:
        return f"{value:.{digits}g}"
    decimals = max(0, -int(math.floor(math.log10(err))) + (1 if err < 2 * 10 ** math.floor(math.log10(err)) else 0))
    decimals = min(decimals, 6)
    text = f"{value:.{decimals}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    return f"{text} ± {err:.{decimals}f}"


def _flagged(text: str, flag: bool | None) -> str:
    return f"{text} {FLAG}" if flag else text


# --------------------------------------------------------------------------- full tables (CSV)


def comparison_table(data: ReportData) -> Table:
    headers = ["model", "charge_state", "sigma_uC_cm2", "n_frames", "l1_rho_water_g_cm3_A", "l1_err", "l1_noise_floor", "l1_flag"]
    for name in OBSERVABLES:
        headers += [name, f"{name}_err", f"{name}_ref", f"{name}_ref_err", f"{name}_diff", f"{name}_diff_err", f"{name}_flag"]
    headers += ["receptive_field_A", "cation_beyond_receptive_field_fraction", "receptive_field_flag"]
    rows = []
    for m in data.compared_models:
        for n, c in sorted(data.comparisons[m].items()):
            row = [m, n, c.sigma_uC_cm2, c.n_frames, c.l1.value, c.l1.err, c.l1.floor, c.l1.flag(data.n_sigma)]
            for name in OBSERVABLES:
                o = c.observables[name]
                row += [o.value, o.err, o.ref, o.ref_err, o.diff, o.diff_err, o.flag(data.n_sigma)]
            row += [c.receptive_field_A, c.cation_beyond_rf_fraction, c.rf_flag]
            rows.append(row)
    return Table("comparison", headers, rows)


def consistency_table(data: ReportData) -> Table:
    headers = ["model", "observable", "slope_per_uC_cm2", "slope_err", "ref_slope_per_uC_cm2", "ref_slope_err",
               "same_sign", "correlation_with_ref", "n_charge_states", "slope_flag"]
    rows = []
    for m, cons in data.consistency.items():
        for name in TREND_OBSERVABLES:
            t = cons.trends[name]
            rows.append([m, name, t.slope, t.slope_err, t.ref_slope, t.ref_slope_err, t.same_sign, t.correlation,
                         t.n_states, t.flag(data.n_sigma)])
    return Table("consistency", headers, rows)


def reference_table(data: ReportData) -> Table:
    headers = ["charge_state", "sigma_uC_cm2"] + [h for name in OBSERVABLES for h in (name, f"{name}_err")]
    rows = []
    for n, res in sorted(data.reference.items()):
        obs = observables_of(res)
        rows.append([n, data.sigma_uC_cm2.get(n, math.nan)] + [v for name in OBSERVABLES for v in obs.get(name, (math.nan, math.nan))])
    return Table("reference", headers, rows)


NO_RECORD = "–"


def models_table(data: ReportData) -> Table:
    """Registry facts, the training record (test RMSE, training set, NVT stability; '–' / empty without one) and run counts."""
    headers = ["model", "family", "cutoff_A", "message_passing_layers", "receptive_field_A", "training",
               "trained_charge_states", "trained_sigma_uC_cm2", "runs_done", "runs_failed", "runs_total",
               "training_set", "test_rmse_energy_meV_atom", "test_rmse_force_meV_A", "test_frames", "stability_nvt_300K"]
    rows = []
    for m in data.models:
        i = data.info[m]
        runs = [r for r in data.runs if r.model == m]
        rows.append([m, i.family, i.cutoff_A, i.message_passing_layers, i.receptive_field_A, i.training,
                     " ".join(str(n) for n in i.trained_charge_states),
                     " ".join(f"{x:.4g}" for x in i.trained_sigma_uC_cm2), sum(r.state == "done" for r in runs),
                     sum(r.state == "failed" for r in runs), len(runs),
                     i.training_set or NO_RECORD, i.test_rmse_energy_meV_atom, i.test_rmse_force_meV_A,
                     i.test_frames or "", i.stability or NO_RECORD])
    return Table("models", headers, rows)


def rmse_table(data: ReportData) -> Table:
    headers = ["model", "charge_state", "energy_rmse_meV_atom", "force_rmse_meV_A", "n_frames"]
    rows = []
    for m, r in data.rmse.items():
        per = r.get("per_charge_state") or {}
        for key in sorted(per, key=lambda k: int(k)):
            v = per[key]
            rows.append([m, int(key), _num(v.get("energy_rmse_meV_atom")), _num(v.get("force_rmse_meV_A")), v.get("n_frames", "")])
        if r.get("overall"):
            v = r["overall"]
            rows.append([m, "all", _num(v.get("energy_rmse_meV_atom")), _num(v.get("force_rmse_meV_A")), v.get("n_frames", "")])
    return Table("rmse", headers, rows)


def runs_table(data: ReportData) -> Table:
    headers = ["model", "charge_state", "seed", "state", "step", "total_steps", "fraction_done", "reason"]
    rows = [[r.model, r.charge_state, r.seed, r.state, r.step if r.step is not None else "", r.total_steps or "",
             r.fraction_done, r.reason] for r in data.runs]
    return Table("runs", headers, rows)


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def all_tables(data: ReportData) -> list[Table]:
    return [comparison_table(data), consistency_table(data), reference_table(data), models_table(data), rmse_table(data), runs_table(data)]


# --------------------------------------------------------------------------- compact views (Markdown / HTML)


def comparison_view(data: ReportData) -> Table:
    """Differences from the reference per model × charge state."""
    headers = ["model", "n", "σ (µC/cm²)", "L1 ρ (g/cm³·Å) [noise]", "Δ peak pos (Å)", "Δ peak ρ (g/cm³)",
               "Δ⟨cos θ⟩₁", "Δ H-down", "Δ contact", "Δ ⟨d⟩ Na (Å)", "beyond r_f"]
    rows = []
    k = data.n_sigma
    for m in data.compared_models:
        for n, c in sorted(data.comparisons[m].items()):
            o = c.observables
            row = [m, n, f"{c.sigma_uC_cm2:.1f}",
                   _flagged(f"{fmt(c.l1.value, c.l1.err)} [{c.l1.floor:.2g}]" if math.isfinite(c.l1.value) else "–", c.l1.flag(k))]
            for name in OBSERVABLES:
                row.append(_flagged(fmt(o[name].diff, o[name].diff_err), o[name].flag(k)))
            row.append(_flagged(f"{c.cation_beyond_rf_fraction:.0%}" if math.isfinite(c.cation_beyond_rf_fraction) else "–", c.rf_flag))
            rows.append(row)
    return Table("comparison_view", headers, rows)


def reference_view(data: ReportData) -> Table:
    headers = ["n", "σ (µC/cm²)"] + [OBSERVABLES[name][0] + (f" ({OBSERVABLES[name][1]})" if OBSERVABLES[name][1] else "") for name in OBSERVABLES]
    rows = []
    for n, res in sorted(data.reference.items()):
        obs = observables_of(res)
        rows.append([n, f"{data.sigma_uC_cm2.get(n, math.nan):.1f}"] + [fmt(*obs.get(name, (math.nan, math.nan))) for name in OBSERVABLES])
    return Table("reference_view", headers, rows)


def consistency_view(data: ReportData) -> Table:
    headers = ["model", "observable", "slope (per µC/cm²)", "reference slope", "same sign", "r with ref"]
    rows = []
    for m, cons in data.consistency.items():
        for name in ("first_layer_cos_theta", "cation_contact_fraction", "h_down_fraction"):
            t = cons.trends[name]
            if not math.isfinite(t.slope) and not math.isfinite(t.ref_slope):
                continue
            rows.append([m, OBSERVABLES[name][0], _flagged(fmt(t.slope, t.slope_err), t.flag(data.n_sigma)), fmt(t.ref_slope, t.ref_slope_err),
                         {True: "yes", False: f"no {FLAG}", None: "–"}[t.same_sign],
                         f"{t.correlation:.2f}" if math.isfinite(t.correlation) else "–"])
    return Table("consistency_view", headers, rows)


def models_view(data: ReportData) -> Table:
    headers = ["model", "family", "receptive field (Å)", "training", "trained on n (σ, µC/cm²)", "runs done/failed/total",
               "training set", "test RMSE E (meV/atom)", "test RMSE F (meV/Å)", "stability (NVT 300 K)"]
    rows = []
    for m in data.models:
        i = data.info[m]
        runs = [r for r in data.runs if r.model == m]
        rf = f"{i.receptive_field_A:.1f}" + (f" = {i.cutoff_A:g} × {i.message_passing_layers}" if i.message_passing_layers > 1 else "")
        rows.append([m, i.family, rf if math.isfinite(i.receptive_field_A) else "–", i.training,
                     _trained_text(i),
                     f"{sum(r.state == 'done' for r in runs)}/{sum(r.state == 'failed' for r in runs)}/{len(runs)}",
                     i.training_set or NO_RECORD, _rmse_text(i.test_rmse_energy_meV_atom),
                     _rmse_text(i.test_rmse_force_meV_A), _flagged(i.stability or NO_RECORD, i.stable is False or i.water_off_metal)])
    return Table("models_view", headers, rows)


def _trained_text(info) -> str:
    """'0, 4' or, when the registry knows the training cell, '0 (0), 4 (−55.6)'."""
    if not info.trained_charge_states:
        return "–"
    states = sorted(set(info.trained_charge_states))
    if not info.trained_sigma_uC_cm2:
        return ", ".join(str(n) for n in states)
    return ", ".join(f"{n} ({s:.3g})" for n, s in zip(states, info.trained_sigma_uC_cm2))


def _rmse_text(value: float) -> str:
    """A test RMSE to 3 significant digits, '–' when the model has no training record."""
    return f"{value:.3g}" if math.isfinite(value) else NO_RECORD


def rmse_view(data: ReportData) -> Table:
    t = rmse_table(data)
    rows = [[r[0], r[1], fmt(r[2]), fmt(r[3]), r[4]] for r in t.rows]
    return Table("rmse_view", ["model", "n", "energy RMSE (meV/atom)", "force RMSE (meV/Å)", "frames"], rows)


def failed_runs_view(data: ReportData) -> Table:
    rows = [[r.model, r.charge_state, r.seed, r.state, f"{r.fraction_done:.0%}"
             + (f" ({r.step}/{r.total_steps} steps)" if r.step is not None and r.total_steps else ""), r.reason or "–"]
            for r in data.runs if r.state != "done"]
    return Table("failed_runs_view", ["model", "n", "seed", "state", "got to", "reason"], rows)
