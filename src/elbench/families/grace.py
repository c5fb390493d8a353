"""GRACE: graph atomic cluster expansion (tensorpotential): 2-layer saved models and GRACE-FS YAMLs.

Pair styles ``grace`` (saved-model directory), ``grace/fs`` (with an optional active set for
the extrapolation grade) and the KOKKOS-only ``grace/1l/kk``. Trained on E - sum(E0)
(``atom_energies.json``); the bridge adds sum(E0) back.
"""

from __future__ import annotations

from pathlib import Path

from elbench.families.spec import (ATOM_ENERGIES, BackendSpec, CostRow, FamilySpec, ModelFileSpec, PairInputs,
                                   PairStyleSpec, TrainingSpec, cost_rows, curve_row, head)


def check_model(path: Path) -> str | None:
    if path.is_dir():
        return None if (path / "saved_model.pb").is_file() else "directory without saved_model.pb"
    if path.suffix.lower() in (".yaml", ".yml"):
        return None if "elements" in head(path) else "YAML without 'elements'"
    return "neither a saved-model directory nor a GRACE-FS YAML"


def calculator(spec):
    # backends: imported only here (start-up time, family env)
    if spec.model.is_dir():
        from tensorpotential.calculator import TPCalculator

        return TPCalculator(model=str(spec.model))
    from pyace.asecalc import PyGRACEFSCalculator

    return PyGRACEFSCalculator(str(spec.model))


def _model_path(path: Path) -> Path:
    """GRACE saved models are directories; the registry lists (and hashes) their saved_model.pb."""
    return path.parent if path.name == "saved_model.pb" else path


def _grace(inputs: PairInputs) -> dict:
    return {"model": _model_path(inputs.one("model")), "active_set": None}


def _grace_fs(inputs: PairInputs) -> dict:
    active = inputs.files.get("active_set")
    return {"model": _model_path(inputs.one("model")), "active_set": active[0] if active else None}


def grace_curve(directory: Path, batches_per_epoch: float) -> list[dict]:
    """gracemaker's ``seed/*/train_metrics.yaml`` and ``test_metrics.yaml`` (rmse/depa eV/atom, rmse/f_comp eV/Å)."""
    import yaml  # start-up time

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
                rows.append(curve_row(gu, epoch, split, None if e is None else e * 1000, None if f is None else f * 1000))
    return rows


SPEC = FamilySpec(
    name="grace",
    title="GRACE (tensorpotential)",
    environment="grace",
    model=ModelFileSpec("a GRACE saved-model directory or a GRACE-FS .yaml", check_model),
    backend=BackendSpec("tensorpotential", "tensorpotential", "tensorpotential", calculator),
    pair_styles=(
        PairStyleSpec("grace", "pair/grace.j2", ("PKG_ML-PACE",), _grace),
        PairStyleSpec("grace/fs", "pair/grace.j2", ("PKG_ML-PACE",), _grace_fs, kokkos="grace/fs/kk",
                      extra_thermo=lambda pair: ("c_max_grace_gamma",) if pair.get("active_set") else ()),
        PairStyleSpec("grace/1l/kk", "pair/grace.j2", ("PKG_ML-PACE", "PKG_KOKKOS"), _grace, kokkos="grace/1l/kk",
                      kokkos_only=True),
    ),
    full_pbc=True,  # GRACE-FS (pyace) refuses mixed periodicity
    costs=cost_rows(
        cpu_small=CostRow(1e-4, "estimate: GRACE-FS, 1 core"),
        cpu_production=CostRow(2e-3, "estimate: GRACE-2L, 1 core"),
        gpu_small=CostRow(2e-6, "estimate: GRACE-FS (grace/fs) on one A100/H100"),
        gpu_production=CostRow(1e-5, "estimate: GRACE-2L on one A100/H100"),
    ),
    bridge_cost=CostRow(3e-4, "estimate: GRACE-FS through the bridge"),
    training=TrainingSpec(
        template="train/grace.yaml.j2", config_file="input.yaml", data_format="grace",
        commands=(("gracemaker", "input.yaml"), ("gracemaker", "input.yaml", "-r", "-s", "-sf")),
        model_files=("seed", ATOM_ENERGIES), gu_mode="epochs",
        # FS kwargs as tensorpotential's presets name them (get_preset_settings("FS")), sized down
        presets={"tiny": {"preset": "FS", "preset_kwargs": {"lmax": [3, 2], "n_rad_max": [8, 6], "embedding_size": 8,
                                                             "max_order": 2, "fs_parameters": [[1.0, 1.0], [1.0, 0.5]]},
                          "lr": 0.01},
                 "paper": {"preset": "GRACE_2LAYER_latest", "preset_kwargs": {}, "lr": 0.01}},
        default_cutoff_A=5.0,
        curve=grace_curve,
    ),
)
