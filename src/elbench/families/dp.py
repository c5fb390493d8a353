"""DP: DeePMD-kit's se_e2_a descriptor, TensorFlow backend (a frozen ``.pb`` graph).

Also the home of what DP-MP (:mod:`.dp_mp`) shares with it: the ``deepmd`` pair style
(with a committee's model deviation), the deepmd/npy training data and ``lcurve.out``.
"""

from __future__ import annotations

from pathlib import Path

from elbench.errors import InputError
from elbench.families.spec import (BackendSpec, CostRow, FamilySpec, ModelFileSpec, PairInputs, PairStyleSpec,
                                   TrainingSpec, cost_rows, curve_row, is_zip)


def check_model(path: Path) -> str | None:
    if path.is_dir() or is_zip(path) or path.suffix.lower() != ".pb":
        return "not a TensorFlow .pb graph"
    return None


def deepmd_calculator(spec):
    from deepmd.calculator import DP  # backend: imported only here (start-up time, family env)

    return DP(model=str(spec.model))


def deepmd_style(label: str) -> PairStyleSpec:
    """The ``deepmd`` pair style (a committee of several models writes the model deviation); ``label`` names
    the flavour in the deck's comment."""

    def context(inputs: PairInputs) -> dict:
        models = inputs.files.get("model", [])
        if not models:
            raise InputError(f"potential '{inputs.entry.name}' lists no file with role 'model'",
                             key=f"potential.{inputs.entry.name}.files")
        return {"models": models, "label": label, "out_freq": inputs.thermo_interval_steps,
                "out_file": inputs.model_deviation_file}

    return PairStyleSpec("deepmd", "pair/deepmd.j2", ("PKG_PLUGIN", "plugin:deepmd"), context)


def dp_curve(directory: Path, batches_per_epoch: float) -> list[dict]:
    """DeePMD's ``lcurve.out``: rmse_e_* per atom, rmse_f_* per component, eV units."""
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
                rows.append(curve_row(step, step / batches_per_epoch, split, None if e is None else e * 1000,
                                      None if f is None else f * 1000))
    return rows


SPEC = FamilySpec(
    name="dp",
    title="DeePMD se_e2_a (DP)",
    environment="dp",
    model=ModelFileSpec("a frozen DeePMD TensorFlow graph (.pb)", check_model),
    backend=BackendSpec("deepmd", "deepmd", "DeePMD-kit", deepmd_calculator),
    pair_styles=(deepmd_style("DP"),),
    costs=cost_rows(
        cpu_small=CostRow(2e-5, "estimate: se_e2_a, TF backend, 1 core"),
        cpu_production=CostRow(6e-5, "estimate: se_e2_a production size, 1 core"),
        gpu_small=CostRow(5e-7, "estimate: se_e2_a on one A100/H100"),
        gpu_production=CostRow(1e-6, "estimate: se_e2_a on one A100/H100"),
    ),
    bridge_cost=CostRow(1e-4, "estimate: se_e2_a DeepPot through the bridge"),
    training=TrainingSpec(
        template="train/dp.json.j2", config_file="input.json", data_format="deepmd",
        commands=(("dp", "--tf", "train", "input.json"), ("dp", "--tf", "freeze", "-o", "model.pb")),
        model_files=("model.pb",), gu_mode="steps",
        # tiny: float32 and a high learning rate so that forces are learnt within a few hundred steps on a CPU
        # (at 1e-3 -> 1e-5 the force RMSE of 200 steps stayed at the label RMS); rcut_smth 0.5 Å as deepmd's water example
        presets={"tiny": {"embedding_neuron": [8, 16], "axis_neuron": 4, "fitting_neuron": [32, 32], "start_lr": 1e-2,
                          "stop_lr": 1e-3, "rcut_smth_A": 0.5, "precision": "float32"},
                 "paper": {"embedding_neuron": [25, 50, 100], "axis_neuron": 16, "fitting_neuron": [240, 240, 240],
                           "start_lr": 1e-3, "stop_lr": 3.5e-8, "rcut_smth_A": 0.5, "precision": "float64"}},
        default_cutoff_A=6.0,
        curve=dp_curve,
    ),
)
