"""A synthetic campaign with known differences between models, for the report tests.

Profiles are analytic (a Gaussian first water layer on a smooth bulk step, a Gaussian
cation layer), written in the analysis contract's format, so every metric has an answer
computed here independently of elbench:

* ``same``:      the reference's profiles and summaries exactly -> no flags.
* ``shifted``:   every profile shifted 0.3 Å away from the surface -> peak shift 0.3 Å, L1 known.
* ``tilted``:    first-layer ⟨cos θ⟩ offset by +0.1 (same trend) -> Δ = 0.1 flagged, slopes agree.
* ``flipped``:   ⟨cos θ⟩ trend with σ reversed -> opposite slope sign, trend flagged.
* ``shortrange``: a 4 Å receptive field with cations at 5.5 Å -> cation beyond receptive field.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from elbench.config import parse_campaign
from elbench.templates_campaign import campaign_toml, quickstart_config
from record_support import write_record

DZ = 0.1
Z = np.round(np.arange(0.05, 15.0, DZ), 6)
RHO_ERR = 0.02
COS_ERR = 0.01
PEAK_Z, PEAK_W, PEAK_H = 3.0, 0.25, 3.0
BULK_Z, BULK_W = 4.2, 0.3
SHIFT_A = 0.3
COS_OFFSET = 0.1
AREA_A2 = 100.0
STATES = [0, 1, 2, 3, 4]
MODELS = ["reference", "same", "shifted", "tilted", "flipped", "shortrange"]


def rho_water(z: np.ndarray, shift: float = 0.0) -> np.ndarray:
    z = z - shift
    return PEAK_H * np.exp(-((z - PEAK_Z) ** 2) / (2 * PEAK_W**2)) + 1.0 / (1.0 + np.exp(-(z - BULK_Z) / BULK_W))


def ref_cos(n: int) -> float:
    return -0.05 - 0.06 * n


def model_cos(model: str, n: int) -> float:
    if model == "tilted":
        return ref_cos(n) + COS_OFFSET
    if model == "flipped":
        return ref_cos(0) + 0.06 * n
    return ref_cos(n)


def cation_center(model: str) -> float:
    return 5.5 if model == "shortrange" else 2.5


def write_profiles(path: Path, model: str, n: int) -> None:
    shift = SHIFT_A if model == "shifted" else 0.0
    rho = rho_water(Z, shift)
    cos_first = model_cos(model, n)
    cos = np.where(Z - shift < 4.0, cos_first, 0.0)
    na = np.zeros_like(Z)
    if n:
        c = cation_center(model) + shift
        na = n / (AREA_A2 * 0.3 * math.sqrt(2 * math.pi)) * np.exp(-((Z - c) ** 2) / (2 * 0.3**2))
    cols = {
        "z_A": Z,
        "rho_water_g_cm3": rho,
        "n_O_per_A3": rho * 0.0334,
        "n_H_per_A3": rho * 0.0668,
        "n_Na_per_A3": na,
        "cos_theta": cos,
        "rho_cos_theta_g_cm3": rho * cos,
    }
    errs = {"rho_water_g_cm3": RHO_ERR, "n_O_per_A3": 0.001, "n_H_per_A3": 0.002, "n_Na_per_A3": 1e-5,
            "cos_theta": 0.05, "rho_cos_theta_g_cm3": 0.02}
    headers = list(cols) + [f"{k}_err" for k in errs]
    data = np.column_stack([cols[k] for k in cols] + [np.full_like(Z, v) for v in errs.values()])
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# elbench analyze (synthetic test profiles)", ",".join(headers)]
    lines += [",".join(f"{v:.10g}" for v in row) for row in data]
    path.write_text("\n".join(lines) + "\n")


def write_summary(path: Path, model: str, n: int) -> None:
    """A summary.json shaped like `elbench analyze` writes it (main interface under interfaces.top)."""
    contact = 0.0 if model == "shortrange" else 0.8
    top = {"first_layer_boundary_A": 4.0, "first_layer_cos_theta": model_cos(model, n), "first_layer_cos_theta_err": COS_ERR,
           "first_layer_h_down_fraction": 0.2 + 0.05 * n, "first_layer_h_down_fraction_err": 0.01, "cation": {"n_cations": n}}
    if n:
        top["cation"].update({"contact_fraction": contact, "contact_fraction_err": 0.05,
                              "mean_distance_A": cation_center(model) + (SHIFT_A if model == "shifted" else 0.0)})
    summary = {"kind": "elbench analyze", "frames": {"n_analysed": 200}, "profiles_interface": "top", "interfaces": {"top": top}}
    path.write_text(json.dumps(summary))


MANIFEST = """
[[potential]]
name = "reference"
family = "reference"
type_map = ["Au", "O", "H", "Na"]
cutoff_A = 8.0
training = "none"
{entries}
"""

ENTRY = """
[[potential]]
name = "{name}"
family = "{family}"
type_map = ["Au", "O", "H", "Na"]
cutoff_A = {cutoff}
message_passing_layers = {layers}
training = "{training}"
trained_charge_states = {trained}
files = [{{path = "{name}.model", sha256 = "{sha}"}}]
"""


def make_campaign(root: Path, *, with_rmse: bool = True, with_failed: bool = True) -> Path:
    """Write a campaign with synthetic results for every model; return its elbench.toml."""
    cfg = quickstart_config().model_dump(mode="json")
    cfg["name"] = "synthetic"
    cfg["models"] = MODELS
    cfg["manifest"] = "manifest.toml"
    cfg["system"]["repeats"] = [4, 6]  # matches no shipped reference set: the campaign's `reference` is the reference
    root.mkdir(parents=True, exist_ok=True)
    path = root / "elbench.toml"
    path.write_text(campaign_toml(parse_campaign(cfg), "synthetic test"))
    entries = []
    for m in MODELS[1:]:
        short = m == "shortrange"
        entries.append(ENTRY.format(name=m, family="dp" if short else "mace", cutoff=4.0 if short else 5.0,
                                    layers=0 if short else 2, training="single" if m == "tilted" else "mixed",
                                    trained="[0, 4]" if m == "tilted" else "[0, 1, 2, 3, 4]", sha="0" * 64))
    (root / "manifest.toml").write_text(MANIFEST.format(entries="".join(entries)))
    for n in STATES:
        (root / "systems" / f"q{n}").mkdir(parents=True, exist_ok=True)
        (root / "systems" / f"q{n}" / "system.json").write_text(json.dumps({"area_A2": AREA_A2, "sigma_uC_cm2": expected_sigma(n)}))
        for m in MODELS:
            out = root / "results" / m / f"q{n}" / "s1"
            run = root / "runs" / m / f"q{n}" / "s1"
            run.mkdir(parents=True, exist_ok=True)
            write_record(run, model=m, charge_state=n, eq_steps=2000, prod_steps=8000)
            if with_failed and m == "flipped" and n == 4:
                (run / "status.json").write_text(json.dumps({"state": "failed", "reason": "lost atoms", "step": 1200}))
                continue
            (run / "status.json").write_text(json.dumps({"state": "done", "step": 10000}))
            write_profiles(out / "profiles.csv", m, n)
            write_summary(out / "summary.json", m, n)
    if with_rmse:
        write_rmse(root / "results" / "tilted" / "rmse.json")
    return path


def expected_sigma(n: int) -> float:
    return -n * 1.602176634e-19 * 1e6 / (AREA_A2 * 1e-16)


def write_rmse(path: Path) -> None:
    rng = np.random.default_rng(3)
    frames, fq, fr, fp = [], [], [], []
    for n in STATES:
        for _ in range(4):
            e = -1000.0 + rng.normal() * 0.5
            frames.append({"charge_state": n, "n_atoms": 300, "energy_ref_eV": e, "energy_pred_eV": e + rng.normal() * 0.3})
            f = rng.normal(size=30)
            fr += f.tolist()
            fp += (f + rng.normal(size=30) * 0.05).tolist()
            fq += [n] * 30
    data = {
        "model": "tilted",
        "overall": {"energy_rmse_meV_atom": 1.0, "force_rmse_meV_A": 50.0, "n_frames": 20},
        "per_charge_state": {str(n): {"energy_rmse_meV_atom": 1.0 + 0.2 * n, "force_rmse_meV_A": 50.0 + n, "n_frames": 4} for n in STATES},
        "frames": frames,
        "forces": {"charge_state": fq, "ref_eV_A": fr, "pred_eV_A": fp},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def expected_l1_shift(window=(0.0, 8.0)) -> float:
    """∫|ρ(z − 0.3) − ρ(z)| dz over the window, integrated finely (independent of the report's binning)."""
    z = np.linspace(window[0], window[1], 400_001)
    return float(np.trapezoid(np.abs(rho_water(z, SHIFT_A) - rho_water(z)), z))
