"""The classical reference responds to the surface charge: a test-sized MD of the small system.

First-layer water orientation <cos θ> (θ between the water dipole and the surface
normal pointing into the electrolyte) must be lower (more H-down) with 2 Na+ and
-2 e on the metal than at n = 0, beyond 4 combined block standard errors. The
numbers are computed here independently of `elbench analyze`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from elbench.build import build_system
from elbench.config import load_campaign
from elbench.dataset.label import ReferenceLabeller

DATA = Path(__file__).parent / "data"
FIRST_LAYER_MAX_A = 4.2  # first minimum of the O density above Au(111) in the reference (analysis/reference)


def first_layer_cos_theta(system_dir: Path, seed: int, equil_steps: int, prod_steps: int, every: int) -> np.ndarray:
    """Per-frame mean cos θ of first-layer waters from NVT MD with the reference."""
    meta = json.loads((system_dir / "system.json").read_text())
    top_first, top_last = meta["top_layer_ids"]
    n_metal = meta["counts"]["metal"]
    n_water = meta["counts"]["water"]
    o_idx = n_metal + 3 * np.arange(n_water)
    lx, ly = meta["cell_A"][0][0], meta["cell_A"][1][1]
    box = np.array([lx, ly])
    values = []
    with ReferenceLabeller(system_dir) as lab:
        lab.setup_md(300.0, 0.5, seed)
        lab.run_md(equil_steps)
        for _ in range(prod_steps // every):
            lab.run_md(every)
            x = lab.positions()
            z_s = x[top_first - 1 : top_last, 2].mean()
            o = x[o_idx]
            mu = np.zeros((n_water, 3))
            for k in (1, 2):
                d = x[o_idx + k] - o
                d[:, :2] -= box * np.round(d[:, :2] / box)
                mu += d
            cos = mu[:, 2] / np.linalg.norm(mu, axis=1)
            first = (o[:, 2] - z_s) < FIRST_LAYER_MAX_A
            values.append(cos[first].mean())
    return np.array(values)


def block_mean_err(values: np.ndarray, blocks: int = 5) -> tuple[float, float]:
    means = np.array([b.mean() for b in np.array_split(values, blocks)])
    return float(values.mean()), float(means.std(ddof=1) / np.sqrt(blocks))


@pytest.mark.lammps
@pytest.mark.slow
def test_first_layer_orientation_turns_h_down_with_charge(tmp_path):
    shutil.copy(DATA / "reference_small.toml", tmp_path / "elbench.toml")
    camp = load_campaign(tmp_path / "elbench.toml")
    result = {}
    for n in (0, 2):
        build_system(camp.config.system, n, tmp_path / f"q{n}")
        cos = first_layer_cos_theta(tmp_path / f"q{n}", seed=11 + n, equil_steps=1000, prod_steps=3000, every=20)
        result[n] = block_mean_err(cos)
    (m0, e0), (m2, e2) = result[0], result[2]
    print("first-layer <cos theta>", result)
    assert m2 < m0 - 4.0 * np.hypot(e0, e2), result
    assert m2 < -0.1, result  # H-down on the negatively charged surface
