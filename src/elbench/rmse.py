"""Energy and force RMSE of a model on a labelled dataset, per charge state and overall.

Definitions (the ones ``dp test`` and MACE report):

* energy RMSE per atom: sqrt(mean_frames(((E_pred - E_ref) / N_atoms)^2)), meV/atom;
* force RMSE: sqrt(mean over every Cartesian component of every atom of every
  frame of (F_pred - F_ref)^2), meV/Å (all atoms, fixed ones included).

"overall" pools all frames (energy) and all components (forces) of the dataset.

Predictions come from the model's own calculator in the family's environment
(the bridge engine's calculator; for DP the DeePMD ``DeepPot`` that ``dp test``
uses), run as ``<env>/bin/python -m elbench.rmse predict ...`` so the core
environment never imports an MLIP package. The classical reference is evaluated
in-process with LAMMPS on the built systems (``--systems``).

``rmse.json`` layout (read by ``elbench report``)::

    {"model": str, "family": str, "dataset": {"path": str, "sha256": str}, "dataset_sha256": str, "engine": str,
     "units": {"energy": "meV/atom", "force": "meV/A", "parity_energy": "eV/atom", "parity_force": "eV/A"},
     "per_charge_state": {"<n>": {"energy_meV_atom": f, "force_meV_A": f, "n_frames": i, "n_atoms": i,
                                  "energy_rmse_meV_atom": f, "force_rmse_meV_A": f}},   # same values, report's names
     "overall": {... same keys ...},
     "parity": {"energy": [[ref, pred], ...],            # eV/atom, every frame
                "force": [[ref, pred], ...],             # eV/A, <= 20000 components (seeded subsample)
                "energy_charge_state": [n, ...]},        # charge state of each energy point
     "frames": [{"charge_state": n, "n_atoms": i, "energy_ref_eV": f, "energy_pred_eV": f}, ...],
     "forces": {"charge_state": [...], "ref_eV_A": [...], "pred_eV_A": [...]},   # same subsample as parity
     "provenance": {...}}
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from elbench import families
from elbench.dataset.frames import ENERGY_KEY, FORCES_KEY, read_frames, validate_frames
from elbench.dataset.label import ReferenceLabeller
from elbench.engines.bridge import calculator_record
from elbench.engines.calculators import CalculatorSpec, install_hint, make_calculator
from elbench.engines.select import env_installed, env_python
from elbench.errors import ElbenchError, InputError, RunError
from elbench.io import atomic_path, sha256_file
from elbench.potentials.manifest import load_manifest
from elbench.provenance import provenance
from elbench.resources import builtin_manifest

MAX_PARITY_FORCES = 20000


def metrics(ref_e: np.ndarray, pred_e: np.ndarray, natoms: np.ndarray, ref_f: list[np.ndarray], pred_f: list[np.ndarray]) -> dict:
    """RMSE of one group of frames (energies in eV, forces in eV/Å) in meV/atom and meV/Å."""
    de = (np.asarray(pred_e) - np.asarray(ref_e)) / np.asarray(natoms)
    df = np.concatenate([(np.asarray(p) - np.asarray(r)).ravel() for r, p in zip(ref_f, pred_f)])
    e = float(np.sqrt(np.mean(de**2)) * 1000.0)
    f = float(np.sqrt(np.mean(df**2)) * 1000.0)
    # both spellings: energy_meV_atom (this module) and energy_rmse_meV_atom (elbench.report.data)
    return {"energy_meV_atom": e, "force_meV_A": f, "energy_rmse_meV_atom": e, "force_rmse_meV_A": f,
            "n_frames": int(len(de)), "n_atoms": int(np.sum(natoms))}


def rmse_report(ref_e, pred_e, natoms, ref_f, pred_f, charge_states, *, seed: int = 0) -> dict:
    """per_charge_state, overall and parity of a dataset."""
    charge_states = np.asarray(charge_states, dtype=int)
    per = {}
    for n in sorted(set(charge_states.tolist())):
        idx = np.flatnonzero(charge_states == n)
        per[str(n)] = metrics(np.take(ref_e, idx), np.take(pred_e, idx), np.take(natoms, idx),
                              [ref_f[i] for i in idx], [pred_f[i] for i in idx])
    overall = metrics(ref_e, pred_e, natoms, ref_f, pred_f)
    rf = np.concatenate([np.ravel(f) for f in ref_f])
    pf = np.concatenate([np.ravel(f) for f in pred_f])
    if len(rf) > MAX_PARITY_FORCES:
        keep = np.sort(np.random.default_rng(seed).choice(len(rf), MAX_PARITY_FORCES, replace=False))
        rf, pf = rf[keep], pf[keep]
    parity = {
        "energy": [[float(r / n), float(p / n)] for r, p, n in zip(ref_e, pred_e, natoms)],
        "force": [[float(r), float(p)] for r, p in zip(rf, pf)],
        "energy_charge_state": charge_states.tolist(),
    }
    # the per-frame layout elbench.report reads (RMSE_FORMAT_DOC in report/data.py)
    frames = [{"charge_state": int(q), "n_atoms": int(n), "energy_ref_eV": float(r), "energy_pred_eV": float(p)}
              for q, n, r, p in zip(charge_states, natoms, ref_e, pred_e)]
    fq = np.concatenate([np.full(np.size(f), q) for f, q in zip(ref_f, charge_states)])
    if len(fq) > MAX_PARITY_FORCES:
        fq = fq[keep]
    forces = {"charge_state": fq.astype(int).tolist(), "ref_eV_A": rf.tolist(), "pred_eV_A": pf.tolist()}
    return {"per_charge_state": per, "overall": overall, "parity": parity, "frames": frames, "forces": forces}


# ---------------------------------------------------------------- predictions
def predict_reference(frames, systems_dir: Path) -> tuple[np.ndarray, list[np.ndarray]]:
    """Energies and forces of the classical reference; frames of charge state n use systems_dir/q<n>."""
    energies = np.zeros(len(frames))
    forces: list[np.ndarray] = [np.empty(0)] * len(frames)
    by_state: dict[int, list[int]] = {}
    for i, a in enumerate(frames):
        by_state.setdefault(int(a.info["charge_state"]), []).append(i)
    for n, idx in by_state.items():
        directory = systems_dir / f"q{n}"
        with ReferenceLabeller(directory) as lab:
            for i, labelled in zip(idx, lab.label([frames[i] for i in idx])):
                energies[i] = labelled.info["REF_energy"]
                forces[i] = labelled.arrays["REF_forces"]
    return energies, forces


def predict_in_env(family: str, model: Path, type_map: list[str], options: dict, dataset: Path) -> tuple[np.ndarray, list[np.ndarray]]:
    """Run the family's calculator in its environment over every frame of the dataset."""
    env = families.get(family).environment
    if not env_installed(env):
        raise InputError(f"the '{env}' environment for {family} models does not exist; {install_hint(family)}",
                         key="model")
    with tempfile.TemporaryDirectory(prefix="elbench-rmse-") as tmp:
        out = Path(tmp) / "pred.npz"
        argv = [str(env_python(env)), "-m", "elbench.rmse", "predict", "--family", family, "--model", str(model),
                "--type-map", ",".join(type_map), "--options", json.dumps(options), "--dataset", str(dataset),
                "--out", str(out)]
        proc = subprocess.run(argv, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            if proc.returncode == 2:
                raise InputError(" ".join(tail).removeprefix("error: "))
            raise RunError(f"prediction with {family} model {model} failed: {' | '.join(tail)}")
        data = np.load(out, allow_pickle=False)
        natoms = data["natoms"]
        flat = data["forces"]
        splits = np.cumsum(natoms)[:-1]
        return data["energies"], [f.reshape(-1, 3) for f in np.split(flat.reshape(-1, 3), splits)]


def _predict_main(args) -> int:
    """Worker: runs inside the family environment."""
    from ase.io import read

    try:
        spec = CalculatorSpec(args.family, Path(args.model), tuple(args.type_map.split(",")),
                              tuple(sorted(json.loads(args.options).items())))
        calc = make_calculator(spec)
        frames = read(args.dataset, index=":", format="extxyz")
        energies, forces, natoms = [], [], []
        for atoms in frames:
            atoms = atoms.copy()
            atoms.calc = calc
            energies.append(float(atoms.get_potential_energy()))
            forces.append(np.asarray(atoms.get_forces(), dtype=float))
            natoms.append(len(atoms))
        np.savez(args.out, energies=np.array(energies), forces=np.concatenate(forces).ravel(), natoms=np.array(natoms))
    except ElbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


def model_rmse(model: str, dataset: Path, *, manifest=None, systems_dir: Path | None = None) -> dict:
    """The RMSE record of registry model ``model`` on ``dataset`` (validated labelled extxyz)."""
    frames = read_frames(dataset)
    info = validate_frames(frames, dataset)
    manifest = manifest or load_manifest(builtin_manifest())
    entry = manifest.get(model)
    missing = sorted(set(info.type_map[:3]) - set(entry.type_map))
    if missing or (any(n > 0 for n in info.per_charge_state) and info.cation not in entry.type_map):
        raise InputError(f"model '{model}' (elements {entry.type_map}) cannot evaluate frames with {info.type_map}",
                         file=dataset, key="type_map")
    if entry.family == "reference":
        if systems_dir is None:
            raise InputError("the reference needs the built systems of these frames", key="--systems",
                             allowed="a directory with q<n>/system.json (from `elbench build`)")
        pred_e, pred_f = predict_reference(frames, systems_dir)
        engine = "reference (LAMMPS, in-process)"
    else:
        calc = calculator_record(entry, manifest)
        pred_e, pred_f = predict_in_env(entry.family, Path(calc.model), list(entry.type_map), calc.options, dataset)
        engine = f"{entry.family} ASE calculator in environment '{entry.environment}'"
    ref_e = np.array([a.info[ENERGY_KEY] for a in frames])
    ref_f = [np.asarray(a.arrays[FORCES_KEY]) for a in frames]
    natoms = np.array([len(a) for a in frames])
    digest = sha256_file(dataset)
    record = {"model": model, "family": entry.family, "dataset": {"path": str(dataset), "sha256": digest},
              "dataset_sha256": digest,
              "engine": engine,
              "units": {"energy": "meV/atom", "force": "meV/A", "parity_energy": "eV/atom", "parity_force": "eV/A"}}
    record |= rmse_report(ref_e, pred_e, natoms, ref_f, pred_f, [a.info["charge_state"] for a in frames])
    record["provenance"] = provenance(inputs={"dataset": dataset})
    return record


def parity_plot(record: dict, path: Path) -> Path:
    """Energy (eV/atom) and force (eV/Å) parity, coloured by charge state."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_e, ax_f) = plt.subplots(1, 2, figsize=(9, 4.2))
    e = np.array(record["parity"]["energy"])
    q = np.array(record["parity"]["energy_charge_state"])
    sc = ax_e.scatter(e[:, 0], e[:, 1], c=q, s=10, cmap="viridis")
    fig.colorbar(sc, ax=ax_e, label="charge state n")
    f = np.array(record["parity"]["force"])
    ax_f.scatter(f[:, 0], f[:, 1], s=2, alpha=0.4)
    for ax, data, unit, key in ((ax_e, e, "eV/atom", "energy_meV_atom"), (ax_f, f, "eV/Å", "force_meV_A")):
        lo, hi = float(data.min()), float(data.max())
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel(f"reference ({unit})")
        ax.set_ylabel(f"{record['model']} ({unit})")
        ax.set_title(f"RMSE {record['overall'][key]:.3g} {'meV/atom' if 'energy' in key else 'meV/Å'}")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m elbench.rmse")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("predict", help="(internal) evaluate a model on a dataset in its environment")
    p.add_argument("--family", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--type-map", required=True)
    p.add_argument("--options", default="{}")
    p.add_argument("--dataset", required=True)
    p.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    return _predict_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
