"""The NVT MD deck: its context (what every template variable means) and rendering.

``deck_context`` turns a campaign's MD settings, one registry entry, one built
system and a seed into the flat dict ``lammps_inputs/md.lammps.j2`` renders;
``pair_context`` builds the ``pair`` dict of the family's pair block. Model
files arrive as absolute paths (already hash-checked by the caller), so tests
can render golden decks with fixed paths.
"""

from __future__ import annotations

from pathlib import Path

from elbench import __version__, families
from elbench.config import MDConfig
from elbench.elements import mass_amu
from elbench.errors import InputError
from elbench.families.spec import PairInputs
from elbench.potentials.styles import StyleChoice
from elbench.render import validate
from elbench.render.environment import render_template
from elbench.render.system import SystemInfo
from elbench.run_record import FINAL_DATA, MODEL_DEVIATION_FILE, RESTART_FILES  # one definition: the run record's

DECK_TEMPLATE = "md.lammps.j2"
BRIDGE_TEMPLATE = "pair/bridge.j2"
BRIDGE_FIX_ID = "elbench_ext"
FINAL_RESTART = "restart.final"
DUMP_FILES = {"dcd": "traj.dcd", "xtc": "traj.xtc", "custom": "traj.lammpstrj"}
ATOMIC_DATA = "system.data"
FULL_DATA = "system_full.data"
#: CSVR coupling time during equilibration (tight: the relaxed start structure must heat up quickly).
EQUILIBRATION_DAMPING_FS = 10.0
#: Conjugate-gradient relaxation of the packed start structure before velocities are drawn
#: (the default of the campaign's ``md.minimize_max_iterations``).
MINIMIZE_MAX_ITERATIONS = MDConfig.model_fields["minimize_max_iterations"].default
MINIMIZE_FTOL_EV_A = 0.05


def dump_file(dump_format: str) -> str:
    return DUMP_FILES[dump_format]


def thermostat_seed(seed: int) -> int:
    """A second positive LAMMPS seed (< 2^31) for the CSVR thermostat, distinct from the velocity seed."""
    return seed % (2**31 - 2) + 1


def model_files(manifest, entry) -> dict[str, list[Path]]:
    """Absolute paths of an entry's files grouped by role (``model`` may list an ensemble)."""
    out: dict[str, list[Path]] = {}
    for mf in entry.files:
        out.setdefault(mf.role, []).append((manifest.root / mf.path).resolve())
    return out


def pair_context(
    entry,
    *,
    engine: str,
    style: StyleChoice | None,
    files: dict[str, list[Path]],
    system: SystemInfo,
    metal: str,
    cation: str,
    kokkos: bool = False,
    mpi_ranks: int = 1,
    thermo_interval_steps: int = 100,
    eam_file: Path | None = None,
) -> dict:
    """The ``pair`` dict of the family's pair block (or of the fix-external bridge block).

    The family spec's pair style supplies the block's values (:class:`~elbench.families.spec.PairStyleSpec`).
    """
    if engine == "bridge":
        return {"template": BRIDGE_TEMPLATE, "label": f"{entry.family} model {entry.name}",
                "cutoff_A": float(entry.cutoff_A), "fix_id": BRIDGE_FIX_ID}
    if style is None:
        raise InputError(f"model '{entry.name}' (family {entry.family}) has no native pair style", key="lammps.engine")
    pair = families.get(entry.family).pair_style(style.style)
    if pair is None:
        raise InputError(f"no pair block for style {style.style}", key=f"potential.{entry.name}.pair_style")
    lammps_style = style.kokkos_style if kokkos else style.style
    ctx: dict = {"template": style.template, "style": style.style, "lammps_style": lammps_style}
    inputs = PairInputs(entry=entry, files=files, metal=metal, cation=cation, mpi_ranks=mpi_ranks,
                        thermo_interval_steps=thermo_interval_steps, eam_file=eam_file,
                        model_deviation_file=MODEL_DEVIATION_FILE)
    return ctx | pair.context(inputs)


def deck_context(
    *,
    md,
    entry,
    system: SystemInfo,
    charge_state: int,
    seed: int,
    engine: str,
    pair: dict,
    stage: str = "production",
    start_file: str | None = None,
) -> dict:
    """Everything ``md.lammps.j2`` renders; ``md`` is the campaign's :class:`~elbench.config.MDConfig`.

    Two-stage campaigns (``md.start_from = "reference"``): ``stage="equilibration"`` is the shared reference
    equilibration (its production part is ``md.reference_equilibration_ps``; it ends by writing ``final.data``);
    a production with ``start_file`` reads that state (atomic style, with velocities) and neither minimises,
    draws velocities nor equilibrates: its production starts at step 0.
    """
    style = families.get(entry.family).pair_style(pair["style"]) if engine == "native" and "style" in pair else None
    molecular = style is not None and style.molecular  # the classical reference: bonds, angles, charges
    extra_thermo = list(style.extra_thermo(pair)) if style is not None else []
    if start_file is not None and molecular:
        raise InputError(f"model '{entry.name}' is the classical reference: its runs start from the built system",
                         key="md.start_from")
    equilibration_steps, production_steps = md.equilibration_steps, md.production_steps
    minimize_max_iterations = md.minimize_max_iterations
    if stage == "equilibration":
        production_steps = md.steps(md.reference_equilibration_ps)
    if start_file is not None:
        equilibration_steps, minimize_max_iterations = 0, 0
    data_file = FULL_DATA if molecular else ATOMIC_DATA
    return {
        "version": __version__,
        "model": validate.word(entry.name, key="models"),
        "family": entry.family,
        "charge_state": validate.nonnegative_int(charge_state, key="system.charge_states"),
        "seed": validate.positive_int(seed, key="md.seeds"),
        "thermostat_seed": thermostat_seed(seed),
        "engine": engine,
        "type_map": list(system.type_map),
        "masses": [{"type": i + 1, "mass": mass_amu(el), "element": el} for i, el in enumerate(system.type_map)],
        "atom_style": "full" if molecular else "atomic",
        "data_file": start_file if start_file is not None else data_file,
        "start_file": start_file,
        "stage": stage,
        "final_data": FINAL_DATA if stage == "equilibration" else None,
        "geometry": system.geometry,
        "boundary": ["p", "p", "f"] if system.geometry == "slab" else ["p", "p", "p"],
        "n_fixed_atoms": system.n_fixed_atoms,
        "pair": pair,
        "thermostat": md.thermostat,
        "temperature_K": float(md.temperature_K),
        "damping_ps": md.thermostat_damping_fs / 1000.0,
        "equilibration_damping_ps": min(md.thermostat_damping_fs, EQUILIBRATION_DAMPING_FS) / 1000.0,
        "timestep_ps": md.timestep_fs / 1000.0,
        "thermo_interval_steps": md.thermo_interval_steps,
        "extra_thermo": extra_thermo,
        "equilibration_steps": equilibration_steps,
        "production_steps": production_steps,
        "dump_format": md.dump_format,
        "dump_interval_steps": md.dump_interval_steps,
        "dump_file": dump_file(md.dump_format),
        "restart_interval_steps": md.restart_interval_steps,
        "restart_files": list(RESTART_FILES),
        "final_restart": FINAL_RESTART,
        "minimize_max_iterations": minimize_max_iterations,
        "minimize_ftol_eV_A": MINIMIZE_FTOL_EV_A,
    }


def render_deck(context: dict) -> str:
    """The text of ``in.lammps``."""
    if context["production_steps"] <= 0:
        raise InputError("production must have at least one step", key="md.production_ps")
    return render_template(DECK_TEMPLATE, context)
