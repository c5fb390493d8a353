"""Write ``report/report.md`` and a self-contained ``report/report.html`` (figures as base64).

The report is assembled once as a list of blocks (heading, paragraph, table, figure,
list) and rendered twice, so the Markdown and HTML versions always say the same thing.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

from elbench import __version__
from elbench.io import atomic_write_json, atomic_write_text, check_writable_dir
from elbench.provenance import provenance
from elbench.report import figures as figs
from elbench.report import tables as tabs
from elbench.report.collect import ReportData
from elbench.report.data import first_layer_definition


@dataclass
class Block:
    kind: str  # h1 | h2 | p | table | figure | list
    text: str = ""
    table: tabs.Table | None = None
    path: Path | None = None
    items: list[str] | None = None


def _blocks(data: ReportData, figures: dict[str, list[Path]]) -> list[Block]:
    cfg = data.campaign.config
    k = data.n_sigma
    b: list[Block] = [
        Block("h1", f"elbench report: {cfg.name}"),
        Block("p", f"{cfg.system.metal}(111)/water/{cfg.system.cation}⁺, charge states n = "
                   f"{', '.join(str(n) for n in data.charge_states)} (σ = −n·e/A); models: {', '.join(data.models)}; "
                   f"{cfg.md.production_ps:g} ps production at {cfg.md.temperature_K:g} K, seeds {cfg.md.seeds}. "
                   f"Reference: {data.reference_label}. Differences beyond {k:g} combined standard errors are marked {tabs.FLAG}."),
    ]
    if data.warnings:
        b.append(Block("list", items=data.warnings))
    states = [*data.reference.values(), *(r for per_model in data.results.values() for r in per_model.values())]
    definition = first_layer_definition(s for state in states for s in state.summaries)
    if definition:
        b.append(Block("p", definition))
    if "trends" in figures:
        b += [Block("h2", "Interfacial structure vs surface charge"), Block("figure", "Main figure: first-layer water orientation, "
              "H-down fraction, cation contact fraction and the L1 distance of the water density profile from the reference, "
              "against surface charge. A model that describes the charged interface follows the black reference line inside its "
              "grey band at every σ.", path=figures["trends"][0])]
    if data.compared_models:
        b += [Block("h2", "Differences from the reference"),
              Block("p", "Model minus reference per charge state, ± combined standard error. L1: ∫|ρ_model − ρ_ref| dd over "
                         f"{data.window_A[0]:g}–{data.window_A[1]:g} Å, with the value expected from noise alone in brackets. "
                         "'beyond r_f': share of the cation density farther from the surface than the model's receptive field."),
              Block("table", table=tabs.comparison_view(data))]
        cons = tabs.consistency_view(data)
        if cons.rows:
            b += [Block("h2", "Consistency across charge states"),
                  Block("p", "Slope of each observable against σ (weighted least squares) for the model and the reference, whether "
                             f"the signs agree, and the correlation of the model's values with the reference's; {tabs.FLAG}: slopes "
                             f"differ beyond {k:g}σ."),
                  Block("table", table=cons)]
    if data.reference:
        b += [Block("h2", "Reference values"), Block("table", table=tabs.reference_view(data))]
    for key, title in (("density", "Water density profiles"), ("orientation", "Water orientation profiles"), ("cation", "Cation density profiles")):
        if key in figures:
            b += [Block("h2", title), Block("figure", title + f": one line per model over the reference (black) and its ±{k:g}σ band.",
                                            path=figures[key][0])]
    b += [Block("h2", "Models"), Block("p", "Receptive field = cutoff × max(1, message-passing layers); training: "
                                            "mixed (all charge states) or single (one charge state). Shipped models carry a training "
                                            "record: the training set, the RMSE on its held-out test frames and how long NVT "
                                            f"at 300 K on the quickstart system ran without a blow-up ({tabs.FLAG}: it blew up); "
                                            "'–': no record."),
          Block("table", table=tabs.models_view(data))]
    if data.rmse:
        b += [Block("h2", "Energy and force errors"), Block("table", table=tabs.rmse_view(data))]
        for key, title in (("rmse", "RMSE per charge state"), ("parity", "Parity plots, coloured by charge state")):
            if key in figures:
                b.append(Block("figure", title, path=figures[key][0]))
    failed = tabs.failed_runs_view(data)
    if failed.rows:
        b += [Block("h2", "Runs that did not finish"), Block("table", table=failed)]
        if "runs" in figures:
            b.append(Block("figure", "How far each unfinished run got", path=figures["runs"][0]))
    b += [Block("p", f"Tables with full precision: tables/*.csv. Made by elbench {__version__}.")]
    return b


def render_markdown(blocks: list[Block], base: Path) -> str:
    out = []
    for blk in blocks:
        if blk.kind == "h1":
            out.append(f"# {blk.text}")
        elif blk.kind == "h2":
            out.append(f"## {blk.text}")
        elif blk.kind == "p":
            out.append(blk.text)
        elif blk.kind == "list":
            out.append("\n".join(f"- {item}" for item in blk.items or []))
        elif blk.kind == "table" and blk.table is not None:
            out.append(blk.table.to_markdown())
        elif blk.kind == "figure" and blk.path is not None:
            rel = blk.path.relative_to(base).as_posix()
            out.append(f"![{blk.text}]({rel})\n\n*{blk.text}* ([SVG]({rel[:-4]}.svg))")
    return "\n\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #333;padding-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;white-space:nowrap}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}.flag{color:#b30000;font-weight:bold}ul.warn li{color:#8a5a00}
"""


