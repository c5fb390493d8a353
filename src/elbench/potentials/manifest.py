"""Schema and loader of the potential registry ``manifest.toml``.

Each ``[[potential]]`` names a model, its MLIP family, its files (relative to the
manifest, with sha256), its explicit element order, its cutoff and number of
message-passing layers (receptive field = cutoff x max(1, layers)), the charge
states its training data covered, and a citation.

A shipped, trained model also carries ``[potential.trained]`` (:class:`TrainingRecord`):
the dataset and its hash, the training set (``mixed`` or ``q<n>``), the gradient updates,
its training input and learning curve (both listed in ``files``), the test RMSE, the total
size of its model files, and how long NVT at 300 K on the quickstart system ran without a
blow-up.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from elbench import families
from elbench.config import StrictModel, check_safe_name, check_single_line, validation_error_to_input_error
from elbench.elements import is_element
from elbench.errors import InputError
from elbench.io import read_toml, sha256_file
from elbench.resources import builtin_manifest
from elbench.surface_charge import sigma_uC_cm2

#: the family names of elbench.families, as the schema's allowed values
Family = Literal[families.names()]

#: largest model file a trained (shipped) entry may have: 20 MiB
MAX_SHIPPED_MODEL_BYTES = 20 * 1024 * 1024
#: roles of the files a training record points to
TRAINING_INPUT_ROLE = "training_input"
LEARNING_CURVE_ROLE = "learning_curve"
TRAINING_SET = re.compile(r"^(mixed|q(0|[1-9][0-9]{0,2}))$")


class KeyedValueError(ValueError):
    """A cross-field problem of one entry that knows the dotted key to name (``potential.<name>.trained.x``)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def check_relative_path(value: str) -> str:
    """A path relative to the manifest that stays inside its directory and is safe in scripts."""
    check_single_line(value)
    if not value or value.startswith("/") or ".." in Path(value).parts:
        raise ValueError("model file paths are relative to the manifest and stay inside its directory")
    if any(ch in value for ch in " '\"$`;&|<>#*?\\"):
        raise ValueError("model file paths must not contain spaces, quotes or shell characters")
    return value


class ModelFile(StrictModel):
    path: str = Field(description="relative to the manifest's directory")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: str = Field("model", description="model | potential | config | data | training_input | learning_curve")

    @field_validator("path")
    @classmethod
    def _path_ok(cls, value: str) -> str:
        return check_relative_path(value)


#: A first water layer this much further from the metal than the reference's is "water off the metal" (Å);
#: the reference's first O peak and first-layer boundary are ~1.4 Å apart on Au(111).
DEWETTING_SHIFT_A = 1.5


