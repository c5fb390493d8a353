"""A tiny eSEN (fairchem eSCNMD backbone, conserving) with RANDOM weights, as an inference checkpoint.

Run in the esen env:  python potentials/tiny/make_esen.py OUT_DIR [--seed 0]

Writes OUT_DIR/esen-tiny.pt (fairchem MLIPInferenceCheckpoint: model config, random weights,
tasks oc25_energy/oc25_forces/oc25_stress for dataset "oc25") and OUT_DIR/atom_refs.json
(isolated-atom reference energies per dataset, the format load_predict_unit(atom_refs=...) takes;
here the per-element mean energies of the tiny dataset are NOT used: values are placeholders from
the model itself, see README). Random weights are acceptable only for this family: eSEN-OC25 is a
foundation model that cannot be trained on a CPU, and the point of the shipped model is to exercise
the loading path (local checkpoint + atom_refs, task oc25) and the bridge, not to be accurate.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

DATASET = "oc25"
ELEMENTS = {"H": 1, "O": 8, "Na": 11, "Au": 79}


def model_config(cutoff: float) -> dict:
    backbone = {
        "model": "fairchem.core.models.uma.escn_md.eSCNMDBackbone",
        "max_num_elements": 100, "sphere_channels": 16, "lmax": 2, "mmax": 2, "otf_graph": True,
        "max_neighbors": 40, "cutoff": cutoff, "edge_channels": 16, "num_distance_basis": 16,
        "direct_forces": False, "regress_forces": True, "regress_stress": True, "num_layers": 2,
        "hidden_channels": 16, "norm_type": "rms_norm_sh", "act_type": "gate", "ff_type": "grid",
        "dataset_mapping": {DATASET: DATASET}, "use_dataset_embedding": True, "always_use_pbc": False,
    }
    heads = {f"{DATASET}_efs": {"module": "fairchem.core.models.uma.escn_md.MLP_EFS_Head",
                                 "prefix": DATASET, "wrap_property": True}}
    return {"_target_": "fairchem.core.models.base.HydraModel", "backbone": backbone, "heads": heads,
            "otf_graph": True, "pass_through_head_outputs": True}


def task(prop: str, level: str, dim: list[int]) -> dict:
    return {
        "_target_": "fairchem.core.units.mlip_unit.mlip_unit.Task",
        "name": f"{DATASET}_{prop}", "level": level, "property": prop,
        "out_spec": {"_target_": "fairchem.core.units.mlip_unit.mlip_unit.OutputSpec", "dim": dim,
                     "dtype": "float32"},
        "normalizer": {"_target_": "fairchem.core.modules.normalization.normalizer.Normalizer",
                       "mean": 0.0, "rmsd": 1.0},
        "datasets": [DATASET],
    }


def main() -> None:
    import hydra

    from fairchem.core.units.mlip_unit.api.inference import MLIPInferenceCheckpoint

    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cutoff", type=float, default=4.5)
    opts = parser.parse_args()
    torch.manual_seed(opts.seed)
    config = model_config(opts.cutoff)
    model = hydra.utils.instantiate(config)
    ema = torch.optim.swa_utils.AveragedModel(model)
    state = ema.state_dict()
    tasks = [task("energy", "system", [1]), task("forces", "atom", [3]), task("stress", "system", [1, 9])]
    ckpt = MLIPInferenceCheckpoint(model_config=config, model_state_dict=model.state_dict(),
                                   ema_state_dict=state, tasks_config=tasks)
    opts.out.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, opts.out / "esen-tiny.pt")
    # isolated-atom reference energies (eV) for single-atom systems, keyed by dataset then Z;
    # zero for a random-weight model (no DFT behind it)
    (opts.out / "atom_refs.json").write_text(json.dumps({DATASET: {str(z): 0.0 for z in ELEMENTS.values()}},
                                                        indent=1) + "\n")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"wrote {opts.out / 'esen-tiny.pt'} ({n_params} parameters, random weights, seed {opts.seed})")


if __name__ == "__main__":
    main()
