"""Learning curves from each family's training log, as one CSV layout and a PNG.

``learning_curve.csv`` columns: ``gradient_update, epoch, split, energy_meV_atom, force_meV_A``
(RMSE; ``split`` is train or valid; empty cells where a family does not log a value).
Sources: DeePMD ``lcurve.out`` (rmse_e_* is per atom, rmse_f_* per component, eV units),
MACE ``results/*_train.txt`` (JSON lines, mode "eval": rmse_e_per_atom, rmse_f),
pacemaker ``metrics.txt``/``test_metrics.txt`` (iter_num, rmse_epa eV/atom, rmse_f_comp eV/Å),
gracemaker ``seed/*/train_metrics.yaml`` and ``test_metrics.yaml`` (rmse/depa eV/atom, rmse/f_comp eV/Å, step),
fairchem's validation blocks in ``train.log`` (``val/<dataset>.val,<task>_forces,mse`` per component, eV²/Å²;
``..._energy,mse`` of the total energy, eV², divided by the validation frames' mean atom count; printed with
four decimals, so small errors are coarse).
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

from elbench.errors import RunError

COLUMNS = ("gradient_update", "epoch", "split", "energy_meV_atom", "force_meV_A")


def _row(gu, epoch, split, e, f) -> dict:
    return {"gradient_update": gu, "epoch": epoch, "split": split, "energy_meV_atom": e, "force_meV_A": f}


def dp_curve(directory: Path, batches_per_epoch: float) -> list[dict]:
    path = directory / "lcurve.out"
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    header = lines[0].lstrip("#").split()
    rows = []
    for ln in lines[1:]:
        if ln.startswith("#"):
            continue
        vals = dict(zip(header, (float(x) for x in ln.split())))
        step = int(vals["step"])
        for split, suffix in (("valid", "val"), ("train", "trn")):
            e, f = vals.get(f"rmse_e_{suffix}"), vals.get(f"rmse_f_{suffix}")
            if e is not None or f is not None:
                rows.append(_row(step, step / batches_per_epoch, split, None if e is None else e * 1000,
                                 None if f is None else f * 1000))
    return rows


def mace_curve(directory: Path, batches_per_epoch: float) -> list[dict]:
    files = sorted((directory / "results").glob("*_train.txt"))
    if not files:
        raise FileNotFoundError(directory / "results")
    rows = []
    for line in files[-1].read_text().splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec.get("mode") != "eval" or rec.get("epoch") is None:
            continue
        epoch = int(rec["epoch"]) + 1
        rows.append(_row(epoch * batches_per_epoch, epoch, "valid", rec["rmse_e_per_atom"] * 1000, rec["rmse_f"] * 1000))
    return rows


def pacemaker_curve(directory: Path, batches_per_epoch: float) -> list[dict]:
    """pacemaker's metrics.txt (train) and test_metrics.txt: iter_num, rmse_epa (eV/atom), rmse_f_comp (eV/Å)."""
    rows = []
    for split, name in (("train", "metrics.txt"), ("valid", "test_metrics.txt")):
        path = directory / name
        if not path.is_file():
            continue
        lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
        if not lines:
            continue
        header = lines[0]
        for vals in lines[1:]:
            rec = dict(zip(header, vals))
            it = int(rec["iter_num"])
            rows.append(_row(it, it, split, float(rec["rmse_epa"]) * 1000, float(rec["rmse_f_comp"]) * 1000))
    if not rows:
        raise FileNotFoundError(directory / "metrics.txt")
    return rows


def grace_curve(directory: Path, batches_per_epoch: float) -> list[dict]:
    import yaml

    rows = []
    for split, name in (("train", "train_metrics.yaml"), ("valid", "test_metrics.yaml")):
        for path in sorted(directory.glob(f"seed/*/{name}")):
            data = yaml.safe_load(path.read_text()) or []
            for rec in data if isinstance(data, list) else []:
                epoch = rec.get("epoch")
                e = rec.get("rmse/depa", rec.get("rmse/epa"))
                f = rec.get("rmse/f_comp", rec.get("rmse/f"))
                if epoch is None:
                    continue
                gu = rec.get("step", epoch * batches_per_epoch)
                rows.append(_row(gu, epoch, split, None if e is None else e * 1000, None if f is None else f * 1000))
    return rows


_FAIRCHEM_STEP = re.compile(r"'train/step': (\d+)")
_FAIRCHEM_EPOCH_END = re.compile(r"After train epoch, train progress: .*num_steps_completed = (\d+)")
_FAIRCHEM_METRIC = re.compile(r"^\s+val/[^,]+,\w+_(energy|forces),mse: ([0-9.eE+-]+|nan|inf)\s*$")


def fairchem_curve(directory: Path, batches_per_epoch: float) -> list[dict]:
    """Validation RMSEs from fairchem's log (run.sh's train.log, or a SLURM train-*.out).

    The template sets print_every = evaluate_every_n_steps = k, so a step-triggered validation follows the
    printed ``'train/step': s`` (s a multiple of k) and stands for s + k updates; torchtnt also validates
    at each epoch end, before its ``After train epoch ... num_steps_completed = N`` line (N updates).
    Repeated evaluations at the same update count are kept once.
    """
    from elbench.dataset.frames import read_frames
    from elbench.io import read_json

    record = read_json(directory / "train.json")
    k = _fairchem_every(directory)
    data = record["data"]
    part = next(p for p in ("valid", "test", "train") if p in data)
    natoms = [len(a) for a in read_frames(directory / data[part]["path"])]
    mean_atoms = sum(natoms) / len(natoms)
    logs = [directory / "train.log", *sorted(directory.glob("train-*.out"))]
    text = next((p.read_text(errors="replace") for p in logs if p.is_file()), None)
    if text is None:
        raise FileNotFoundError(directory / "train.log")
    points: dict[int, dict] = {}
    last_step, block, pending = None, {}, []
    for line in text.splitlines():
        if (m := _FAIRCHEM_STEP.search(line)):
            last_step = int(m.group(1))
        elif (m := _FAIRCHEM_METRIC.match(line)):
            block[m.group(1)] = float(m.group(2))
            if len(block) == 2:
                pending.append(block)
                block = {}
        elif "Finished evaluation. Resuming training epoch" in line and pending and last_step is not None:
            points[(last_step // k + 1) * k] = pending[-1]
            pending = []
        elif (m := _FAIRCHEM_EPOCH_END.search(line)) and pending:
            points[int(m.group(1))] = pending[-1]
            pending = []
    if pending:  # training ended (max_steps) after a validation without an epoch-end line
        points[record["gradient_updates"]["effective_gradient_updates"]] = pending[-1]
    return [_row(gu, gu / batches_per_epoch, "valid", math.sqrt(v["energy"]) / mean_atoms * 1000,
                 math.sqrt(v["forces"]) * 1000) for gu, v in sorted(points.items())]


def _fairchem_every(directory: Path) -> int:
    import yaml

    config = yaml.safe_load((directory / "esen.yaml").read_text())
    return int(config["runner"]["evaluate_every_n_steps"])


PARSERS = {"esen": fairchem_curve, "dp": dp_curve, "dp-mp": dp_curve, "mace": mace_curve, "ace": pacemaker_curve, "grace": grace_curve}


def learning_curve(directory: Path, record: dict) -> list[dict]:
    """Rows of the curve of a finished training (RunError if the log is missing or empty)."""
    parser = PARSERS.get(record["family"])
    if parser is None:
        raise RunError(f"no learning-curve parser for family {record['family']}")
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

    from elbench.io import atomic_path

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
