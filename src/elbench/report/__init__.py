"""The benchmark's answer: metrics against the reference, tables, figures, report.md/html.

``make_report(campaign)`` is what ``elbench report`` and ``elbench quickstart`` call.
"""

from __future__ import annotations

from pathlib import Path

from elbench.config import Campaign, load_campaign


def make_report(
    campaign: Campaign | str | Path,
    *,
    reference_dir: Path | None = None,
    n_sigma: float = 2.0,
    window_A: tuple[float, float] = (0.0, 8.0),
    out_dir: Path | None = None,
) -> dict[str, Path]:
    """Collect results, compute metrics and write the report; return the written paths."""
    # start-up time: the writer pulls in matplotlib, and every report submodule runs this __init__
    from elbench.report.collect import collect
    from elbench.report.writer import write_report

    if not isinstance(campaign, Campaign):
        campaign = load_campaign(campaign)
    data = collect(campaign, reference_dir=reference_dir, n_sigma=n_sigma, window_A=window_A)
    return write_report(data, out_dir)


__all__ = ["make_report"]
