"""What one MLIP family is, as data: :class:`FamilySpec` and its parts.

Each family file (``dp.py``, ``mace.py``, ...) exports one ``SPEC``; :mod:`elbench.families`
collects them. Everything elbench knows about a family -- its environment and backend,
how to recognise its model files, how to build its ASE calculator, its native pair
styles and their deck context, precision and periodicity, bridge options, expected
cost, how to train it -- is a field here, so the registry schema, the engines, the
renderer, the cost estimate, ``doctor``, dataset conversion and training read the
spec and nothing else.

This package sits below render, engines, train and potentials: it imports only
:mod:`elbench.errors` and small leaf modules at module level. A family's backend
(deepmd, mace, fairchem, pyace, tensorpotential) and anything heavy (ase, yaml) is
imported inside the function that needs it -- a local import for start-up time:
every ``elbench`` command imports this package, and most never touch a backend.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from elbench.errors import InputError

#: devices and model sizes every family has a cost row for (elbench.costs)
COST_DEVICES = ("cpu", "gpu")
COST_SIZES = ("small", "production")
#: per-element reference energies (eV) written at training render time for families that fit E - sum(E0)
ATOM_ENERGIES = "atom_energies.json"
#: how gradient updates map to a family's training knob (elbench.train.render.gradient_update_plan)
GU_MODES = ("steps", "epochs", "full-batch")


class ModelRef(Protocol):
    """What a calculator factory reads (:class:`elbench.engines.calculators.CalculatorSpec` satisfies it)."""

    family: str
    model: Path
    type_map: tuple[str, ...]

    def option(self, key: str, default: Any = None) -> Any: ...


@dataclass(frozen=True)
class CostRow:
    """Seconds per atom-step on ONE CPU core or ONE GPU, and where the number came from."""

    seconds_per_atom_step: float
    source: str


@dataclass(frozen=True)
class ModelFileSpec:
    """What a model file of the family is, and a cheap check that a file is one."""

    #: shown in errors: "expected a frozen DeePMD TensorFlow graph (.pb)"
    description: str
    #: path -> why it is NOT a model of this family, or None when it looks like one (the file exists)
    check: Callable[[Path], str | None]


@dataclass(frozen=True)
class BackendSpec:
    """The family's Python package and its ASE calculator (used by the bridge, preflight and rmse)."""

    #: module that must import for a calculator (``require_backend``), e.g. ``deepmd.pt``
    module: str
    #: import name ``elbench doctor`` looks for without importing it, e.g. ``deepmd``
    package: str
    #: the distribution's name as users know it, e.g. ``DeePMD-kit``
    pip_name: str
    #: CalculatorSpec-like -> ASE calculator; imports the backend itself (start-up time)
    calculator: Callable[[ModelRef], Any]


@dataclass(frozen=True)
class PairInputs:
    """What a pair style's deck-context function may read (filled by :func:`elbench.render.deck.pair_context`)."""

    entry: Any
    files: Mapping[str, list[Path]]
    metal: str
    cation: str
    mpi_ranks: int
    thermo_interval_steps: int
    eam_file: Path | None
    #: the deck's model-deviation output file (DeePMD committees)
    model_deviation_file: str

    def one(self, role: str) -> Path:
        """The one file with ``role`` (InputError when there are none or several)."""
        paths = self.files.get(role, [])
        if len(paths) != 1:
            raise InputError(f"potential '{self.entry.name}' needs exactly one file with role '{role}', has {len(paths)}",
                             key=f"potential.{self.entry.name}.files")
        return paths[0]


