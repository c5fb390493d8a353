"""Campaign templates (``quickstart`` and ``paper``) written as documented TOML.

The TOML is generated from the pydantic schema, so every key a template writes
exists, has its default and carries its field description as a comment; optional
keys left unset appear as comment lines (e.g. ``md.blowup.max_temperature_K``).
"""

from __future__ import annotations

from pathlib import Path

import tomli_w
from pydantic import BaseModel

from elbench.config import CampaignConfig, KokkosConfig, LammpsConfig, MDConfig, SlurmConfig, SystemConfig
from elbench.errors import InputError
from elbench.io import atomic_write_text

TEMPLATES = ("quickstart", "paper")


def quickstart_config() -> CampaignConfig:
    """Small Au(111)/water/Na+ interface; reference model; minutes on 2 CPU cores."""
    return CampaignConfig(
        name="quickstart",
        models=["reference"],
        system=SystemConfig(repeats=(6, 8), layers=3, fixed_layers=1, water_thickness_A=12.0, vacuum_A=15.0),
        md=MDConfig(equilibration_ps=1.0, production_ps=4.0, dump_interval_steps=20, seeds=[1]),
    )


def paper_config() -> CampaignConfig:
    """Sized like de Kam et al. (2026): thicker water, ns runs, several seeds, GPUs, SLURM."""
    return CampaignConfig(
        name="paper",
        models=["reference"],
        system=SystemConfig(repeats=(6, 8), layers=6, fixed_layers=2, water_thickness_A=30.0, vacuum_A=20.0),
        md=MDConfig(
            equilibration_ps=100.0,
            production_ps=10000.0,
            dump_interval_steps=200,
            restart_interval_steps=20000,
            segment_ps=1000.0,
            seeds=[1, 2, 3],
            dump_format="dcd",
            thermostat="nose-hoover",
            thermostat_damping_fs=50.0,
        ),
        lammps=LammpsConfig(binary="lmp", launcher="srun", mpi_ranks=1, kokkos=KokkosConfig(enabled=True, gpus_per_node=1)),
        slurm=SlurmConfig(partition="gpu", time="24:00:00", gpus_per_node=1, cpus_per_task=8, setup_lines=["module load lammps"]),
    )


def _comment_lines(model: BaseModel) -> dict[str, str]:
    return {name: (f.description or "") for name, f in type(model).model_fields.items()}


def _toml_value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


def _section_text(model: BaseModel, header: str | None) -> list[str]:
    lines: list[str] = [f"[{header}]"] if header else []
    comments = _comment_lines(model)
    data = model.model_dump(mode="json")
    nested: list[tuple[str, BaseModel]] = []
    for key, value in data.items():
        if value is None:  # optional and unset: documented as a comment when the schema describes it
            if comments.get(key):
                lines.append(f"# {key} (optional, unset): {comments[key]}")
            continue
        attr = getattr(model, key)
        if isinstance(attr, BaseModel):
            nested.append((key, attr))
            continue
        comment = f"  # {comments[key]}" if comments.get(key) else ""
        lines.append(f"{key} = {_toml_value(value)}{comment}")
    for key, sub in nested:
        lines.append("")
        lines.extend(_section_text(sub, f"{header}.{key}" if header else key))
    return lines


def campaign_toml(config: CampaignConfig, title: str) -> str:
    head = [
        f"# elbench campaign ({title}). Units are in key names (LAMMPS metal units: A, eV, ps).",
        "# Unknown keys are errors. `elbench build`, `render`, `run`, `analyze`, `report` act on this file.",
    ]
    return "\n".join(head + _section_text(config, None)) + "\n"


def write_campaign(directory: str | Path, template: str, *, force: bool = False) -> Path:
    if template not in TEMPLATES:
        raise InputError(f"unknown template '{template}'", key="--template", allowed=", ".join(TEMPLATES))
    config = quickstart_config() if template == "quickstart" else paper_config()
    path = Path(directory) / "elbench.toml"
    if path.exists() and not force:
        raise InputError("campaign file exists; pass --force to overwrite it", file=path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_text(path, campaign_toml(config, template))
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", file=path) from None
