"""Reading what the earlier steps wrote: profiles, summaries, run states, RMSE files.

The report reads only files: ``results/<model>/q<n>/s<seed>/profiles.csv`` and
``summary.json`` (``elbench analyze``), ``runs/<model>/q<n>/s<seed>/status.json``
and ``run.json`` (``elbench run`` / ``render``), ``results/<model>/rmse.json``
(``elbench rmse``; format in :data:`RMSE_FORMAT_DOC`), ``systems/q<n>/system.json``
(``elbench build``) and the reference sets under ``analysis/reference/``.

Seeds of one model and charge state are pooled into one :class:`StateResult`:
profiles and scalars are averaged over seeds and their standard errors combined
as independent replicas (σ = sqrt(Σσᵢ²)/N).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from elbench.analysis.columns import DISTANCE_COLUMN, ERROR_SUFFIX, find_cation_column
from elbench.errors import InputError
from elbench.run_record import RUN_JSON, RunRecord

#: Canonical scalar names the report uses, and where ``summary.json`` of ``elbench analyze`` holds them
#: (dotted paths, looked up in ``interfaces[<profiles_interface>]`` first, then at the top level).
#: Errors are at the same path with ``_err`` appended (block standard errors).
SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "first_layer_cos_theta": ("first_layer_cos_theta",),
    "h_down_fraction": ("first_layer_h_down_fraction",),
    "first_layer_max_A": ("first_layer_boundary_A",),
    "cation_contact_fraction": ("cation.contact_fraction",),
    "cation_mean_distance_A": ("cation.mean_distance_A",),
    "n_frames": ("frames.n_analysed",),
}

RMSE_FORMAT_DOC = """\
results/<model>/rmse.json (written by `elbench rmse ... --out`, read by `elbench report`):
{
  "model": "dp-mixed",
  "dataset": {"path": "...", "sha256": "..."},
  "overall": {"energy_rmse_meV_atom": 1.23, "force_rmse_meV_A": 45.6, "n_frames": 40},
  "per_charge_state": {"0": {"energy_rmse_meV_atom": ..., "force_rmse_meV_A": ..., "n_frames": 8}, ...},
  "frames": [                                   # optional: per-frame energies for the parity plot
    {"charge_state": 0, "n_atoms": 312, "energy_ref_eV": -1234.5, "energy_pred_eV": -1234.4}, ...],
  "forces": {                                   # optional: force components for the parity plot (may be subsampled)
    "charge_state": [0, 0, ...], "ref_eV_A": [...], "pred_eV_A": [...]}
}
"""


@dataclass
class Profile:
    """Columns of one profiles.csv (or a seed average): values and their standard errors."""

    z_A: np.ndarray
    values: dict[str, np.ndarray]
    errors: dict[str, np.ndarray] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str) -> np.ndarray:
        return self.values[name]

    def err(self, name: str) -> np.ndarray:
        """Standard error of a column (zeros when the file had no ``_err`` column)."""
        return self.errors.get(name, np.zeros_like(self.values[name]))

    @property
    def dz_A(self) -> float:
        return float(np.median(np.diff(self.z_A))) if len(self.z_A) > 1 else 0.0

    def cation_column(self) -> str | None:
        return find_cation_column(self.values)


@dataclass
class StateResult:
    """One model at one charge state, pooled over its analysed seeds."""

    model: str
    charge_state: int
    seeds: list[int]
    profile: Profile
    scalars: dict[str, float]
    scalar_errors: dict[str, float]
    summaries: list[dict]

    def scalar(self, name: str) -> tuple[float, float]:
        return self.scalars.get(name, math.nan), self.scalar_errors.get(name, math.nan)


def read_profiles(path: str | Path) -> Profile:
    """Read a profiles.csv (comment lines starting with '#' are skipped)."""
    path = Path(path)
    try:
        with open(path, newline="") as handle:
            rows = [r for r in csv.reader(line for line in handle if not line.startswith("#")) if r]
    except OSError as err:
        raise InputError(f"cannot read profiles: {err.strerror}", file=path) from None
    if len(rows) < 2:
        raise InputError("profiles file has no data rows", file=path)
    header = [h.strip() for h in rows[0]]
    if DISTANCE_COLUMN not in header:
        raise InputError(f"profiles file has no {DISTANCE_COLUMN} column", file=path, key=DISTANCE_COLUMN)
    try:
        data = np.array([[float(x) for x in r] for r in rows[1:]], dtype=float)
    except ValueError as err:
        raise InputError(f"non-numeric value in profiles: {err}", file=path) from None
    if data.shape[1] != len(header):
        raise InputError("rows and header have different numbers of columns", file=path)
    cols = {name: data[:, i] for i, name in enumerate(header)}
    values = {n: v for n, v in cols.items() if not n.endswith(ERROR_SUFFIX) and n != DISTANCE_COLUMN}
    errors = {n[: -len(ERROR_SUFFIX)]: v for n, v in cols.items() if n.endswith(ERROR_SUFFIX)}
    return Profile(z_A=cols[DISTANCE_COLUMN], values=values, errors=errors)


def _lookup(data: dict, dotted: str):
    node = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def first_layer_window(summary: dict) -> tuple[float | None, float] | None:
    """The user-set first layer (MIN or None, MAX) in Å a summary was analysed with; None where automatic.

    ``elbench analyze --first-layer MIN MAX`` (or ``[analysis] first_layer_A``) records
    ``first_layer_source = "user"`` and ``first_layer_window_A = [MIN, MAX]`` for each interface;
    ``--first-layer-max`` records ``[null, MAX]``. Older summaries have neither: automatic.
    """
    interfaces = summary.get("interfaces") if isinstance(summary.get("interfaces"), dict) else {}
    main = interfaces.get(summary.get("profiles_interface", "top"))
    if not isinstance(main, dict) or main.get("first_layer_source", main.get("first_layer_boundary_source")) != "user":
        return None
    window = main.get("first_layer_window_A")
    if isinstance(window, list) and len(window) == 2 and window[1] is not None:
        return (None if window[0] is None else float(window[0])), float(window[1])
    bound = main.get("first_layer_boundary_A")
    return (None, float(bound)) if bound is not None else None


def first_layer_definition(summaries) -> str:
    """One sentence: how the first layer of these analysis summaries was defined (said per definition used)."""
    kinds: list[str] = []
    for summary in summaries:
        window = first_layer_window(summary)
        if window is None:
            text = "automatic: every bin below the first O-density minimum after the first O peak"
        elif window[0] is None:
            text = f"user-set bound: d < {window[1]:g} Å (elbench analyze --first-layer-max)"
        else:
            text = f"user-set window: {window[0]:g} <= d < {window[1]:g} Å (elbench analyze --first-layer)"
        if text not in kinds:
            kinds.append(text)
    if not kinds:
        return ""
    return "First layer (first-layer ⟨cos θ⟩, H-down fraction, cation contact fraction): " + "; ".join(kinds) + "."


def summary_scalar(summary: dict, name: str) -> tuple[float, float]:
    """(value, error) of a canonical scalar in an analysis summary; NaN where absent."""
    interfaces = summary.get("interfaces") if isinstance(summary.get("interfaces"), dict) else {}
    main = interfaces.get(summary.get("profiles_interface", "top"))
    for path, where in ((p, w) for p in SUMMARY_KEYS.get(name, (name,)) for w in (main, summary)):
        if not isinstance(where, dict):
            continue
        value = _lookup(where, path)
        if value is None:
            continue
        if isinstance(value, dict):
            v = value.get("value", value.get("mean"))
            e = value.get("err", value.get("error", value.get("stderr")))
        else:
            v, e = value, _lookup(where, path + "_err")
        try:
            return float(v), (float(e) if e is not None else math.nan)
        except (TypeError, ValueError):
            continue
    return math.nan, math.nan


def replica_error(values: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Standard error of the mean of replicas along axis 0: the larger of the propagated block errors,
    sqrt(sum of sigma^2)/N, and the replicas' own spread, std/sqrt(N).

    Block errors miss motions slower than a block: at a charged electrode the Na+ ions stay adsorbed
    or solvated for tens of ps, and the first water layer's orientation follows them. Independent
    replicas that disagree beyond their block errors show it, and then their spread is the honest error.
    A missing block error (NaN) leaves the spread.
    """
    propagated = np.sqrt((errors ** 2).sum(axis=0)) / values.shape[0]
    if values.shape[0] < 2:
        return propagated
    return np.fmax(propagated, values.std(axis=0, ddof=1) / np.sqrt(values.shape[0]))