def _no_extra_thermo(pair: dict) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class PairStyleSpec:
    """One native pair style: the name the registry and deck use, its block template, what LAMMPS needs."""

    #: the registry's ``pair_style`` value and the deck's ``pair.style`` (also the LAMMPS style, unless composite)
    name: str
    #: pair-block template, relative to lammps_inputs/
    template: str
    #: LAMMPS build switches (cmake/ presets) the style needs; "plugin:<x>" = built outside LAMMPS
    build_needs: tuple[str, ...]
    #: PairInputs -> the template's ``pair`` values (model paths, labels, numbers)
    context: Callable[[PairInputs], dict]
    #: the KOKKOS variant elbench names explicitly (None: the style itself, with ``-sf kk`` or on the host)
    kokkos: str | None = None
    #: a composite block (the classical reference): the LAMMPS styles it emits and their build needs
    components: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: LAMMPS packages the binary must have, with why ("" when the name says it)
    packages: tuple[tuple[str, str], ...] = ()
    #: a KOKKOS-only style (runs only with lammps.kokkos.enabled)
    kokkos_only: bool = False
    #: the block needs bonds, angles and charges (atom_style full, the full data file)
    molecular: bool = False
    #: pair context -> thermo columns the block adds (e.g. the extrapolation grade)
    extra_thermo: Callable[[dict], tuple[str, ...]] = _no_extra_thermo

    @property
    def kokkos_style(self) -> str:
        return self.kokkos or self.name

    def lammps_styles(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(LAMMPS pair style, build needs) of every style the block writes."""
        return self.components or ((self.name, self.build_needs),)


@dataclass(frozen=True)
class TrainInputs:
    """What a training-context hook may read (filled by :func:`elbench.train.render.render_training`)."""

    #: directory of the training set's extxyz splits
    set_dir: Path
    #: data paths as the config names them (relative to the training directory)
    data: Mapping[str, Any]
    batch_size: int
    gradient_updates: int
    #: the training frames (read on first call)
    frames: Callable[[], list]
    #: per-element reference energies of the training frames, eV (least squares; computed on first call)
    atom_energies: Callable[[], dict[str, float]]


@dataclass(frozen=True)
class TrainingSpec:
    """How elbench trains the family: template, data format, commands, presets, learning-curve parser."""

    #: training-config template, relative to lammps_inputs/
    template: str
    #: file the template renders into the training directory
    config_file: str
    #: elbench.dataset.convert format of the training data
    data_format: str
    #: argv lists run in order in the training directory; first word is a program in the env's bin/
    commands: tuple[tuple[str, ...], ...]
    #: the trained model file(s), relative to the training directory
    model_files: tuple[str, ...]
    #: "steps" (GU), "epochs" (GU*batch/n) or "full-batch" (GU iterations)
    gu_mode: str
    #: preset name -> hyperparameters (at least "tiny" and "paper")
    presets: Mapping[str, Mapping[str, Any]]
    default_cutoff_A: float
    #: (training directory, batches per epoch) -> learning-curve rows (:func:`curve_row`)
    curve: Callable[[Path, float], list[dict]]
    #: hyperparameter naming the number of message-passing layers (None: a local model)
    message_passing_layers_key: str | None = None
    #: presets trained by one closed-form solve instead of ``commands`` (preset name -> argv lists)
    closed_form: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    #: TrainInputs -> extra template values (and overrides) the family's template needs
    context: Callable[[TrainInputs], dict] | None = None

    def commands_for(self, preset_name: str) -> tuple[tuple[str, ...], ...]:
        return self.closed_form.get(preset_name, self.commands)


@dataclass(frozen=True)
class FamilySpec:
    """One MLIP family (or the classical reference): everything elbench knows about it."""

    name: str
    #: what users call it, in messages ("classical reference runs in LAMMPS alone")
    title: str
    #: the elbench environment that runs it (scripts/env-<environment>.sh; "core" = elbench's own)
    environment: str
    #: (device, size) -> cost row, for every device in COST_DEVICES and size in COST_SIZES
    costs: Mapping[tuple[str, str], CostRow]
    #: native pair styles; the first is the default unless ``default_style`` says otherwise (empty: bridge only)
    pair_styles: tuple[PairStyleSpec, ...]
    #: the model file and its check (None: the family has no model files, the classical reference)
    model: ModelFileSpec | None
    #: Python backend and ASE calculator (None: runs in LAMMPS alone, never through the bridge)
    backend: BackendSpec | None
    #: small models on CPU through the bridge (None: the family never runs through the bridge)
    bridge_cost: CostRow | None
    #: training (None: elbench does not train this family)
    training: TrainingSpec | None
    #: registry entry -> default pair style name (None: the first of pair_styles)
    default_style: Callable[[Any], str] | None = None
    #: LAMMPS binary -> what it lacks for this family beyond the pair style (checked when nothing else is missing)
    native_blockers: Callable[[Any], list[str]] | None = None
    #: the calculator evaluates only in float32 (preflight parity tolerances relaxed, recorded)
    float32: bool = False
    #: the calculator accepts only fully periodic or fully open cells: a slab is handed over fully periodic
    full_pbc: bool = False
    #: options every bridge calculator of the family gets (e.g. eSEN's task head)
    bridge_options: tuple[tuple[str, Any], ...] = ()

    @property
    def runs_in_bridge(self) -> bool:
        return self.backend is not None

    def pair_style(self, name: str) -> PairStyleSpec | None:
        return next((p for p in self.pair_styles if p.name == name), None)

    def pair_style_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.pair_styles)


# --------------------------------------------------------------------------- helpers shared by family files


def is_zip(path: Path) -> bool:
    return path.is_file() and zipfile.is_zipfile(path)


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def head(path: Path, chars: int = 4000) -> str:
    """The first characters of a text model file (for format sniffing)."""
    return path.read_text(errors="replace")[:chars]


def curve_row(gu, epoch, split, energy_meV_atom, force_meV_A) -> dict:
    """One learning-curve row (columns: elbench.train.curves.COLUMNS)."""
    return {"gradient_update": gu, "epoch": epoch, "split": split, "energy_meV_atom": energy_meV_atom,
            "force_meV_A": force_meV_A}


def cost_rows(cpu_small: CostRow, cpu_production: CostRow, gpu_small: CostRow,
              gpu_production: CostRow) -> dict[tuple[str, str], CostRow]:
    """The four (device, size) rows of a family, by keyword so that none is forgotten."""
    return {("cpu", "small"): cpu_small, ("cpu", "production"): cpu_production,
            ("gpu", "small"): gpu_small, ("gpu", "production"): gpu_production}
