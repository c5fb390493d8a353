"""DP-MP: DeePMD-kit's message-passing DPA-2/DPA-3 descriptors, PyTorch backend (``.pth``)."""

from __future__ import annotations

from pathlib import Path

from elbench.families.dp import deepmd_calculator, deepmd_style, dp_curve
from elbench.families.spec import BackendSpec, CostRow, FamilySpec, ModelFileSpec, TrainingSpec, cost_rows, is_zip, zip_names


def check_model(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix not in (".pth", ".pt") or not is_zip(path):
        return "not a TorchScript/torch archive"
    if suffix == ".pth" and not any(n.endswith("extra/model_def_script.json") or "/code/" in n for n in zip_names(path)):
        return "a torch archive but not a frozen DeePMD model"
    return None


def native_blockers(binary) -> list[str]:
    """The PyPI deepmd-kit plugin's PyTorch backend is built for torch 2.11; the dpmp env has another torch."""
    if "site-packages" in str(binary.path):
        return ["a deepmd plugin built for this environment's torch (the PyPI wheel's targets torch 2.11)"]
    return []


SPEC = FamilySpec(
    name="dp-mp",
    title="DeePMD DPA-2/DPA-3 (DP-MP)",
    environment="dpmp",
    model=ModelFileSpec("a frozen DeePMD PyTorch model (.pth) or checkpoint (.pt)", check_model),
    backend=BackendSpec("deepmd.pt", "deepmd", "DeePMD-kit", deepmd_calculator),
    pair_styles=(deepmd_style("DP-MP, PyTorch .pth"),),
    native_blockers=native_blockers,
    costs=cost_rows(
        cpu_small=CostRow(5e-4, "estimate: small DPA-3, PyTorch backend, 1 core"),
        cpu_production=CostRow(5e-3, "estimate: DPA-3 production size, 1 core"),
        gpu_small=CostRow(5e-6, "estimate: small DPA-3 on one A100/H100"),
        gpu_production=CostRow(2e-5, "estimate: DPA-3 on one A100/H100"),
    ),
    bridge_cost=CostRow(5e-4, "estimate: small DPA-3 through the bridge"),
    training=TrainingSpec(
        template="train/dp-mp.json.j2", config_file="input.json", data_format="deepmd",
        commands=(("dp", "--pt", "train", "input.json"), ("dp", "--pt", "freeze", "-o", "model.pth")),
        model_files=("model.pth",), gu_mode="steps",
        # tiny: a high learning rate and force-dominated loss. DPA-3 first sits on a plateau predicting near-zero
        # forces (force RMSE = label RMS); at 3e-3 or 1e-3 it stayed there for 1000 steps, at 1e-2 -> 1e-3 it did
        # for 300 steps, at 3e-2 -> 3e-3 it leaves it after ~200 (0.63 -> 0.44 eV/Å at 300 steps on q0).
        # sel covers the densest environments of the reference data (deepmd's neighbour statistics: 99 within
        # 6 Å, 37 within 4 Å); a smaller sel drops neighbours with a warning.
        presets={"tiny": {"n_dim": 16, "e_dim": 8, "a_dim": 8, "nlayers": 2, "e_sel": 120, "a_rcut_A": 4.0, "a_sel": 40,
                          "fitting_neuron": [32, 32], "start_lr": 3e-2, "stop_lr": 3e-3},
                 "paper": {"n_dim": 128, "e_dim": 64, "a_dim": 32, "nlayers": 6, "e_sel": 120, "a_rcut_A": 4.0,
                           "a_sel": 40, "fitting_neuron": [240, 240, 240], "start_lr": 1e-3, "stop_lr": 3e-5}},
        default_cutoff_A=6.0,
        message_passing_layers_key="nlayers",
        curve=dp_curve,
    ),
)
