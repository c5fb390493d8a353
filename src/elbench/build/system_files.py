"""Write one charge state's files: ``systems/q<n>/system.data``, ``system_full.data``,
``system.extxyz`` and ``system.json``.

The four files are written into a temporary sibling directory that is renamed
onto ``q<n>`` only when all of them are complete, so a failure never leaves a
half-built system. ``system.json`` stores a hash of the settings the system
depends on; :func:`is_up_to_date` compares it to skip rebuilding.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import ase
import ase.io
import numpy as np

from elbench.build.assemble import Interface, assemble_interface, packing_key
from elbench.build.cation_sites import MIN_ION_ANY_A, MIN_ION_ION_A
from elbench.build.lammps_data import atomic_data, full_data, wrapped_positions
from elbench.build.water import MIN_INTERMOLECULAR_A, MIN_OO_A, MIN_WATER_METAL_A
from elbench.config import SystemConfig
from elbench.errors import InputError
from elbench.io import atomic_directory, read_json, sha256_file
from elbench.provenance import provenance
from elbench.surface_charge import sigma_uC_cm2

#: Bump when the builder's output for the same settings changes (invalidates the skip hash).
BUILDER_VERSION = 1
FILES = ("system.data", "system_full.data", "system.extxyz", "system.json")

WATER_DENSITY_DEFINITION = (
    "water mass / (water-region volume - n_cations x volume per molecule); the water region is the "
    "slab z_top_metal + metal_water_gap_A <= z <= that + water_thickness_A over the whole lateral cell, "
    "where all water O and cations are placed; volume per molecule = region volume / (waters + cations), "
    "i.e. each cation takes the volume of the water it replaced"
)


def system_hash(config: SystemConfig, n: int) -> str:
    """Hash of everything a charge state's files depend on (not the list of other charge states)."""
    payload = json.dumps({"system": json.loads(packing_key(config)), "n": n, "builder": BUILDER_VERSION}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def system_state(config: SystemConfig, n: int, out_dir: str | Path) -> str:
    """State of a built system against the settings.

    ``missing`` (no complete build), ``stale`` (built from other settings),
    ``edited`` (same settings, but a file changed since the build: kept, so hand
    edits survive a re-run), or ``current``.
    """
    out = Path(out_dir)
    if not all((out / name).is_file() for name in FILES):
        return "missing"
    try:
        record = read_json(out / "system.json")
    except (OSError, ValueError):
        return "missing"
    if record.get("system_hash") != system_hash(config, n):
        return "stale"
    hashes = record.get("files", {})
    if any(hashes.get(name) != sha256_file(out / name) for name in FILES if name != "system.json"):
        return "edited"
    return "current"


def is_up_to_date(config: SystemConfig, n: int, out_dir: str | Path) -> bool:
    """True when out_dir holds a build with the same settings (hand edits included)."""
    return system_state(config, n, out_dir) in ("current", "edited")


def to_atoms(interface: Interface) -> ase.Atoms:
    """The interface as ASE Atoms (wrapped positions, reference charges, molecule ids, fixed mask)."""
    atoms = ase.Atoms(
        symbols=interface.symbols,
        positions=wrapped_positions(interface),
        cell=list(interface.cell_lengths_A),
        pbc=interface.pbc,
    )
    atoms.set_initial_charges(interface.charges_e)
    atoms.new_array("mol_id", interface.molecule_ids)
    fixed = [i < interface.n_fixed_atoms for i in range(interface.n_atoms)]
    atoms.new_array("fixed", np.array(fixed))
    atoms.info["charge_state"] = interface.n_cations
    atoms.info["type_map"] = " ".join(interface.type_map)
    atoms.info["geometry"] = interface.config.geometry
    return atoms


def system_record(interface: Interface, config: SystemConfig, n: int) -> dict:
    c = config
    lx, ly, lz = interface.cell_lengths_A
    region = interface.region
    return {
        "type_map": interface.type_map,
        "geometry": c.geometry,
        "n_cations": n,
        "charge_state": n,
        "counts": {
            "metal": interface.slab.n_atoms,
            "water": interface.n_water,
            "cation": n,
            "atoms": interface.n_atoms,
        },
        "cell_A": [[lx, 0.0, 0.0], [0.0, ly, 0.0], [0.0, 0.0, lz]],
        "pbc": list(interface.pbc),
        "area_A2": region.area_A2,
        "sigma_uC_cm2": sigma_uC_cm2(n, region.area_A2),
        "metal_charge_total_e": -float(n),
        "metal_top_atom_charge_e": float(interface.charges_e[interface.slab.n_atoms - 1]),
        "metal_layers_z_A": list(interface.slab.layers_z_A),
        "atoms_per_layer": interface.slab.atoms_per_layer,
        "n_fixed_atoms": interface.n_fixed_atoms,
        "top_layer_ids": list(interface.top_layer_ids),
        "cation_ids": list(range(interface.n_atoms - n + 1, interface.n_atoms + 1)),
        "water_region_z_A": [region.z_lo_A, region.z_hi_A],
        "water_region_volume_A3": region.volume_A3,
        "water_density_g_cm3": interface.water_density_g_cm3,
        "water_density_definition": WATER_DENSITY_DEFINITION,
        "solution_density_g_cm3": interface.solution_density_g_cm3,
        "target_water_density_g_cm3": c.rho_water_g_cm3,
        "packing": {
            "min_O_O_A": MIN_OO_A,
            "min_water_metal_A": MIN_WATER_METAL_A,
            "min_intermolecular_A": MIN_INTERMOLECULAR_A,
            "min_cation_any_A": MIN_ION_ANY_A,
            "min_cation_cation_A": MIN_ION_ION_A,
            "method": "random sequential addition (numpy, seeded); cations replace the nearest water",
        },
        "seed": c.seed,
        "system_hash": system_hash(c, n),
        "builder_version": BUILDER_VERSION,
        "system_config": c.model_dump(mode="json"),
    }


def _write_files(interface: Interface, record: dict, directory: Path) -> None:
    (directory / "system.data").write_text(atomic_data(interface))
    (directory / "system_full.data").write_text(full_data(interface))
    ase.io.write(directory / "system.extxyz", to_atoms(interface), format="extxyz")
    record["files"] = {name: sha256_file(directory / name) for name in FILES if name != "system.json"}
    (directory / "system.json").write_text(json.dumps(record, indent=2) + "\n")


def build_system(
    system_config: SystemConfig,
    n: int,
    out_dir: str | Path,
    *,
    inputs: Mapping[str, str | Path] | None = None,
) -> dict:
    """Build charge state n into out_dir (e.g. ``systems/q<n>``); return the system.json dict.

    ``inputs`` (label → path, e.g. the campaign file) are hashed into the provenance.
    """
    interface = assemble_interface(system_config, n)
    record = system_record(interface, system_config, n)
    record["provenance"] = provenance(inputs=inputs or {})
    out = Path(out_dir)
    try:
        with atomic_directory(out) as tmp:
            _write_files(interface, record, tmp)
    except OSError as err:
        raise InputError(f"cannot write the system files: {err.strerror}", file=out) from None
    return record
