"""The MLIP families elbench knows, one file each, and their registry.

Each module here (``dp``, ``dp_mp``, ``ace``, ``grace``, ``mace``, ``esen``, ``reference``)
exports one :class:`~elbench.families.spec.FamilySpec` as ``SPEC``. The registry schema
(``potentials/manifest.py``), pair styles and engine choice (``potentials/styles.py``),
calculators and the bridge (``engines/``), the deck's pair block (``render/deck.py``),
costs, ``doctor``, dataset conversion and training read these specs and nothing else.
Adding a family: see CONTRIBUTING.md ("Adding a family").
"""

from __future__ import annotations

from elbench.errors import InputError
from elbench.families import ace, dp, dp_mp, esen, grace, mace, reference
from elbench.families.spec import FamilySpec

#: every family, in the order elbench lists them
FAMILIES: dict[str, FamilySpec] = {spec.name: spec for spec in (
    dp.SPEC, dp_mp.SPEC, ace.SPEC, grace.SPEC, mace.SPEC, esen.SPEC, reference.SPEC)}


def names() -> tuple[str, ...]:
    return tuple(FAMILIES)


def get(name: str, *, key: str = "family") -> FamilySpec:
    """The spec of family ``name`` (InputError naming the allowed families)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise InputError(f"unknown MLIP family '{name}'", key=key, allowed=", ".join(FAMILIES)) from None


def with_backend() -> tuple[FamilySpec, ...]:
    """Families with a Python backend (an ASE calculator, an environment of their own)."""
    return tuple(spec for spec in FAMILIES.values() if spec.backend is not None)


def trainable_names() -> tuple[str, ...]:
    """Families elbench trains (``elbench train render --families``)."""
    return tuple(n for n, s in FAMILIES.items() if s.training is not None)


def trainable(name: str) -> FamilySpec:
    """The spec of a family elbench trains (InputError naming the trainable families)."""
    if name not in trainable_names():
        raise InputError(f"unknown family '{name}'", key="family", allowed=", ".join(trainable_names()))
    return FAMILIES[name]
