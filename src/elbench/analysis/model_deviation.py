"""Model deviation of an ensemble (DeePMD) or committee (bridge): parse and summarise.

File layout (DeePMD's ``model_devi.out``, written by ``pair_style deepmd m1 m2 ... out_freq N
out_file model_devi.out atomic``, and by the bridge's committee in the same layout)::

    #  step  max_devi_v  min_devi_v  avg_devi_v  max_devi_f  min_devi_f  avg_devi_f  [devi_f of atom 1..N]

The definitions and the bridge's writer are :mod:`elbench.engines.committee` (MD time needs
no analysis code). The optional per-atom columns (``atomic``) are in atom-id order.

The summary gives the max force deviation per frame and, when per-atom columns and the
trajectory frames at the same steps exist, a profile over the distance from the metal
surface (z - z_s, with z_s from :func:`elbench.analysis.surface.metal_planes`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from elbench.analysis.base import Roles
from elbench.analysis.readers import open_trajectory
from elbench.analysis.surface import ProfileGrid, metal_planes
from elbench.engines.committee import COLUMNS
from elbench.errors import InputError
from elbench.io import atomic_write_json, atomic_write_text
from elbench.run_record import MODEL_DEVIATION_FILE, RunRecord

#: force-deviation levels (eV/Å) reported as fractions of frames above them (DP-GEN's usual trust range)
LEVELS_EV_A = (0.05, 0.15, 0.30)


@dataclass
class ModelDeviation:
    """A parsed deviation file: ``table`` (n_frames, 7) in COLUMNS order, ``atomic`` (n_frames, n_atoms) or None."""

    table: np.ndarray
    atomic: np.ndarray | None

    @property
    def steps(self) -> np.ndarray:
        return self.table[:, 0].astype(np.int64)

    def column(self, name: str) -> np.ndarray:
        return self.table[:, COLUMNS.index(name)]


# --------------------------------------------------------------------------- parsing


def read_model_devi(path: Path) -> ModelDeviation:
    """Parse a model_devi.out; a row repeated for the same step (restarted segment) keeps the last."""
    path = Path(path)
    if not path.is_file():
        raise InputError("model deviation file not found (run an ensemble/committee model first)", file=path)
    rows: list[list[float]] = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            rows.append([float(v) for v in line.split()])
        except ValueError:
            raise InputError(f"line {n} is not numeric", file=path, key="model_devi") from None
    if not rows:
        raise InputError("model deviation file has no data rows", file=path)
    widths = {len(r) for r in rows}
    if len(widths) != 1 or min(widths) < len(COLUMNS):
        raise InputError(f"rows have {sorted(widths)} columns; expected one width >= {len(COLUMNS)}", file=path)
    data = np.array(rows)
    _, last = np.unique(data[::-1, 0], return_index=True)
    data = data[np.sort(len(data) - 1 - last)]
    data = data[np.argsort(data[:, 0], kind="stable")]
    atomic = data[:, len(COLUMNS):] if data.shape[1] > len(COLUMNS) else None
    return ModelDeviation(data[:, :len(COLUMNS)], atomic)


# --------------------------------------------------------------------------- summary


def frame_summary(dev: ModelDeviation) -> dict:
    fmax = dev.column("max_devi_f")
    return {
        "n_frames": int(len(fmax)),
        "steps": [int(dev.steps[0]), int(dev.steps[-1])],
        "max_devi_f_eV_A": {"max": float(fmax.max()), "mean": float(fmax.mean()), "median": float(np.median(fmax))},
        "avg_devi_f_eV_A_mean": float(dev.column("avg_devi_f").mean()),
        "max_devi_v_eV_mean": float(dev.column("max_devi_v").mean()),
        "fraction_frames_above": {f"{lv:g}": float(np.mean(fmax > lv)) for lv in LEVELS_EV_A},
        "per_atom": dev.atomic is not None,
    }


def distance_profile(devi_atoms: np.ndarray, z: np.ndarray, lz: np.ndarray, metal: np.ndarray,
                     dz_A: float = 0.5) -> dict[str, np.ndarray]:
    """Force deviation binned by the distance d = z - z_s from the top metal layer.

    ``devi_atoms``, ``z``: (n_frames, n_atoms) on the same frames; ``lz``: (n_frames,);
    ``metal``: indices of metal atoms. Returns bin centres, atom-frame counts, mean and max devi_f.
    """
    z = np.asarray(z, dtype=np.float64)
    lz = np.asarray(lz, dtype=np.float64)
    planes = metal_planes(z[:, metal], lz)
    grid = ProfileGrid.for_cell(dz_A, float(lz.mean()), float(planes.thickness.mean()))
    idx = grid.bins(grid.distances(z, planes.z_top, +1, lz)).ravel()
    devi = np.asarray(devi_atoms, dtype=np.float64).ravel()
    count = np.bincount(idx, minlength=grid.n_bins)
    total = np.bincount(idx, weights=devi, minlength=grid.n_bins)
    peak = np.full(grid.n_bins, np.nan)
    np.fmax.at(peak, idx, devi)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return {"z_A": grid.centers, "count": count, "mean_devi_f_eV_A": mean, "max_devi_f_eV_A": peak}


def frames_at_steps(trajectory: Path, topology: Path, steps: np.ndarray, first_step: int, interval: int):
    """z (n, n_atoms), lz (n,), matched steps and metal indices of the trajectory frames at ``steps``.

    Frame k of an elbench production trajectory is at step ``first_step + k * interval``.
    """
    opened = open_trajectory(Path(trajectory), Path(topology))
    u = opened.universe
    roles = Roles.from_universe(u, None, None, opened.data.type_map)
    zs, lzs, matched = [], [], []
    for k in range(opened.n_frames):
        step = first_step + k * interval
        if step in set(steps.tolist()):
            ts = u.trajectory[k]
            zs.append(ts.positions[:, 2].astype(np.float64).copy())
            lzs.append(float(ts.dimensions[2]))
            matched.append(step)
    return np.array(zs), np.array(lzs), np.array(matched, dtype=np.int64), np.asarray(roles.metal)


def summarize(dev: ModelDeviation, out_dir: Path, *, z: np.ndarray | None = None, lz: np.ndarray | None = None,
              profile_steps: np.ndarray | None = None, metal: np.ndarray | None = None, dz_A: float = 0.5,
              source: str = "") -> dict:
    """Write model_deviation.csv (per frame), model_deviation_profile.csv (per distance) and .json."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {"kind": "elbench model deviation", "source": source, **frame_summary(dev)}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["step", "max_devi_f_eV_A", "min_devi_f_eV_A", "avg_devi_f_eV_A",
                "max_devi_v_eV", "min_devi_v_eV", "avg_devi_v_eV"])
    for row in dev.table:
        w.writerow([int(row[0]), *(f"{v:.8g}" for v in row[[4, 5, 6, 1, 2, 3]])])
    atomic_write_text(out_dir / "model_deviation.csv", buf.getvalue())
    if dev.atomic is not None and z is not None and lz is not None and metal is not None and len(z):
        rows = np.searchsorted(dev.steps, profile_steps)
        prof = distance_profile(dev.atomic[rows], z, lz, metal, dz_A)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["z_A", "count", "mean_devi_f_eV_A", "max_devi_f_eV_A"])
        for zc, c, m, p in zip(prof["z_A"], prof["count"], prof["mean_devi_f_eV_A"], prof["max_devi_f_eV_A"]):
            if c:
                w.writerow([f"{zc:.4f}", int(c), f"{m:.8g}", f"{p:.8g}"])
        atomic_write_text(out_dir / "model_deviation_profile.csv", buf.getvalue())
        keep = prof["count"] > 0
        summary["profile"] = {"dz_A": dz_A, "n_frames": int(len(z)), "z_A": prof["z_A"][keep].round(4).tolist(),
                              "max_devi_f_eV_A": prof["max_devi_f_eV_A"][keep].tolist(),
                              "mean_devi_f_eV_A": prof["mean_devi_f_eV_A"][keep].tolist()}
    atomic_write_json(out_dir / "model_deviation.json", summary)
    return summary


def summarize_run(run_dir: Path, out_dir: Path, *, trajectory: Path | None = None, topology: Path | None = None,
                  dz_A: float = 0.5) -> dict | None:
    """Summarise ``run_dir/model_devi.out`` if the run wrote one (ensemble or committee); else None."""
    path = Path(run_dir) / MODEL_DEVIATION_FILE
    if not path.is_file():
        return None
    dev = read_model_devi(path)
    kwargs: dict = {}
    if dev.atomic is not None and trajectory is not None and topology is not None and Path(trajectory).is_file():
        run = RunRecord.load(run_dir)
        first, interval = run.steps.production_first_step, run.dump.interval_steps
        z, lz, matched, metal = frames_at_steps(trajectory, topology, dev.steps, first, interval)
        kwargs = {"z": z, "lz": lz, "profile_steps": matched, "metal": metal}
    return summarize(dev, out_dir, dz_A=dz_A, source=str(path), **kwargs)
