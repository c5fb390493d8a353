"""eSEN: fairchem's equivariant smooth energy network (eSEN-OC25 and elbench's tiny ones).

No native LAMMPS pair style: eSEN runs through the bridge (fairchem's own LAMMPS integration
works the same way), with the OC25 task head.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from elbench.families.spec import (BackendSpec, CostRow, FamilySpec, ModelFileSpec, TrainInputs, TrainingSpec,
                                   cost_rows, curve_row, is_zip, zip_names)
from elbench.io import read_json

#: the fairchem task (head) elbench's eSEN models are asked for; the training preset's dataset_name
TASK = "oc25"


def check_model(path: Path) -> str | None:
    if not is_zip(path):
        return "not a torch archive"
    if "mace" in " ".join(zip_names(path)).lower():
        return "a MACE model archive"
    return None


def calculator(spec):
    # backend: imported only here (start-up time, family env)
    from fairchem.core import FAIRChemCalculator
    from fairchem.core.units.mlip_unit import load_predict_unit

    task = spec.option("task", TASK)
    refs_file = spec.option("atom_refs")
    kwargs: dict[str, Any] = {"device": "cpu"}
    if refs_file:
        refs = json.loads(Path(refs_file).read_text())
        # JSON keys are strings; fairchem looks references up by atomic number
        kwargs["atom_refs"] = {ds: {int(z): e for z, e in table.items()} for ds, table in refs.items()}
    kwargs["inference_settings"] = _settings(spec.option("dtype", "float64"))
    unit = load_predict_unit(str(spec.model), **kwargs)
    return FAIRChemCalculator(unit, task_name=task)


def _settings(dtype: str):
    """fairchem inference settings: CPU, no compile, float64 by default (parity in double)."""
    from fairchem.core.units.mlip_unit.api.inference import InferenceSettings  # backend (start-up time)

    return InferenceSettings(tf32=False, activation_checkpointing=False, merge_mole=False, compile=False,
                             external_graph_gen=False, base_precision_dtype=dtype)


# --------------------------------------------------------------------------- training

_FAIRCHEM_STEP = re.compile(r"'train/step': (\d+)")
_FAIRCHEM_EPOCH_END = re.compile(r"After train epoch, train progress: .*num_steps_completed = (\d+)")
_FAIRCHEM_METRIC = re.compile(r"^\s+val/[^,]+,\w+_(energy|forces),mse: ([0-9.eE+-]+|nan|inf)\s*$")


def fairchem_curve(directory: Path, batches_per_epoch: float) -> list[dict]:
    """Validation RMSEs from fairchem's log (run.sh's train.log, or a SLURM train-*.out).

    fairchem prints ``val/<dataset>.val,<task>_forces,mse`` per component (eV²/Å²) and ``..._energy,mse`` of the
    total energy (eV², divided here by the validation frames' mean atom count), with four decimals, so small
    errors are coarse. The template sets print_every = evaluate_every_n_steps = k, so a step-triggered
    validation follows the printed ``'train/step': s`` (s a multiple of k) and stands for s + k updates;
    torchtnt also validates at each epoch end, before its ``After train epoch ... num_steps_completed = N``
    line (N updates). Repeated evaluations at the same update count are kept once.
    """
    from ase.io import read  # start-up time

    record = read_json(directory / "train.json")
    k = _fairchem_every(directory)
    data = record["data"]
    part = next(p for p in ("valid", "test", "train") if p in data)
    natoms = [len(a) for a in read(directory / data[part]["path"], index=":", format="extxyz")]
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
    return [curve_row(gu, gu / batches_per_epoch, "valid", math.sqrt(v["energy"]) / mean_atoms * 1000,
                      math.sqrt(v["forces"]) * 1000) for gu, v in sorted(points.items())]


def _fairchem_every(directory: Path) -> int:
    import yaml  # start-up time

    config = yaml.safe_load((directory / "esen.yaml").read_text())
    return int(config["runner"]["evaluate_every_n_steps"])


def fairchem_context(inputs: TrainInputs) -> dict:
    """What fairchem's config needs from the data: file locations, batch packing, references, scales.

    * max_atoms = batch size x the largest training frame (fairchem batches by atom count);
    * per-element reference energies: least squares of the training energies on the element counts
      (minimum-norm when the composition does not vary), subtracted before the energy loss;
    * the training force RMS (eV/Å) normalises energies and forces;
    * EMA decay 1 - 10/GU (0.5-0.999): the inference checkpoint holds EMA weights.
    """
    import numpy as np  # start-up time
    from ase.data import atomic_numbers

    frames = inputs.frames()
    per_element = inputs.atom_energies()
    refs = [0.0] * (max(atomic_numbers[el] for el in per_element) + 1)
    for el, value in per_element.items():
        refs[atomic_numbers[el]] = value
    forces = np.concatenate([np.asarray(a.arrays["REF_forces"]).ravel() for a in frames])
    data = inputs.data
    valid = Path(data.get("valid") or data["train"])
    return {
        "train_dir": str(Path(data["train"]).parent), "train_pattern": Path(data["train"]).name,
        "valid_dir": str(valid.parent), "valid_pattern": valid.name,
        "max_atoms": inputs.batch_size * max(len(a) for a in frames),
        "element_references_eV": refs,
        "force_rms_eV_A": round(float(np.sqrt(np.mean(forces ** 2))), 6),
        "ema_decay": min(0.999, max(0.5, 1.0 - 10.0 / inputs.gradient_updates)),
    }


SPEC = FamilySpec(
    name="esen",
    title="eSEN (fairchem)",
    environment="esen",
    model=ModelFileSpec("a fairchem inference checkpoint (.pt)", check_model),
    backend=BackendSpec("fairchem.core", "fairchem.core", "fairchem-core", calculator),
    pair_styles=(),
    bridge_options=(("task", TASK),),
    # packages.md -- eSEN-sm-size 0.13 steps/s at 200 atoms on CPU.
    costs=cost_rows(
        cpu_small=CostRow(3.8e-2, "measured here: eSEN-sm-size, 200 atoms, 0.13 steps/s"),
        cpu_production=CostRow(3.8e-2, "measured here: eSEN-sm-size, 200 atoms, 0.13 steps/s"),
        gpu_small=CostRow(2e-5, "estimate: eSEN-sm via fairchem-lammps on one A100/H100"),
        gpu_production=CostRow(4e-5, "estimate: eSEN-OC25-size via fairchem-lammps on one A100/H100"),
    ),
    bridge_cost=CostRow(3.8e-2, "measured here: eSEN-sm-size, 200 atoms, 0.13 steps/s"),
    training=TrainingSpec(
        template="train/esen.yaml.j2", config_file="esen.yaml", data_format="fairchem",
        commands=(("fairchem", "-c", "esen.yaml"),),
        model_files=("fairchem/checkpoints/final/inference_ckpt.pt",), gu_mode="steps",
        # dataset_name is the task/head prefix the calculator is asked for (FAIRChemCalculator task_name)
        presets={"tiny": {"channels": 16, "num_layers": 2, "lmax": 2, "num_distance_basis": 64, "max_neighbors": 40,
                          "lr": 1e-2, "energy_coefficient": 1.0, "force_coefficient": 10.0, "device_type": "CPU",
                          "dataset_name": TASK},
                 "paper": {"channels": 128, "num_layers": 4, "lmax": 2, "num_distance_basis": 64, "max_neighbors": 300,
                           "lr": 4e-4, "energy_coefficient": 1.0, "force_coefficient": 10.0, "device_type": "CUDA",
                           "dataset_name": TASK}},
        default_cutoff_A=6.0,
        message_passing_layers_key="num_layers",
        curve=fairchem_curve,
        context=lambda inputs: {"fairchem": fairchem_context(inputs)},
    ),
)
