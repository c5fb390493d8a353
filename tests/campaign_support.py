"""One small test campaign, as TOML text, with keyword overrides.

The base is the tiny Au(111) 6x8x3 / 8 Å water / Na+ reference campaign that the run,
SLURM and bad-input tests share (one charge state, 200 MD steps at 0.5 fs). Overrides:

* a key of the campaign schema by its own name, placed in its section by the schema:
  ``campaign_toml(name="x", charge_states=[0, 2], production_ps=0.02, blowup={...})``;
* a whole section as a dict merged into the base: ``slurm={"time": "00:30:00"}``;
* ``None`` drops a key of the base.

Keys that the schema has in more than one of these sections must be given inside
their section's dict.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import tomli_w
from typer.testing import CliRunner

from elbench.cli.main import app
from elbench.config import CampaignConfig, MDConfig, SystemConfig

BASE: dict = {
    "name": "test",
    "models": ["reference"],
    "system": {
        "repeats": [6, 8],
        "layers": 3,
        "fixed_layers": 1,
        "water_thickness_A": 8.0,
        "vacuum_A": 10.0,
        "charge_states": [1],
    },
    "md": {
        "equilibration_ps": 0.02,
        "production_ps": 0.08,
        "dump_interval_steps": 20,
        "thermo_interval_steps": 20,
        "restart_interval_steps": 40,
        "seeds": [1],
    },
}

#: the sections a flat keyword can land in, by the schema that defines them (None: top level)
_SCHEMAS = {None: CampaignConfig, "system": SystemConfig, "md": MDConfig}


@functools.lru_cache(maxsize=1)
def _section_of() -> dict[str, str | None]:
    """Schema key -> its section; a key defined in two sections is left out (give it in a section dict)."""
    seen: dict[str, list[str | None]] = {}
    for section, model in _SCHEMAS.items():
        for key in model.model_fields:
            if section is None and key in _SCHEMAS:
                continue
            seen.setdefault(key, []).append(section)
    return {key: sections[0] for key, sections in seen.items() if len(sections) == 1}


def _value(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).strip()[len("v = "):]


def _table(header: str | None, table: dict) -> list[str]:
    lines = [f"[{header}]"] if header else []
    subtables = []
    for key, value in table.items():
        if isinstance(value, dict):
            subtables.append((f"{header}.{key}" if header else key, value))
        elif value is not None:
            lines.append(f"{key} = {_value(value)}")
    for sub_header, sub in subtables:
        lines.extend(_table(sub_header, sub))
    return lines


def campaign_dict(**overrides) -> dict:
    """The base campaign with ``overrides`` applied (see the module docstring)."""
    data = copy.deepcopy(BASE)
    sections = _section_of()
    for key, value in overrides.items():
        if key in data and isinstance(data[key], dict) and isinstance(value, dict):
            data[key] = {**data[key], **value}
            continue
        if key not in sections:
            raise KeyError(f"{key!r} is not a campaign key of one section; pass it in its section's dict")
        target = data if sections[key] is None else data.setdefault(sections[key], {})
        target[key] = value
    return data


def campaign_toml(**overrides) -> str:
    """TOML text of the base campaign with ``overrides`` (see the module docstring)."""
    return "\n".join(_table(None, campaign_dict(**overrides))) + "\n"


def build_systems(root: Path, toml_text: str) -> Path:
    """``elbench build`` of the campaign ``toml_text`` in ``root``, through the CLI; returns its systems/ directory."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "elbench.toml").write_text(toml_text)
    res = CliRunner().invoke(app, ["build", "-c", str(root / "elbench.toml")])
    assert res.exit_code == 0, res.output
    return root / "systems"
