"""The columns of ``profiles.csv``: the one definition the writer, the readers, the report and the tests use.

``z_A`` (distance from the surface plane), then the value columns in
:data:`VALUE_COLUMNS` order, then each value column again with ``_err`` (its
block standard error). ``{cation}`` is the cation's element (``n_Na_per_A3``).
Which observable fills which column: ``density`` the first four, ``orientation``
the last two (see the package docstring).
"""

from __future__ import annotations

#: Distance from the surface plane, Å, positive into the electrolyte.
DISTANCE_COLUMN = "z_A"
#: Suffix of a value column's block standard error.
ERROR_SUFFIX = "_err"
#: Value columns in file order; ``{cation}`` is replaced by the cation element.
VALUE_COLUMNS = (
    "rho_water_g_cm3",
    "n_O_per_A3",
    "n_H_per_A3",
    "n_{cation}_per_A3",
    "cos_theta",
    "rho_cos_theta_g_cm3",
)


def number_density_column(element: str) -> str:
    """The number density column of an element, e.g. ``n_Na_per_A3``."""
    return f"n_{element}_per_A3"


def value_columns(cation: str) -> list[str]:
    """Value columns of a profile with this cation, in file order."""
    return [name.format(cation=cation) for name in VALUE_COLUMNS]


def profile_columns(cation: str) -> list[str]:
    """Every column of profiles.csv in file order: ``z_A``, the values, their ``_err``."""
    values = value_columns(cation)
    return [DISTANCE_COLUMN, *values, *(name + ERROR_SUFFIX for name in values)]


def find_cation_column(names) -> str | None:
    """The cation density column among ``names`` (any cation), or None."""
    water = {number_density_column("O"), number_density_column("H")}
    for name in names:
        if name.startswith("n_") and name.endswith("_per_A3") and name not in water:
            return name
    return None
