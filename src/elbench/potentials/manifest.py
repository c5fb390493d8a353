"""Schema and loader of the potential registry ``manifest.toml``.

Each ``[[potential]]`` names a model, its MLIP family, its files (relative to the
manifest, with sha256), its explicit element order, its cutoff and number of
message-passing layers (receptive field = cutoff x max(1, layers)), the charge
states its training data covered, and a citation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from elbench.config import StrictModel, check_safe_name, check_single_line, validation_error_to_input_error
from elbench.elements import is_element
from elbench.errors import InputError
from elbench.io import read_toml, sha256_file

Family = Literal["dp", "dp-mp", "ace", "grace", "mace", "esen", "reference"]
FAMILIES: tuple[str, ...] = ("dp", "dp-mp", "ace", "grace", "mace", "esen", "reference")


class ModelFile(StrictModel):
    path: str = Field(description="relative to the manifest's directory")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: str = Field("model", description="model | potential | config | data")

    @field_validator("path")
    @classmethod
    def _path_ok(cls, value: str) -> str:
        check_single_line(value)
        if value.startswith("/") or ".." in Path(value).parts:
            raise ValueError("model file paths are relative to the manifest and stay inside its directory")
        if any(ch in value for ch in " '\"$`;&|<>#*?\\"):
            raise ValueError("model file paths must not contain spaces, quotes or shell characters")
        return value


class PotentialEntry(StrictModel):
    name: str
    family: Family
    description: str = ""
    files: list[ModelFile] = Field(default_factory=list)
    type_map: list[str] = Field(description="element order of the model")
    cutoff_A: float = Field(gt=0.0, le=30.0)
    message_passing_layers: int = Field(0, ge=0, le=16)
    trained_charge_states: list[int] = Field(default_factory=list)
    training: Literal["mixed", "single", "none", "unknown"] = "unknown"
    environment: str = Field("core", description="the elbench environment that runs this family")
    pair_style: str | None = Field(None, description="override the family's native pair style variant")
    citation: str = ""
    made_by: str = Field("", description="how the shipped model was made")

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
        if self.family != "reference" and not self.files:
            raise ValueError(f"potential '{self.name}' of family {self.family} lists no model files")
        return self

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
        """Every listed file exists and matches its sha256, or InputError."""
        for index, mf in enumerate(entry.files):
            path = self.root / mf.path
            key = f"potential.{entry.name}.files[{index}]"
            if not path.is_file():
                raise InputError(f"model file {path} is missing", file=self.path, key=key)
            actual = sha256_file(path)
            if actual != mf.sha256:
                raise InputError(
                    f"sha256 mismatch for {path}: registry says {mf.sha256[:12]}…, file is {actual[:12]}…",
                    file=self.path,
                    key=key,
                )


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path)
    if not path.is_file():
        raise InputError("potential registry not found", file=path)
    data = read_toml(path)
    try:
        parsed = ManifestFile.model_validate(data)
    except ValidationError as err:
        raise validation_error_to_input_error(err, path) from None
    names = [e.name for e in parsed.potential]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"duplicate potential names {dupes}", file=path, key="potential.name")
    return Manifest(parsed.potential, path)


def manifest_for_campaign(campaign) -> Manifest:
    """The registry a campaign uses: the builtin one or a path relative to the campaign."""
    from elbench.resources import builtin_manifest

    value = campaign.config.manifest
    path = builtin_manifest() if value == "builtin" else (campaign.root / value)
    if not path.is_file():
        raise InputError("potential registry not found", file=path, key="manifest",
                         allowed="'builtin' or a registry path relative to the campaign file")
    return load_manifest(path)
