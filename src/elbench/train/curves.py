"""Learning curves from each family's training log, as one CSV layout and a PNG.

``learning_curve.csv`` columns: ``gradient_update, epoch, split, energy_meV_atom, force_meV_A``
(RMSE; ``split`` is train or valid; empty cells where a family does not log a value).
Each family spec's ``training.curve`` parses its own log (DeePMD ``lcurve.out``, MACE
``results/*_train.txt``, pacemaker ``metrics.txt``, gracemaker ``seed/*/*_metrics.yaml``,
fairchem's ``train.log``; see :mod:`elbench.families`) into rows of these columns.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from elbench import families
from elbench.errors import RunError
from elbench.io import atomic_path

COLUMNS = ("gradient_update", "epoch", "split", "energy_meV_atom", "force_meV_A")


def learning_curve(directory: Path, record: dict) -> list[dict]:
    """Rows of the curve of a finished training (RunError if the log is missing or empty)."""
    spec = families.FAMILIES.get(record["family"])
    if spec is None or spec.training is None:
        raise RunError(f"no learning-curve parser for family {record['family']}")
    parser = spec.training.curve
    gu = record["gradient_updates"]
    per_epoch = max(1.0, record["n_train"] / gu["batch_size"])
    try:
        rows = parser(directory, per_epoch)
    except (OSError, ValueError, KeyError) as err:
        raise RunError(f"cannot read the learning curve of {directory}: {err}") from None
    rows = [r for r in rows if all(v is None or not isinstance(v, float) or math.isfinite(v) for v in r.values())]
    if not rows:
        raise RunError(f"the training log in {directory} has no learning-curve entries")
    return rows


def write_curve(directory: Path, rows: list[dict], title: str) -> tuple[Path, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    csv_path, png_path = directory / "learning_curve.csv", directory / "learning_curve.png"
    with atomic_path(csv_path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if r[k] is None else (f"{r[k]:.10g}" if isinstance(r[k], float) else r[k])) for k in COLUMNS})
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, key, label in ((axes[0], "energy_meV_atom", "energy RMSE (meV/atom)"), (axes[1], "force_meV_A", "force RMSE (meV/Å)")):
        for split in ("train", "valid"):
            pts = [(r["gradient_update"], r[key]) for r in rows if r["split"] == split and r[key] is not None]
            if pts:
                ax.plot(*zip(*pts), marker="o", ms=3, label=split)
        ax.set_xlabel("gradient updates")
        ax.set_ylabel(label)
        ax.set_yscale("log")
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return csv_path, png_path
