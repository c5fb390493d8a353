"""Element data elbench needs: standard masses and the supported metals/cations.

Masses are IUPAC standard atomic weights (as in ASE); lattice constants are the
experimental room-temperature fcc values.
"""

from __future__ import annotations

from ase.data import atomic_masses, atomic_numbers

#: fcc metals elbench can build a (111) slab of, with lattice constant in Å.
FCC_LATTICE_CONSTANT_A: dict[str, float] = {
    "Au": 4.078,
    "Ag": 4.086,
    "Cu": 3.615,
    "Pt": 3.924,
    "Pd": 3.891,
    "Ni": 3.524,
    "Al": 4.050,
}

#: Monovalent cations elbench can place as counter-ions.
CATIONS: tuple[str, ...] = ("Na", "K", "Li")

#: Water's elements in the order elbench writes them after the metal.
WATER_ELEMENTS: tuple[str, ...] = ("O", "H")


def mass_amu(symbol: str) -> float:
    """Standard atomic mass in g/mol (u) of an element symbol."""
    return float(atomic_masses[atomic_numbers[symbol]])


def is_element(symbol: str) -> bool:
    return symbol in atomic_numbers and symbol != "X"


def system_type_map(metal: str, cation: str) -> list[str]:
    """The explicit element order of every elbench system: metal, O, H, cation."""
    return [metal, *WATER_ELEMENTS, cation]
