"""Surface charge of the metal set by the counter-ions: σ = −n·e/A.

The number of cations n is what a system, a dataset frame or a registry entry records; the
surface charge density σ is the physical quantity a model sees (through the field of the
ions and the compensating charge on the metal). The same n on cells of different lateral
area is a different σ, so comparisons between a model's training data and a campaign go
through σ.
"""

from __future__ import annotations

import numpy as np

ELEMENTARY_CHARGE_C = 1.602176634e-19  # CODATA 2018, exact
#: Two surface charges within this relative tolerance (or 0.01 µC/cm²) are the same one.
SAME_SIGMA_REL = 0.01


def sigma_uC_cm2(n_cations: int, area_A2: float) -> float:
    """σ = −n·e/A in µC/cm² (1 Å² = 1e-16 cm²)."""
    return -n_cations * ELEMENTARY_CHARGE_C * 1.0e6 / (area_A2 * 1.0e-16)


def same_sigma(a_uC_cm2: float, b_uC_cm2: float) -> bool:
    return abs(a_uC_cm2 - b_uC_cm2) <= max(0.01, SAME_SIGMA_REL * max(abs(a_uC_cm2), abs(b_uC_cm2)))


def cations_for_sigma(sigma: float, area_A2: float) -> int | None:
    """The cation count that gives surface charge sigma (µC/cm²) on a cell of area_A2; None when no integer does."""
    n = int(round(sigma / sigma_uC_cm2(1, area_A2)))
    return n if n >= 0 and same_sigma(sigma_uC_cm2(n, area_A2), sigma) else None


def lateral_area_A2(cell: np.ndarray) -> float:
    """|a × b| of a cell whose third vector is the surface normal."""
    cell = np.asarray(cell, dtype=float)
    return float(np.linalg.norm(np.cross(cell[0], cell[1])))
