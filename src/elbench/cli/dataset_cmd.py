"""``elbench dataset``: generate, label, import, check, split and convert labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from elbench.cli.common import DEFAULT_CAMPAIGN, CampaignOption, cli_errors, console
from elbench.errors import InputError

dataset_app = typer.Typer(help="Labelled datasets: reference sampling, DFT import, splits, family formats.",
                          no_args_is_help=True)

OutOption = Annotated[Path, typer.Option("--out", "-o", help="output file (.extxyz) or directory")]
TrustOption = Annotated[bool, typer.Option("--trust-units", help="skip the unit plausibility checks (minimised or non-thermal data)")]


def _summary(record: dict) -> None:
    states = ", ".join(f"q{k}: {v}" for k, v in record["per_charge_state"].items())
    console.print(f"wrote {record['n_frames']} frames ({states}) to [bold]{record['file']}[/bold]")


def _unit_checks(frames, path, trust: bool) -> dict:
    # start-up time: loaded when the command runs, not for --help
    from elbench.dataset.units import check_plausible_units

    return {"trusted": True} if trust else check_plausible_units(frames, path)


@dataset_app.command("generate")
@cli_errors
def generate(
    out: OutOption,
    campaign: CampaignOption = DEFAULT_CAMPAIGN,
    frames_per_state: Annotated[int, typer.Option(help="frames per charge state")] = 20,
    spacing_ps: Annotated[float, typer.Option(help="time between kept frames (ps); decorrelation")] = 0.5,
    equilibration_ps: Annotated[float, typer.Option(help="MD before the first kept frame (ps)")] = 2.0,
    seed: Annotated[int, typer.Option(help="velocity seed (charge state n uses seed + n)")] = 1,
    from_runs: Annotated[bool, typer.Option("--from-runs", help="sample the campaign's finished reference runs instead of new MD")] = False,
) -> None:
    """Sample decorrelated reference MD frames per charge state and label them (energy, forces, stress)."""
    # start-up time: loaded when the command runs, not for --help
    from rich.progress import Progress

    from elbench.config import load_campaign
    from elbench.dataset import write_dataset
    from elbench.dataset.generate import generate_from_md, generate_from_runs

    if frames_per_state < 1 or spacing_ps <= 0 or equilibration_ps < 0 or seed < 1:
        raise InputError("frames-per-state >= 1, spacing-ps > 0, equilibration-ps >= 0 and seed >= 1 are needed",
                         key="generate")
    camp = load_campaign(campaign)
    how = {"method": "reference-runs" if from_runs else "reference-md", "frames_per_state": frames_per_state,
           "spacing_ps": spacing_ps, "equilibration_ps": equilibration_ps, "seed": seed,
           "temperature_K": camp.config.md.temperature_K, "timestep_fs": camp.config.md.timestep_fs,
           "system": camp.config.system.model_dump(mode="json")}
    if from_runs:
        frames = generate_from_runs(camp, frames_per_state, spacing_ps=spacing_ps, seed=seed)
    else:
        total = frames_per_state * len(camp.config.system.charge_states)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("reference MD", total=total)
            frames = generate_from_md(camp, frames_per_state, spacing_ps=spacing_ps, equilibration_ps=equilibration_ps,
                                      seed=seed, progress=lambda k: bar.advance(task, k))
    record = write_dataset(out, frames, how=how, unit_checks=_unit_checks(frames, out, False),
                           inputs={"campaign": camp.path})
    _summary(record)


@dataset_app.command("label")
@cli_errors
def label(
    frames_file: Annotated[Path, typer.Argument(help="extxyz frames in the atom order of the system")],
    system: Annotated[Path, typer.Option("--system", help="built system directory (systems/q<n>/) of these frames")],
    out: OutOption,
) -> None:
    """Label frames with the classical reference (REF_energy, REF_forces, REF_stress)."""
    # start-up time: loaded when the command runs, not for --help
    from ase.io import read

    from elbench.dataset import write_dataset
    from elbench.dataset.label import ReferenceLabeller

    if not frames_file.is_file():
        raise InputError("frames file not found", file=frames_file)
    try:
        raw = read(frames_file, index=":")
    except Exception as err:
        raise InputError(f"cannot read frames: {err}", file=frames_file) from None
    with ReferenceLabeller(system) as lab:
        frames = lab.label(raw)
    record = write_dataset(out, frames, how={"method": "reference-label", "system": str(system)},
                           unit_checks={"trusted": True, "why": "labelled by elbench"}, inputs={"frames": frames_file})
    _summary(record)


@dataset_app.command("import")
@cli_errors
def import_(
    files: Annotated[list[Path], typer.Argument(help="VASP OUTCAR / vasprun.xml or extxyz files")],
    out: OutOption,
    fmt: Annotated[str, typer.Option("--format", help="auto, extxyz, vasp-out, vasp-xml")] = "auto",
    charge_state: Annotated[int | None, typer.Option(help="declared charge state (checked against the cation count)")] = None,
    energy_key: Annotated[str, typer.Option(help="extxyz info key of the energy (else calculator energy)")] = "REF_energy",
    forces_key: Annotated[str, typer.Option(help="extxyz array key of the forces")] = "REF_forces",
    stress_key: Annotated[str, typer.Option(help="extxyz info key of the stress")] = "REF_stress",
    energy_unit: Annotated[str, typer.Option(help="eV, Hartree, Ry, kcal/mol, kJ/mol")] = "eV",
    force_unit: Annotated[str, typer.Option(help="eV/A, eV/bohr, Hartree/bohr, Ry/bohr, kcal/mol/A, kJ/mol/A")] = "eV/A",
    stress_unit: Annotated[str, typer.Option(help="eV/A3, GPa, kbar, bar")] = "eV/A3",
    trust_units: TrustOption = False,
) -> None:
    """Import DFT (or other) labelled frames; infer the charge state from the cation count."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.dataset import write_dataset
    from elbench.dataset.importers import import_file

    frames = []
    for path in files:
        frames += import_file(path, fmt=fmt, charge_state=charge_state, energy_key=energy_key, forces_key=forces_key,
                              stress_key=stress_key, energy_unit=energy_unit, force_unit=force_unit,
                              stress_unit=stress_unit)
    checks = _unit_checks(frames, files[0], trust_units)
    how = {"method": "import", "files": [str(p) for p in files], "format": fmt, "units_declared":
           {"energy": energy_unit, "forces": force_unit, "stress": stress_unit}}
    record = write_dataset(out, frames, how=how, unit_checks=checks, inputs={f"input{i}": p for i, p in enumerate(files)})
    _summary(record)


