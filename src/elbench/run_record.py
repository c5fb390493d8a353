"""The run record: ``run.json`` of a rendered run directory, typed and versioned.

``elbench render`` writes it (:func:`elbench.render.runs.run_record`); the bridge,
the preflight, the launcher, the analysis and the report read it, always through
:meth:`RunRecord.load`. It holds everything a run needs besides its deck: the engine
and its command, the family's calculator (model file, the model's elements, options,
committee members), the MPI ranks, the step counts, timestep, dump and restart files,
the topology file and the hashes of every input. Nobody parses the deck to learn them.

Writers extend a record only through its own methods (:meth:`RunRecord.with_preflight`,
then :meth:`RunRecord.save`). The file contract is stable: keys are added, never
renamed or dropped; a new key means a new :data:`SCHEMA_VERSION`. A record of an older
schema (before ``schema_version`` existed: version 1) is refused with one line that
says to re-render; unknown keys are refused.

This module also owns the file names a run directory shares between render, launch
and analysis: :data:`RUN_JSON`, :data:`RESTART_FILES`, :data:`MODEL_DEVIATION_FILE`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_serializer

from elbench.config import StrictModel
from elbench.errors import InputError
from elbench.io import atomic_write_json

#: the run record's file name inside a run directory
RUN_JSON = "run.json"
#: version of the run.json schema; 1 is every record written before the field existed
SCHEMA_VERSION = 3
#: the two alternating restart files of a run (the deck writes them, the launcher resumes from them)
RESTART_FILES = ("restart.a", "restart.b")
#: model deviation of a committee (DeePMD ensemble or bridge committee), DeePMD's layout
MODEL_DEVIATION_FILE = "model_devi.out"
#: the state a shared reference equilibration leaves (``write_data``, full style, with velocities)
FINAL_DATA = "final.data"
#: the start state a two-stage production reads (atomic style, with velocities), made by the launcher
START_DATA = "start.data"

RERENDER = "re-render with `elbench render --force`"


class _Sparse(StrictModel):
    """A sub-record whose unset optional keys are left out of the JSON (as render wrote them)."""

    @model_serializer(mode="wrap")
    def _drop_none(self, handler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}


class InputFile(_Sparse):
    """One hashed input: a file copied into the run directory, a model file, or the deck."""

    path: str = Field(description="relative to the run directory, or absolute (model files)")
    sha256: str
    source: str | None = Field(None, description="where render copied the file from")
    role: str | None = Field(None, description="registry role of a model file (model, atom_refs, ...)")


class ThermostatStage(StrictModel):
    kind: str
    damping_fs: float
    seed: int | None


class Thermostat(StrictModel):
    """Production thermostat; ``equilibration`` is the tight CSVR of the equilibration stage."""

    kind: str
    damping_fs: float
    seed: int | None = Field(description="the CSVR seed; null for Nose-Hoover")
    equilibration: ThermostatStage


class Steps(StrictModel):
    """The run's timeline, counted from step 0 (the minimisation does not count)."""

    minimize_max_iterations: int = Field(ge=0)
    equilibration: int = Field(ge=0)
    production: int = Field(ge=0)
    production_first_step: int = Field(ge=0)
    last_step: int = Field(ge=0)


class Dump(StrictModel):
    file: str
    format: str
    interval_steps: int = Field(ge=1)
    first_step: int = Field(ge=0)
    group: str = "all"


class Restart(StrictModel):
    files: list[str]
    interval_steps: int = Field(ge=1)
    final: str


class Calculator(StrictModel):
    """The family's ASE calculator: what the bridge drives MD with and the preflight compares against."""

    family: str
    model: str = Field(description="absolute path of the model file")
    model_type_map: list[str] = Field(description="the elements the model knows")
    cutoff_A: float
    options: dict[str, str | int | float | bool] = Field(default_factory=dict,
                                    description="family options (atom_refs, atom_energies, task, ...)")
    committee: list[str] = Field(default_factory=list,
                                 description="further role-'model' files (absolute): a committee whose model "
                                             "deviation the bridge writes every thermo_interval_steps")


class Preflight(_Sparse):
    """The first-frame parity check's verdict (``preflight.json`` holds the details)."""

    passed: bool
    engine: str
    precision: str | None = None
    energy_diff_eV_per_atom: float | None = None
    force_max_abs_diff_eV_per_A: float | None = None
    nve_drift_eV_per_atom_per_ps: float | None = None
    error: str | None = None


class StartFrom(StrictModel):
    """A two-stage production starts from the last state of a shared reference equilibration."""

    run_dir: str = Field(description="the equilibration's run directory, relative to this run directory")
    source: str = Field(FINAL_DATA, description="the file the equilibration writes at its end (full atom style)")
    file: str = Field(START_DATA, description="the start file this run's deck reads (atomic style, made by elbench)")
    model: str = Field("reference", description="the model that equilibrated the system")


class Provenance(_Sparse):
    elbench_version: str
    created_utc: str
    host: str
    python: str
    command: list[str]
    inputs: dict[str, Any]
    lammps: dict[str, Any] | None = None
    system_json: str | None = None


