"""Linear ACE by weighted least squares: ``python -m elbench.train.ace_linear input.yaml`` (in the grace env).

Why not pacemaker for the tiny preset: pacemaker's CPU evaluator (pyace) takes finite-difference gradients,
so a CI budget affords only ~8 basis functions per element and a few BFGS iterations, and those models
did not learn forces (0.6 eV/Å against a label RMS of 0.6). With a *linear* embedding (FinnisSinclairShiftedScaled,
``fs_parameters: [1, 1]``, ``ndensity: 1``) the ACE energy is linear in its coefficients, so the exact
optimum of pacemaker's loss is one least-squares solve over a design matrix of basis-function values and
their gradients (built by pyace's ``LinearACEDataset``); 160 functions per element solve in seconds.

Reads the same pacemaker ``input.yaml`` (``potential``, ``data.filename``/``test_filename``/``reference_energy``,
``fit.loss.kappa`` and ``L2_coeffs``) and writes what pacemaker would: ``output_potential.yaml``,
``metrics.txt`` and ``test_metrics.txt`` (``iter_num rmse_epa rmse_f_comp``; row 0 is the model with all
coefficients zero, i.e. the reference energies alone, row 1 the solution).

The loss, as pacemaker's: (1 - kappa) * mean over structures of (dE/N)^2 + kappa * mean over atoms of |dF|^2,
plus L2 * |c|^2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np


def load_frames(path: Path, reference_energy: dict[str, float]):
    """pacemaker's pickled dataframe with ``energy_corrected`` = E - sum of the per-element reference energies."""
    import pandas as pd

    df = pd.read_pickle(path, compression="gzip")
    shift = df["ase_atoms"].map(lambda atoms: sum(reference_energy[s] for s in atoms.get_chemical_symbols()))
    df["energy_corrected"] = df["energy"] - shift
    return df.reset_index(drop=True)


def row_weights(n_atoms: np.ndarray, kappa: float) -> np.ndarray:
    """sqrt of each design-matrix row's weight: energy rows (per structure) first, then 3 force rows per atom."""
    energy = np.full(len(n_atoms), np.sqrt((1.0 - kappa) / len(n_atoms)))
    force = np.full(3 * int(n_atoms.sum()), np.sqrt(kappa / n_atoms.sum()))
    return np.concatenate([energy, force])


def solve(design: np.ndarray, target: np.ndarray, weights: np.ndarray, l2: float) -> np.ndarray:
    """argmin_c |W (A c - y)|^2 + l2 |c|^2, by least squares on the stacked system."""
    n = design.shape[1]
    stacked = np.vstack([design * weights[:, None], np.sqrt(l2) * np.eye(n)])
    rhs = np.concatenate([target * weights, np.zeros(n)])
    coeffs, *_ = np.linalg.lstsq(stacked, rhs, rcond=None)
    return coeffs


def errors(dataset, coeffs: np.ndarray) -> tuple[float, float]:
    """(energy RMSE eV/atom, force-component RMSE eV/Å) of coefficients on a dataset."""
    predicted = dataset.get_design_matrix(max_workers=_workers()) @ coeffs
    d_epa = dataset.get_energies_per_atom(predicted) - dataset.get_energies_per_atom()
    d_f = dataset.get_forces(predicted) - dataset.get_forces()
    return float(np.sqrt(np.mean(d_epa ** 2))), float(np.sqrt(np.mean(d_f ** 2)))


def write_metrics(path: Path, rows: list[tuple[int, float, float]]) -> None:
    lines = ["iter_num rmse_epa rmse_f_comp"] + [f"{i} {e:.10g} {f:.10g}" for i, e, f in rows]
    path.write_text("\n".join(lines) + "\n")


def _workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def fit(config_path: Path) -> dict:
    import yaml
    from pyace import create_multispecies_basis_config
    from pyace.linearacefit import LinearACEDataset

    directory = config_path.parent
    config = yaml.safe_load(config_path.read_text())
    reference = config["data"]["reference_energy"]
    loss = config.get("fit", {}).get("loss", {})
    kappa, l2 = float(loss.get("kappa", 0.5)), float(loss.get("L2_coeffs", 0.0))
    basis_config = create_multispecies_basis_config(config["potential"])
    train = LinearACEDataset(basis_config, load_frames(directory / config["data"]["filename"], reference))
    design = train.get_design_matrix(max_workers=_workers())
    weights = row_weights(train.df["NUMBER_OF_ATOMS"].to_numpy(), kappa)
    coeffs = solve(design, train.get_target_vector(), weights, l2)
    zero = np.zeros_like(coeffs)
    result = {"n_functions": int(design.shape[1]), "train": errors(train, coeffs)}
    write_metrics(directory / "metrics.txt", [(0, *errors(train, zero)), (1, *result["train"])])
    test_file = config["data"].get("test_filename")
    if test_file:
        test = LinearACEDataset(train.basis, load_frames(directory / test_file, reference))
        result["test"] = errors(test, coeffs)
        write_metrics(directory / "test_metrics.txt", [(0, *errors(test, zero)), (1, *result["test"])])
    train.basis.basis_coeffs = coeffs
    train.basis.to_BBasisConfiguration().save(str(directory / "output_potential.yaml"))
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m elbench.train.ace_linear input.yaml", file=sys.stderr)
        return 2
    result = fit(Path(argv[0]).resolve())
    print(f"linear ACE: {result['n_functions']} coefficients; RMSE (eV/atom, eV/Å) train {result['train']}"
          + (f", test {result['test']}" if "test" in result else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