class TrainingRecord(StrictModel):
    """How a shipped model was trained, how well it fits held-out data, and whether its MD stays in one piece."""

    dataset: str = Field(description="the labelled dataset, repo-relative (e.g. tests/data/reference_small.extxyz)")
    dataset_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    split_seed: int
    training_set: str = Field(description="'mixed' (all charge states) or 'q<n>' (one charge state)")
    gradient_updates: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    input: str = Field(description="training input, relative to the manifest; also in files with role training_input")
    learning_curve: str = Field(description="learning_curve.csv, relative to the manifest; also in files with role learning_curve")
    test_rmse_energy_meV_atom: float = Field(ge=0.0)
    test_rmse_force_meV_A: float = Field(ge=0.0)
    test_frames: int = Field(gt=0)
    size_bytes: int = Field(gt=0, description="total size of the files with role model")
    nvt_ps_without_blowup: float = Field(ge=0.0, description="NVT at 300 K on the quickstart system that ran without a blow-up")
    nvt_blew_up_at_ps: float | None = Field(None, ge=0.0, description="unset: no blow-up within nvt_ps_without_blowup")
    stability_target_ps: float = Field(20.0, gt=0.0)
    nvt_first_O_peak_A: float | None = Field(
        None, ge=0.0, description="first water-O density peak above the top metal plane in that NVT run; unset: not measured")
    reference_first_O_peak_A: float | None = Field(
        None, ge=0.0, description="the reference's first O peak at the same charge state, for comparison")

    @field_validator("dataset")
    @classmethod
    def _dataset_ok(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("dataset must describe the labelled data (a repo-relative path)")
        return check_single_line(value)

    @field_validator("training_set")
    @classmethod
    def _training_set_ok(cls, value: str) -> str:
        if not TRAINING_SET.match(value):
            raise ValueError("training_set must be 'mixed' or 'q<n>' (e.g. q0, q4)")
        return value

    @field_validator("input", "learning_curve")
    @classmethod
    def _paths_ok(cls, value: str) -> str:
        return check_relative_path(value)

    @model_validator(mode="after")
    def _blowup_consistent(self) -> "TrainingRecord":
        if self.nvt_blew_up_at_ps is not None and self.nvt_ps_without_blowup > self.nvt_blew_up_at_ps:
            raise ValueError(f"nvt_ps_without_blowup ({self.nvt_ps_without_blowup:g}) is longer than "
                             f"nvt_blew_up_at_ps ({self.nvt_blew_up_at_ps:g})")
        return self

    @property
    def charge_state(self) -> int | None:
        """The one charge state of a single-charge training set; None for mixed."""
        return None if self.training_set == "mixed" else int(self.training_set[1:])

    @property
    def ran_to_target(self) -> bool:
        """The stability target ran without a blow-up."""
        return self.nvt_blew_up_at_ps is None and self.nvt_ps_without_blowup >= self.stability_target_ps

    @property
    def water_off_metal(self) -> bool:
        """The run's first water layer sits more than DEWETTING_SHIFT_A further from the metal than the reference's.

        The blow-up checks (close contacts, broken waters, runaway temperature) do not see a model whose
        water lifts off the surface and stays intact; this does.
        """
        if self.nvt_blew_up_at_ps is not None or self.nvt_first_O_peak_A is None or self.reference_first_O_peak_A is None:
            return False
        return self.nvt_first_O_peak_A - self.reference_first_O_peak_A > DEWETTING_SHIFT_A

    @property
    def stability_status(self) -> str:
        """'stable', 'blew-up at X ps' or 'ran X ps, target Y ps not tested'; '; water off the metal (...)' added
        when the run kept together but its first water layer left the surface."""
        if self.nvt_blew_up_at_ps is not None:
            return f"blew-up at {self.nvt_blew_up_at_ps:g} ps"
        status = ("stable" if self.ran_to_target
                  else f"ran {self.nvt_ps_without_blowup:g} ps, target {self.stability_target_ps:g} ps not tested")
        if self.water_off_metal:
            status += (f"; water off the metal (first O peak {self.nvt_first_O_peak_A:.1f} Å, "
                       f"reference {self.reference_first_O_peak_A:.1f} Å)")
        return status


class PotentialEntry(StrictModel):
    name: str
    family: Family
    description: str = ""
    files: list[ModelFile] = Field(default_factory=list)
    type_map: list[str] = Field(description="element order of the model")
    cutoff_A: float = Field(gt=0.0, le=30.0)
    message_passing_layers: int = Field(0, ge=0, le=16)
    trained_charge_states: list[int] = Field(default_factory=list)
    trained_area_A2: float | None = Field(
        None, gt=0.0, description="lateral area of the training cell (Å²): with trained_charge_states, the surface "
        "charges σ = −n·e/A trained on; unset: σ unknown, charge states are compared by cation count")
    training: Literal["mixed", "single", "none", "unknown"] = "unknown"
    environment: str = Field("core", description="the elbench environment that runs this family")
    pair_style: str | None = Field(None, description="override the family's native pair style variant")
    citation: str = ""
    made_by: str = Field("", description="how the shipped model was made")
    trained: TrainingRecord | None = Field(None, description="training record of a shipped, trained model")

    @property
    def trained_sigma_uC_cm2(self) -> list[float]:
        """The surface charges trained on (µC/cm²); empty without trained_area_A2."""
        if self.trained_area_A2 is None:
            return []
        return [sigma_uC_cm2(n, self.trained_area_A2) for n in sorted(set(self.trained_charge_states))]

    @field_validator("name", "environment")
    @classmethod
    def _name_ok(cls, value: str) -> str:
        return check_safe_name(value)

    @field_validator("description", "citation", "made_by")
    @classmethod
    def _text_ok(cls, value: str) -> str:
        return check_single_line(value) if value else value

    @field_validator("type_map")
    @classmethod
    def _type_map_ok(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("type_map must list the model's elements in order")
        bad = [v for v in value if not is_element(v)]
        if bad:
            raise ValueError(f"not element symbols: {bad}")
        if len(set(value)) != len(value):
            raise ValueError("type_map must not repeat elements")
        return value

    @model_validator(mode="after")
    def _files_needed(self) -> "PotentialEntry":
        if families.get(self.family).model is not None and not self.files:
            raise ValueError(f"potential '{self.name}' of family {self.family} lists no model files")
        if self.trained_area_A2 is not None and not self.trained_charge_states:
            raise KeyedValueError(f"potential.{self.name}.trained_area_A2",
                                  "trained_area_A2 needs the trained_charge_states it turns into surface charges")
        if self.trained is not None:
            self._check_record(self.trained)
        return self

    def _check_record(self, rec: TrainingRecord) -> None:
        """The record agrees with training / trained_charge_states and points at listed files."""
        key = f"potential.{self.name}.trained"
        want = "mixed" if rec.training_set == "mixed" else "single"
        if self.training != want:
            raise KeyedValueError(f"potential.{self.name}.training",
                                  f"training = '{self.training}' contradicts trained.training_set = '{rec.training_set}' "
                                  f"(needs training = '{want}')")
        states = sorted(set(self.trained_charge_states))
        if rec.charge_state is not None and states != [rec.charge_state]:
            raise KeyedValueError(f"potential.{self.name}.trained_charge_states",
                                  f"trained_charge_states {self.trained_charge_states} contradicts trained.training_set = "
                                  f"'{rec.training_set}' (needs [{rec.charge_state}])")
        if rec.charge_state is None and len(states) < 2:
            raise KeyedValueError(f"potential.{self.name}.trained_charge_states",
                                  f"a mixed training set covers at least two charge states; got {self.trained_charge_states}")
        for field, role in (("input", TRAINING_INPUT_ROLE), ("learning_curve", LEARNING_CURVE_ROLE)):
            path = getattr(rec, field)
            if not any(f.path == path and f.role == role for f in self.files):
                raise KeyedValueError(f"{key}.{field}",
                                      f"trained.{field} '{path}' is not listed in files with role '{role}' (and its sha256)")
        if not any(f.role == "model" for f in self.files):
            raise KeyedValueError(f"potential.{self.name}.files", "a trained entry needs a file with role 'model'")

    @property
    def receptive_field_A(self) -> float:
        return self.cutoff_A * max(1, self.message_passing_layers)

    def model_file(self, role: str = "model") -> ModelFile | None:
        return next((f for f in self.files if f.role == role), None)


class ManifestFile(StrictModel):
    potential: list[PotentialEntry] = Field(default_factory=list)


class Manifest:
    """A loaded registry: entries by name plus the directory model paths are relative to."""

    def __init__(self, entries: list[PotentialEntry], path: Path) -> None:
        self.path = path.resolve()
        self.root = self.path.parent
        self.entries = {e.name: e for e in entries}

    def get(self, name: str, *, campaign_file: str | Path | None = None) -> PotentialEntry:
        if name not in self.entries:
            raise InputError(
                f"model '{name}' is not in the registry {self.path}",
                file=campaign_file,
                key="models",
                allowed=", ".join(sorted(self.entries)),
            )
        return self.entries[name]

    def file_path(self, entry: PotentialEntry, role: str = "model") -> Path | None:
        mf = entry.model_file(role)
        return None if mf is None else self.root / mf.path

    def verify_files(self, entry: PotentialEntry) -> None:
        """Every listed file exists and matches its sha256, or InputError.

        With a training record, each role="model" file is at most MAX_SHIPPED_MODEL_BYTES and
        their total size equals ``trained.size_bytes``.
        """
        for index, mf in enumerate(entry.files):
            path = self.root / mf.path
            key = f"potential.{entry.name}.files[{index}]"
            if not path.is_file():
                raise InputError(f"model file {path} is missing", file=self.path, key=key)
            if entry.trained is not None and mf.role == "model":
                self._check_size_limit(path, key)
            actual = sha256_file(path)
            if actual != mf.sha256:
                raise InputError(
                    f"sha256 mismatch for {path}: registry says {mf.sha256[:12]}…, file is {actual[:12]}…",
                    file=self.path,
                    key=key,
                )
        if entry.trained is not None:
            self.verify_sizes(entry)

    def _check_size_limit(self, path: Path, key: str) -> None:
        size = path.stat().st_size
        if size > MAX_SHIPPED_MODEL_BYTES:
            raise InputError(f"model file {path} is {size} bytes, over the shipped-model limit",
                             file=self.path, key=key, allowed=f"<= {MAX_SHIPPED_MODEL_BYTES} bytes (20 MiB)")

    def verify_sizes(self, entry: PotentialEntry) -> None:
        """A trained entry's role="model" files: each within MAX_SHIPPED_MODEL_BYTES, total = trained.size_bytes."""
        rec = entry.trained
        if rec is None:
            return
        total = 0
        for index, mf in enumerate(entry.files):
            if mf.role != "model":
                continue
            path, key = self.root / mf.path, f"potential.{entry.name}.files[{index}]"
            if not path.is_file():
                raise InputError(f"model file {path} is missing", file=self.path, key=key)
            self._check_size_limit(path, key)
            total += path.stat().st_size
        if total != rec.size_bytes:
            raise InputError(f"model files of '{entry.name}' total {total} bytes, the registry says {rec.size_bytes}",
                             file=self.path, key=f"potential.{entry.name}.trained.size_bytes", allowed=str(total))

    def learning_curve_rows(self, entry: PotentialEntry) -> list[dict[str, str]]:
        """Rows of a trained entry's learning_curve.csv (InputError when absent, unreadable or under 2 rows)."""
        key = f"potential.{entry.name}.trained.learning_curve"
        if entry.trained is None:
            raise InputError(f"potential '{entry.name}' has no training record", file=self.path,
                             key=f"potential.{entry.name}.trained")
        path = self.root / entry.trained.learning_curve
        try:
            with open(path, newline="") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            raise InputError(f"cannot read the learning curve {path}: {err}", file=self.path, key=key) from None
        if len(rows) < 2 or any(None in r or None in r.values() for r in rows):
            raise InputError(f"learning curve {path} needs a header and at least 2 complete rows; has {len(rows)}",
                             file=self.path, key=key)
        return rows


def _entry_key(data: dict, loc: tuple) -> str | None:
    """``potential.<name>.trained.<field>`` for a pydantic error inside a training record."""
    if len(loc) < 3 or loc[0] != "potential" or not isinstance(loc[1], int) or loc[2] != "trained":
        return None
    try:
        name = data["potential"][loc[1]]["name"]
    except (KeyError, IndexError, TypeError):
        name = loc[1]
    return ".".join(["potential", str(name)] + [str(p) for p in loc[2:] if not isinstance(p, int)])


def _record_error(err: ValidationError, data: dict, path: Path) -> InputError | None:
    """One line naming potential.<name>.… for problems of a training record; None for any other error."""
    first = err.errors()[0]
    exc = (first.get("ctx") or {}).get("error")
    if isinstance(exc, KeyedValueError):
        return InputError(str(exc), file=path, key=exc.key)
    key = _entry_key(data, tuple(first.get("loc", ())))
    if key is None:
        return None
    if first.get("type") == "extra_forbidden":
        return InputError("unknown key", file=path, key=key, allowed=", ".join(TrainingRecord.model_fields))
    return InputError(f"{first.get('msg', 'invalid value').removeprefix('Value error, ')}; got {first.get('input')!r}",
                      file=path, key=key)


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path)
    if not path.is_file():
        raise InputError("potential registry not found", file=path)
    data = read_toml(path)
    try:
        parsed = ManifestFile.model_validate(data)
    except ValidationError as err:
        raise (_record_error(err, data, path) or validation_error_to_input_error(err, path)) from None
    names = [e.name for e in parsed.potential]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"duplicate potential names {dupes}", file=path, key="potential.name")
    return Manifest(parsed.potential, path)


def manifest_for_campaign(campaign) -> Manifest:
    """The registry a campaign uses: the builtin one or a path relative to the campaign."""
    value = campaign.config.manifest
    path = builtin_manifest() if value == "builtin" else (campaign.root / value)
    if not path.is_file():
        raise InputError("potential registry not found", file=path, key="manifest",
                         allowed="'builtin' or a registry path relative to the campaign file")
    return load_manifest(path)