def _html_cell(value) -> str:
    text = html.escape(str(value))
    return text.replace(tabs.FLAG, f'<span class="flag">{tabs.FLAG}</span>')


def render_html(blocks: list[Block], title: str) -> str:
    out = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
           f"<style>{_CSS}</style></head><body>"]
    for blk in blocks:
        if blk.kind in ("h1", "h2"):
            out.append(f"<{blk.kind}>{html.escape(blk.text)}</{blk.kind}>")
        elif blk.kind == "p":
            out.append(f"<p>{_html_cell(blk.text)}</p>")
        elif blk.kind == "list":
            out.append('<ul class="warn">' + "".join(f"<li>{html.escape(i)}</li>" for i in blk.items or []) + "</ul>")
        elif blk.kind == "table" and blk.table is not None:
            head = "".join(f"<th>{html.escape(h)}</th>" for h in blk.table.headers)
            body = "".join("<tr>" + "".join(f"<td>{_html_cell(v)}</td>" for v in row) + "</tr>" for row in blk.table.rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif blk.kind == "figure" and blk.path is not None:
            encoded = base64.b64encode(blk.path.read_bytes()).decode("ascii")
            out.append(f'<figure><img alt="{html.escape(blk.text)}" src="data:image/png;base64,{encoded}">'
                       f"<figcaption>{html.escape(blk.text)}</figcaption></figure>")
    out.append("</body></html>\n")
    return "\n".join(out)


def write_report(data: ReportData, out_dir: Path | None = None) -> dict[str, Path]:
    """Write tables, figures, report.md, report.html and report.json; return their paths."""
    out_dir = out_dir or data.campaign.report_dir
    check_writable_dir(out_dir, key="--out")
    fig_dir, tab_dir = out_dir / "figures", out_dir / "tables"
    for stale in list(fig_dir.glob("*.png")) + list(fig_dir.glob("*.svg")) if fig_dir.is_dir() else []:
        stale.unlink()
    tables = [t.write_csv(tab_dir) for t in tabs.all_tables(data)]
    figures = figs.all_figures(data, fig_dir)
    blocks = _blocks(data, figures)
    md = atomic_write_text(out_dir / "report.md", render_markdown(blocks, out_dir))
    page = atomic_write_text(out_dir / "report.html", render_html(blocks, f"elbench report: {data.campaign.config.name}"))
    meta = atomic_write_json(out_dir / "report.json", {
        "reference": data.reference_label,
        "n_sigma": data.n_sigma,
        "window_A": list(data.window_A),
        "models": data.models,
        "charge_states": data.charge_states,
        "flags": _flag_summary(data),
        "warnings": data.warnings,
        "figures": {k: [p.relative_to(out_dir).as_posix() for p in v] for k, v in figures.items()},
        "tables": [p.relative_to(out_dir).as_posix() for p in tables],
        "provenance": provenance({"campaign": data.campaign.path}),
    })
    return {"markdown": md, "html": page, "json": meta, "figures": fig_dir, "tables": tab_dir}


def _flag_summary(data: ReportData) -> dict[str, dict[str, list[int]]]:
    """Per model: which observables are flagged at which charge states (for scripts and CI)."""
    out: dict[str, dict[str, list[int]]] = {}
    for m in data.compared_models:
        flags: dict[str, list[int]] = {}
        for n, c in sorted(data.comparisons[m].items()):
            if c.l1.flag(data.n_sigma):
                flags.setdefault("l1_rho_water", []).append(n)
            for name, o in c.observables.items():
                if o.flag(data.n_sigma):
                    flags.setdefault(name, []).append(n)
            if c.rf_flag:
                flags.setdefault("cation_beyond_receptive_field", []).append(n)
        out[m] = flags
    return out