class RunRecord(StrictModel):
    """``run.json``: one rendered run (model x charge state x seed)."""

    schema_version: Literal[3] = SCHEMA_VERSION
    stage: Literal["production", "equilibration"] = Field(
        "production", description="'equilibration': a shared reference equilibration two-stage runs start from")
    model: str
    family: str
    charge_state: int = Field(ge=0)
    seed: int = Field(ge=0)
    engine: Literal["native", "bridge"]
    engine_reason: str
    environment: str = Field(description="the elbench environment of the family (core, dp, mace, ...)")
    pair_style: str
    command: list[str] = Field(description="argv run.sh executes, from inside the run directory")
    env: dict[str, str]
    env_prepend: list[str]
    mpi_ranks: int = Field(1, ge=1)
    type_map: list[str] = Field(description="LAMMPS type i is element type_map[i-1]")
    geometry: str
    n_atoms: int = Field(ge=0)
    n_fixed_atoms: int = Field(ge=0)
    timestep_fs: float = Field(gt=0.0)
    temperature_K: float = Field(gt=0.0)
    thermostat: Thermostat
    steps: Steps
    dump: Dump
    thermo_interval_steps: int = Field(ge=1)
    restart: Restart
    data_file: str = Field(description="the data file the deck reads")
    manifest: str = Field(description="the registry the model entry came from")
    calculator: Calculator | None = Field(description="null for the classical reference (no ASE calculator)")
    topology_file: str = Field(description="atomic topology (ids, types) the dumped frames follow")
    log_file: str
    model_deviation_file: str | None
    inputs: dict[str, InputFile]
    provenance: Provenance
    preflight: Preflight | None = None
    start_from: StartFrom | None = Field(None, description="two-stage production: the equilibration it starts from")
    final_data: str | None = Field(None, description="equilibration: the state file it leaves for the productions")

    @model_serializer(mode="wrap")
    def _without_unset_preflight(self, handler) -> dict[str, Any]:
        data = handler(self)
        for key in ("preflight", "start_from", "final_data"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    # ------------------------------------------------------------------ reading and writing

    @classmethod
    def load(cls, run_dir: str | Path) -> "RunRecord":
        """The record of ``run_dir``; InputError (one line, naming the file) when it is missing or invalid."""
        path = Path(run_dir) / RUN_JSON
        if not path.is_file():
            raise InputError("run directory has no run.json; create it with `elbench render`", file=path)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read run.json: {err}", file=path) from None
        return cls.from_dict(data, file=path)

    @classmethod
    def from_dict(cls, data: Any, *, file: str | Path | None = None) -> "RunRecord":
        if not isinstance(data, dict):
            raise InputError(f"run.json must hold an object; {RERENDER}", file=file)
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or version < SCHEMA_VERSION:
            raise InputError(f"run.json was rendered by an older elbench (run record schema {version}, "
                             f"this elbench reads {SCHEMA_VERSION}); {RERENDER}", file=file, key="schema_version")
        if version > SCHEMA_VERSION:
            raise InputError(f"run.json was rendered by a newer elbench (run record schema {version}, this "
                             f"elbench reads {SCHEMA_VERSION}); update elbench or {RERENDER}",
                             file=file, key="schema_version")
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise _input_error(err, file) from None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def save(self, run_dir: str | Path) -> Path:
        """Write ``run_dir/run.json`` atomically."""
        return atomic_write_json(Path(run_dir) / RUN_JSON, self.to_dict())

    # ------------------------------------------------------------------ extending

    def with_preflight(self, result: Preflight) -> "RunRecord":
        """A copy carrying the preflight verdict (the only key written after render)."""
        return self.model_copy(update={"preflight": Preflight.model_validate(result.model_dump())})

    # ------------------------------------------------------------------ views

    @property
    def key(self) -> str:
        if self.stage == "equilibration":
            return f"equilibration/q{self.charge_state}/s{self.seed}"
        return f"{self.model}/q{self.charge_state}/s{self.seed}"

    def start_run_dir(self, run_dir: str | Path) -> Path | None:
        """The equilibration run directory a two-stage production starts from (None otherwise)."""
        if self.start_from is None:
            return None
        return (Path(run_dir) / self.start_from.run_dir).resolve()

    @property
    def committee(self) -> list[str]:
        return list(self.calculator.committee) if self.calculator is not None else []


def _input_error(err: ValidationError, file: str | Path | None) -> InputError:
    """One line for the first problem: the key's dotted path and what is wrong with it."""
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or None
    if first["type"] == "extra_forbidden":
        message = f"unknown key in run.json (not in run record schema {SCHEMA_VERSION}); {RERENDER}"
    elif first["type"] == "missing":
        message = f"run.json lacks a required key; {RERENDER}"
    else:
        message = f"{first['msg']}; {RERENDER}"
    more = len(err.errors()) - 1
    if more:
        message += f" ({more} more problem{'s' if more > 1 else ''})"
    return InputError(message, file=file, key=key)