def pool_profiles(profiles: list[Profile]) -> Profile:
    """Average seeds' profiles on the first one's grid; errors as :func:`replica_error`, bin by bin."""
    if len(profiles) == 1:
        return profiles[0]
    base = profiles[0]
    names = [n for n in base.values if all(p.has(n) for p in profiles)]
    values, errors = {}, {}
    for name in names:
        vals = np.array([np.interp(base.z_A, p.z_A, p.get(name)) for p in profiles])
        errs = np.array([np.interp(base.z_A, p.z_A, p.err(name)) for p in profiles])
        values[name] = vals.mean(axis=0)
        errors[name] = replica_error(vals, errs)
    return Profile(z_A=base.z_A.copy(), values=values, errors=errors)


def pool_scalars(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """Mean of seeds' (value, error) pairs with the error of :func:`replica_error` (NaN values dropped)."""
    vals = np.array([p[0] for p in pairs if math.isfinite(p[0])], dtype=float)
    errs = np.array([p[1] for p in pairs if math.isfinite(p[0])], dtype=float)
    if len(vals) == 0:
        return math.nan, math.nan
    return float(vals.mean()), float(replica_error(vals, errs))


def load_state_result(model: str, n: int, seed_dirs: list[tuple[int, Path]]) -> StateResult | None:
    """Pool the analysed seeds of one model and charge state (None when none was analysed)."""
    found = [(s, d) for s, d in seed_dirs if (d / "profiles.csv").is_file()]
    if not found:
        return None
    profiles = [read_profiles(d / "profiles.csv") for _, d in found]
    summaries = []
    for _, d in found:
        path = d / "summary.json"
        try:
            summaries.append(json.loads(path.read_text()) if path.is_file() else {})
        except (OSError, json.JSONDecodeError) as err:
            raise InputError(f"cannot read summary: {err}", file=path) from None
    scalars, scalar_errors = {}, {}
    for name in SUMMARY_KEYS:
        scalars[name], scalar_errors[name] = pool_scalars([summary_scalar(s, name) for s in summaries])
    if len(found) > 1 and math.isfinite(scalars["n_frames"]):
        scalars["n_frames"] = float(sum(summary_scalar(s, "n_frames")[0] for s in summaries))
    return StateResult(model, n, [s for s, _ in found], pool_profiles(profiles), scalars, scalar_errors, summaries)


def load_rmse(path: str | Path) -> dict | None:
    """An rmse.json (see :data:`RMSE_FORMAT_DOC`), or None when there is none."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(f"cannot read RMSE file: {err}", file=path) from None
    if not isinstance(data, dict) or not ("overall" in data or "per_charge_state" in data):
        raise InputError("RMSE file has neither 'overall' nor 'per_charge_state'", file=path, key="per_charge_state")
    return data


@dataclass
class RunState:
    """How far one run got (from status.json and run.json)."""

    model: str
    charge_state: int
    seed: int
    state: str
    reason: str
    step: int | None
    total_steps: int | None

    @property
    def fraction_done(self) -> float:
        if self.state == "done":
            return 1.0
        if self.step is None or not self.total_steps:
            return 0.0
        return max(0.0, min(1.0, self.step / self.total_steps))


def read_run_state(model: str, n: int, seed: int, run_dir: Path) -> RunState:
    status = _read_json_or_empty(run_dir / "status.json")
    rendered = (run_dir / RUN_JSON).is_file()
    record = RunRecord.load(run_dir) if rendered else None
    total = _total_steps(status, record)
    if not status:
        state = "not rendered" if not rendered else "pending"
    else:
        state = str(status.get("state", "unknown"))
    step = status.get("step")
    try:
        step = int(step) if step is not None else None
    except (TypeError, ValueError):
        step = None
    return RunState(model, n, seed, state, str(status.get("reason") or ""), step, total)


def _total_steps(status: dict, record: RunRecord | None) -> int | None:
    """A run's last step: status.json total_steps, else run.json steps.last_step."""
    value = status.get("total_steps")
    try:
        if value is not None and int(value) > 0:
            return int(value)
    except (TypeError, ValueError):
        pass
    return (record.steps.last_step or None) if record is not None else None


def _read_json_or_empty(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
