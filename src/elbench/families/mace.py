"""MACE: higher-order equivariant message passing (mace-torch).

Native styles: ``mace`` (the MACE LAMMPS interface, ``*-lammps.pt``) and ``mliap`` (ML-IAP
unified with Python, ``*-mliap_lammps.pt``, KOKKOS builds); the model file's name picks the default.
"""

from __future__ import annotations

import json
from pathlib import Path

from elbench.families.spec import (BackendSpec, CostRow, FamilySpec, ModelFileSpec, PairInputs, PairStyleSpec,
                                   TrainInputs, TrainingSpec, cost_rows, curve_row, is_zip, zip_names)

MLIAP_SUFFIX = "-mliap_lammps.pt"


def check_model(path: Path) -> str | None:
    if not is_zip(path):
        return "not a torch archive"
    names = " ".join(zip_names(path))
    if "mace" not in names.lower() and "MACE" not in names:
        return "torch archive without MACE classes"
    return None


def calculator(spec):
    from mace.calculators import MACECalculator  # backend: imported only here (start-up time, family env)

    return MACECalculator(model_paths=str(spec.model), device="cpu", default_dtype=spec.option("dtype", "float64"))


def default_style(entry) -> str:
    """``mliap`` for an ML-IAP export (``*-mliap_lammps.pt``), else ``mace``."""
    model = entry.model_file("model")
    return "mliap" if model is not None and model.path.endswith(MLIAP_SUFFIX) else "mace"


def _mace(inputs: PairInputs) -> dict:
    return {"model": inputs.one("model"), "single_rank": inputs.mpi_ranks == 1}


def _mliap(inputs: PairInputs) -> dict:
    return {"model": inputs.one("model")}


def mace_curve(directory: Path, batches_per_epoch: float) -> list[dict]:
    """MACE's ``results/*_train.txt`` (JSON lines, mode "eval": rmse_e_per_atom, rmse_f)."""
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
        rows.append(curve_row(epoch * batches_per_epoch, epoch, "valid", rec["rmse_e_per_atom"] * 1000, rec["rmse_f"] * 1000))
    return rows


def mace_e0s(per_element: dict[str, float]) -> dict[int, float]:
    """MACE's ``E0s``: {atomic number: eV} (the template writes it as the dict literal MACE parses)."""
    from ase.data import atomic_numbers  # start-up time

    return {atomic_numbers[el]: value for el, value in per_element.items()}


def training_context(inputs: TrainInputs) -> dict:
    # the archive folder name must say mace (check_model); least-squares E0s (by atomic number) inside the
    # model: MACE's "average" left the energies ~0.35 eV/atom off
    return {"name": "mace_model", "mace_e0s": mace_e0s(inputs.atom_energies())}


SPEC = FamilySpec(
    name="mace",
    title="MACE",
    environment="mace",
    model=ModelFileSpec("a MACE model file (.model)", check_model),
    backend=BackendSpec("mace", "mace", "mace-torch", calculator),
    pair_styles=(
        PairStyleSpec("mace", "pair/mace.j2", ("PKG_ML-MACE",), _mace),
        PairStyleSpec("mliap", "pair/mliap.j2", ("PKG_ML-IAP", "MLIAP_ENABLE_PYTHON", "PKG_PYTHON"), _mliap,
                      kokkos="mliap/kk", packages=(("PYTHON", "mliap unified needs ML-IAP with Python"),)),
    ),
    default_style=default_style,
    # MACE: packages.md -- tiny model 12-19 steps/s at 200 atoms; foundation-size 0.2-0.7 steps/s at 200 atoms.
    costs=cost_rows(
        cpu_small=CostRow(3.3e-4, "measured here: tiny MACE via ASE, 200 atoms, ~15 steps/s"),
        cpu_production=CostRow(1.1e-2, "measured here: foundation-size MACE, 200 atoms, ~0.45 steps/s"),
        gpu_small=CostRow(2e-6, "estimate: small MACE, ML-IAP/KOKKOS on one A100/H100"),
        gpu_production=CostRow(1e-5, "estimate: medium MACE, ML-IAP/KOKKOS on one A100/H100"),
    ),
    bridge_cost=CostRow(3.3e-4, "measured here: tiny MACE via ASE, 200 atoms, ~15 steps/s"),
    training=TrainingSpec(
        template="train/mace.yaml.j2", config_file="mace.yaml", data_format="mace",
        commands=(("mace_run_train", "--config", "mace.yaml"),),
        model_files=("mace_model.model",), gu_mode="epochs",
        # tiny: energy and forces weighted equally. With MACE's default 1:100 the 600-GU models fitted forces
        # (70-90 meV/Å) while the energies got worse than the first epoch's (q0: 87 -> 274 -> 82 meV/atom).
        presets={"tiny": {"num_interactions": 2, "hidden_irreps": "8x0e + 8x1o", "max_L": 1, "correlation": 2,
                          "mlp_irreps": "8x0e", "lr": 0.01, "energy_weight": 100.0, "forces_weight": 100.0},
                 "paper": {"num_interactions": 2, "hidden_irreps": "128x0e + 128x1o", "max_L": 1, "correlation": 3,
                           "mlp_irreps": "16x0e", "lr": 0.01, "energy_weight": 1.0, "forces_weight": 100.0}},
        default_cutoff_A=4.5,
        message_passing_layers_key="num_interactions",
        curve=mace_curve,
        context=training_context,
    ),
)
