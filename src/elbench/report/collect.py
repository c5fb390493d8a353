"""Gather everything a report needs from a campaign directory into one :class:`ReportData`.

The reference is, in order: an explicit ``--reference`` directory; a reference set under
``analysis/reference/`` whose ``reference.json`` ``system`` block matches the campaign's
``[system]``; the campaign's own model named ``reference`` (the quickstart case).
A reference set is a directory with ``reference.json`` and ``q<n>/profiles.csv`` (+ ``summary.json``), or
replicas ``q<n>/s<seed>/profiles.csv`` that are pooled like a campaign's seeds.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from elbench.config import Campaign
from elbench.errors import InputError
from elbench.potentials.manifest import manifest_for_campaign
from elbench.report.data import RunState, StateResult, load_rmse, load_state_result, read_run_state
from elbench.report.metrics import (
    DEFAULT_WINDOW_A,
    ModelConsistency,
    StateComparison,
    compare_state,
    consistency,
)
from elbench.resources import analysis_data_dir
from elbench.surface_charge import same_sigma, sigma_uC_cm2

REFERENCE_MODEL = "reference"


@dataclass
class ModelInfo:
    """What the registry says about a model (receptive field, training composition, training record).

    The record fields (test RMSE, training set, stability) stay NaN / "" for models without one.
    """

    name: str
    family: str = "unknown"
    receptive_field_A: float = math.nan
    cutoff_A: float = math.nan
    message_passing_layers: int = 0
    training: str = "unknown"
    trained_charge_states: list[int] = field(default_factory=list)
    trained_sigma_uC_cm2: list[float] = field(default_factory=list)  # empty: training cell area unknown
    description: str = ""
    training_set: str = ""
    test_rmse_energy_meV_atom: float = math.nan
    test_rmse_force_meV_A: float = math.nan
    test_frames: int = 0
    stability: str = ""
    stable: bool | None = None  # True: ran the target length; False: blew up; None: not tested that long / no record
    water_off_metal: bool = False  # kept together, but its first water layer left the metal

    def trained_at(self, n: int, sigma_uC_cm2: float) -> bool:
        """Whether a charge state is one the model was trained on: the same surface charge when the registry
        knows the training cell, the same cation count otherwise; True for models without training states."""
        if not self.trained_charge_states:
            return True
        if self.trained_sigma_uC_cm2:
            return any(same_sigma(sigma_uC_cm2, s) for s in self.trained_sigma_uC_cm2)
        return n in self.trained_charge_states


@dataclass
class ReportData:
    campaign: Campaign
    models: list[str]
    charge_states: list[int]
    sigma_uC_cm2: dict[int, float]
    reference_label: str
    reference: dict[int, StateResult]
    results: dict[str, dict[int, StateResult]]
    comparisons: dict[str, dict[int, StateComparison]]
    consistency: dict[str, ModelConsistency]
    runs: list[RunState]
    rmse: dict[str, dict]
    info: dict[str, ModelInfo]
    n_sigma: float
    window_A: tuple[float, float]
    warnings: list[str] = field(default_factory=list)

    @property
    def compared_models(self) -> list[str]:
        """Models compared against the reference (the campaign's reference model only when a shipped set is used)."""
        return [m for m in self.models if m in self.comparisons and self.comparisons[m]]


def _area_from_config(campaign: Campaign) -> float:
    """Lateral area of the cell the builder makes (fallback when no system.json)."""
    from elbench.build.assemble import slab_area_A2  # start-up time: build pulls in ASE

    return slab_area_A2(campaign.config.system)


def charge_densities(campaign: Campaign) -> dict[int, float]:
    out = {}
    for n in campaign.config.system.charge_states:
        path = campaign.system_dir(n) / "system.json"
        value = math.nan
        if path.is_file():
            try:
                data = json.loads(path.read_text())
                value = float(data.get("sigma_uC_cm2", math.nan))
                if not math.isfinite(value) and "area_A2" in data:
                    value = sigma_uC_cm2(n, float(data["area_A2"]))
            except (OSError, ValueError, TypeError, json.JSONDecodeError):
                value = math.nan
        out[n] = value if math.isfinite(value) else sigma_uC_cm2(n, _area_from_config(campaign))
    return out


def find_reference_set(campaign: Campaign, root: Path | None = None) -> Path | None:
    """A directory under analysis/reference/ whose reference.json system block matches the campaign."""
    if root is None:
        root = analysis_data_dir() / "reference"
    if not root.is_dir():
        return None
    system = campaign.config.system.model_dump(mode="json")
    for meta_path in sorted(root.glob("*/reference.json")):
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        wanted = meta.get("system", {}) if isinstance(meta, dict) else {}
        if wanted and all(_same(system.get(k), v) for k, v in wanted.items()):
            return meta_path.parent
    return None


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def load_reference_set(directory: Path, charge_states: list[int]) -> dict[int, StateResult]:
    """A reference set's results per charge state: ``q<n>/`` itself, or its replicas ``q<n>/s<seed>/`` pooled."""
    out = {}
    for n in charge_states:
        replicas = sorted((int(d.name[1:]), d) for d in (directory / f"q{n}").glob("s*") if re.fullmatch(r"s\d+", d.name))
        res = load_state_result(REFERENCE_MODEL, n, replicas or [(0, directory / f"q{n}")])
        if res is not None:
            out[n] = res
    return out


def run_length_warnings(campaign: Campaign, reference_dir: Path) -> list[str]:
    """Say so when the campaign's runs are much shorter than the reference set's.

    Block errors of short runs miss slow motions (ions decorrelate over tens of ps), so a
    flag on a short run often means 'not sampled enough' rather than 'wrong'.
    """
    try:
        meta = json.loads((reference_dir / "reference.json").read_text())
        ref_ps = float(meta["md"]["production_ps"])
    except (OSError, KeyError, TypeError, ValueError, json.JSONDecodeError):
        return []
    ours = campaign.config.md.production_ps
    if ours * 3 > ref_ps:
        return []
    return [f"production runs here are {ours:g} ps long, the reference set's {ref_ps:g} ps: block errors of short runs "
            "underestimate slow fluctuations (ion positions), so flags may reflect sampling rather than the model"]


def model_info(campaign: Campaign, models: list[str]) -> dict[str, ModelInfo]:
    """Registry facts per model; models missing from the registry get unknowns, not an error."""
    try:
        manifest = manifest_for_campaign(campaign)
    except InputError:
        manifest = None
    out = {}
    for m in models:
        entry = manifest.entries.get(m) if manifest is not None else None
        if entry is None:
            out[m] = ModelInfo(m)
            continue
        out[m] = ModelInfo(
            name=m,
            family=entry.family,
            receptive_field_A=entry.receptive_field_A,
            cutoff_A=entry.cutoff_A,
            message_passing_layers=entry.message_passing_layers,
            training=entry.training,
            trained_charge_states=list(entry.trained_charge_states),
            trained_sigma_uC_cm2=entry.trained_sigma_uC_cm2,
            description=entry.description,
            **_record_info(entry.trained),
        )
    return out


def _record_info(rec) -> dict:
    """ModelInfo fields from a registry TrainingRecord (empty for None)."""
    if rec is None:
        return {}
    return {
        "training_set": rec.training_set,
        "test_rmse_energy_meV_atom": rec.test_rmse_energy_meV_atom,
        "test_rmse_force_meV_A": rec.test_rmse_force_meV_A,
        "test_frames": rec.test_frames,
        "stability": rec.stability_status,
        "stable": False if rec.nvt_blew_up_at_ps is not None else (True if rec.ran_to_target else None),
        "water_off_metal": rec.water_off_metal,
    }


def collect(
    campaign: Campaign,
    *,
    reference_dir: Path | None = None,
    n_sigma: float = 2.0,
    window_A: tuple[float, float] = DEFAULT_WINDOW_A,
) -> ReportData:
    """Read results, run states, RMSE files and registry facts; compute every comparison."""
    cfg = campaign.config
    models, states, seeds = list(cfg.models), list(cfg.system.charge_states), list(cfg.md.seeds)
    results: dict[str, dict[int, StateResult]] = {}
    for m in models:
        for n in states:
            res = load_state_result(m, n, [(s, campaign.result_dir(m, n, s)) for s in seeds])
            if res is not None:
                results.setdefault(m, {})[n] = res
    warnings: list[str] = []
    if reference_dir is not None:
        if not reference_dir.is_dir():
            raise InputError("reference directory not found", file=reference_dir, key="--reference")
        reference, label = load_reference_set(reference_dir, states), f"reference set {reference_dir}"
    else:
        found = find_reference_set(campaign)
        if found is not None:
            reference, label = load_reference_set(found, states), f"shipped reference set {found.name}"
            warnings += run_length_warnings(campaign, found)
        else:
            reference, label = results.get(REFERENCE_MODEL, {}), "the campaign's `reference` model"
    if not reference:
        warnings.append(
            "no reference profiles: none under analysis/reference/ matches this system and the campaign's "
            "`reference` model has no analysed runs; models are shown without comparison"
        )
    sigma = charge_densities(campaign)
    info = model_info(campaign, models)
    own_reference = reference is results.get(REFERENCE_MODEL)
    comparisons: dict[str, dict[int, StateComparison]] = {}
    for m in models:
        if own_reference and m == REFERENCE_MODEL:
            continue
        for n, res in results.get(m, {}).items():
            if n in reference:
                comparisons.setdefault(m, {})[n] = compare_state(
                    res, reference[n], sigma_uC_cm2=sigma[n], receptive_field_A=info[m].receptive_field_A, window_A=window_A
                )
    cons = {m: consistency(m, list(c.values())) for m, c in comparisons.items()}
    runs = [read_run_state(m, n, s, campaign.run_dir(m, n, s)) for m, n, s in campaign.run_keys()]
    rmse = {}
    for m in models:
        data = load_rmse(campaign.results_dir / m / "rmse.json")
        if data is not None:
            rmse[m] = data
    for m in models:
        missing = [n for n in states if n not in results.get(m, {})]
        if missing:
            warnings.append(f"{m}: no analysed results for charge states {missing}")
    return ReportData(
        campaign=campaign,
        models=models,
        charge_states=states,
        sigma_uC_cm2=sigma,
        reference_label=label,
        reference=reference,
        results=results,
        comparisons=comparisons,
        consistency=cons,
        runs=runs,
        rmse=rmse,
        info=info,
        n_sigma=n_sigma,
        window_A=window_A,
        warnings=warnings,
    )
