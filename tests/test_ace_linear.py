"""The linear ACE solver's loss: pacemaker's weighting, and the exact minimiser (normal equations)."""

from __future__ import annotations

import numpy as np
import pytest

from elbench.train.ace_linear import row_weights, solve


def test_row_weights_follow_pacemakers_loss():
    """(1 - kappa) shared by the structures' per-atom energies, kappa by the atoms' force vectors."""
    n_atoms = np.array([3, 5])
    w = row_weights(n_atoms, kappa=0.2)
    assert w.shape == (2 + 3 * 8,)
    assert np.sum(w[:2] ** 2) == pytest.approx(0.8)
    assert np.sum(w[2:] ** 2) == pytest.approx(3 * 0.2)  # kappa per Cartesian component summed over atoms


@pytest.mark.parametrize("l2", [0.0, 1e-3, 10.0])
def test_solve_satisfies_the_normal_equations(l2):
    rng = np.random.default_rng(7)
    design, target = rng.normal(size=(40, 6)), rng.normal(size=40)
    weights = rng.uniform(0.1, 2.0, size=40)
    coeffs = solve(design, target, weights, l2)
    w2 = weights ** 2
    lhs = design.T @ (w2[:, None] * design) + l2 * np.eye(6)
    expected = np.linalg.solve(lhs, design.T @ (w2 * target))
    np.testing.assert_allclose(coeffs, expected, rtol=1e-9, atol=1e-12)
    # a perturbation raises the loss: it is the minimum
    loss = lambda c: np.sum(w2 * (design @ c - target) ** 2) + l2 * np.sum(c ** 2)  # noqa: E731
    assert all(loss(coeffs) < loss(coeffs + 1e-3 * rng.normal(size=6)) for _ in range(5))