@dataset_app.command("check")
@cli_errors
def check(
    dataset: Annotated[Path, typer.Argument(help="labelled extxyz")],
    trust_units: TrustOption = False,
) -> None:
    """Validate labels, element set, charge states and unit plausibility; print a summary."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.dataset.frames import read_frames, validate_frames

    frames = read_frames(dataset)
    info = validate_frames(frames, dataset)
    checks = _unit_checks(frames, dataset, trust_units)
    states = ", ".join(f"q{k}: {v}" for k, v in info.per_charge_state.items())
    console.print(f"{dataset}: {info.n_frames} frames ({states}); type map {' '.join(info.type_map)}; "
                  f"stress {'yes' if info.has_stress else 'no'}; unit checks {checks}")


@dataset_app.command("split")
@cli_errors
def split(
    dataset: Annotated[Path, typer.Argument(help="labelled extxyz")],
    out: OutOption,
    seed: Annotated[int, typer.Option(help="random seed of the split")] = 2026,
    train: Annotated[float, typer.Option(help="fraction of frames for training (> 0)")] = 0.8,
    valid: Annotated[float, typer.Option(help="fraction for validation (> 0; train+valid+test = 1)")] = 0.1,
    test: Annotated[float, typer.Option(help="fraction for testing (> 0; train+valid+test = 1)")] = 0.1,
) -> None:
    """Write OUT/<set>/{train,valid,test}.extxyz for the mixed set and each single charge state."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.dataset.frames import read_frames, validate_frames
    from elbench.dataset.splits import check_fractions, write_splits

    keys = ("--train", "--valid", "--test")
    check_fractions((train, valid, test), keys)  # before reading the dataset: a bad option fails fast
    frames = read_frames(dataset)
    validate_frames(frames, dataset)
    record = write_splits(frames, out, seed, (train, valid, test), source=str(dataset), keys=keys)
    for name, parts in record["sets"].items():
        console.print(f"{name}: " + ", ".join(f"{p} {len(i)}" for p, i in parts.items()))
    console.print(f"splits in [bold]{out}[/bold] (seed {seed})")


@dataset_app.command("convert")
@cli_errors
def convert(
    split_dir: Annotated[Path, typer.Argument(help="directory written by `elbench dataset split`")],
    fmt: Annotated[str, typer.Option("--format", help="deepmd, mace, fairchem, pacemaker, grace")],
    out: OutOption,
    set_name: Annotated[str, typer.Option("--set", help="mixed or q<n>")] = "mixed",
) -> None:
    """Convert one training set's splits to a family's training format."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.dataset.convert import FORMATS, convert_splits
    from elbench.dataset.frames import read_frames, validate_frames

    if fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}'", key="format", allowed=", ".join(FORMATS))
    train_file = split_dir / set_name / "train.extxyz"
    if not train_file.is_file():
        raise InputError(f"no set '{set_name}' here; run `elbench dataset split` first", file=train_file, key="set")
    info = validate_frames(read_frames(train_file), train_file)
    paths = convert_splits(split_dir, fmt, info.type_map, set_name, out)
    for part, path in paths.items():
        console.print(f"{part}: {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(dataset_app, name="dataset")
