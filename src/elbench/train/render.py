"""Render one training directory: data in the family's format, config, train.json, run.sh, job.sbatch.

Layout of ``OUT/`` (all paths inside are relative to it, so the directory can be
copied to a cluster)::

    data/{train,valid,test}[.extxyz|.pkl.gz|/]   the split in the family's format
    <config file>                                 rendered from lammps_inputs/train/<family>.*.j2
    train.json                                    family, GU bookkeeping, commands, dataset hashes
    run.sh                                        the commands, runnable without elbench
    job.sbatch                                    the same for SLURM
"""

from __future__ import annotations

import functools
import json
import math
import re
import shlex
from pathlib import Path

import jinja2

from elbench import __version__
from elbench import families
from elbench.config import check_safe_name
from elbench.dataset.convert import convert_splits
from elbench.dataset.frames import read_frames, validate_frames
from elbench.engines.select import env_dir
from elbench.errors import InputError
from elbench.families.spec import ATOM_ENERGIES, FamilySpec, TrainInputs, TrainingSpec
from elbench.io import atomic_write_json, atomic_write_text, sha256_file
from elbench.render import validate
from elbench.resources import templates_dir


def _tojson(value) -> validate.Checked:
    text = json.dumps(value)
    if any(ch in text for ch in "\n\r\x00`$"):
        raise InputError(f"{text!r} cannot be written into a training config", key="template")
    return validate.Checked(text)


@functools.lru_cache(maxsize=2)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                             finalize=validate.finalize, autoescape=False, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(tojson=_tojson, fmt=validate.fmt)
    return env


def preset(spec: FamilySpec, name: str) -> dict:
    """The hyperparameters of training preset ``name`` of a family (InputError naming its presets)."""
    presets = spec.training.presets
    if name not in presets:
        raise InputError(f"unknown preset '{name}' for {spec.name}", key="preset", allowed=", ".join(presets))
    return dict(presets[name])


def gradient_update_plan(fam: TrainingSpec, gradient_updates: int, n_train: int, batch_size: int,
                         closed_form: bool = False) -> dict:
    """How the requested GU becomes the family's knob, and the effective GU.

    A closed-form preset (a linear least-squares solve) has no gradient updates to match: its plan says so
    and counts the one full-batch solve.
    """
    if gradient_updates < 1 or batch_size < 1 or n_train < 1:
        raise InputError("gradient updates, batch size and training-set size must be positive", key="gradient-updates")
    if closed_form:
        return {"mode": "closed-form", "epochs": 1, "batch_size": n_train, "effective_gradient_updates": 1,
                "note": "one weighted linear least-squares solve; the requested gradient updates do not apply"}
    if fam.gu_mode == "epochs":
        batches = math.ceil(n_train / batch_size)
        epochs = max(1, round(gradient_updates / batches))
        return {"mode": "epochs", "epochs": epochs, "batch_size": batch_size, "effective_gradient_updates": epochs * batches}
    if fam.gu_mode == "full-batch":
        return {"mode": "full-batch", "epochs": gradient_updates, "batch_size": n_train,
                "effective_gradient_updates": gradient_updates}
    return {"mode": "steps", "epochs": gradient_updates * batch_size / n_train, "batch_size": batch_size,
            "effective_gradient_updates": gradient_updates}


def _data_paths(fam: TrainingSpec, written: dict[str, Path], out: Path) -> dict[str, str | list[str]]:
    rel = {part: str(path.relative_to(out)) for part, path in written.items()}
    if fam.data_format == "deepmd":
        return {part: sorted(str(p.parent.relative_to(out)) for p in (out / r).glob("*/type.raw")) for part, r in rel.items()}
    rel.setdefault("valid", rel.get("test", rel["train"]))
    rel.setdefault("test", rel["valid"])
    return rel


def render_training(
    family_name: str,
    split_dir: str | Path,
    out_dir: str | Path,
    *,
    set_name: str = "mixed",
    gradient_updates: int = 1000,
    batch_size: int = 1,
    seed: int = 1,
    cutoff_A: float | None = None,
    preset_name: str = "tiny",
    name: str | None = None,
    slurm: dict | None = None,
) -> dict:
    """Render a training directory; returns train.json's content."""
    spec: FamilySpec = families.trainable(family_name)
    fam = spec.training
    split_dir, out = Path(split_dir), Path(out_dir)
    name = check_name(name or f"{family_name}-{set_name}")
    train_file = split_dir / set_name / "train.extxyz"
    if not train_file.is_file():
        raise InputError(f"no training split for set '{set_name}'; run `elbench dataset split`", file=train_file, key="set")
    frames = validate_frames_cached(train_file)
    n_train, type_map = frames
    hp = preset(spec, preset_name)
    cutoff = float(cutoff_A if cutoff_A is not None else fam.default_cutoff_A)
    if not 2.0 <= cutoff <= 12.0:
        raise InputError(f"cutoff {cutoff} Å is outside 2–12 Å", key="cutoff-A")
    plan = gradient_update_plan(fam, gradient_updates, n_train, batch_size, preset_name in fam.closed_form)
    check_slurm(slurm or {})  # before anything is written: a bad setting leaves no half-made directory
    out.mkdir(parents=True, exist_ok=True)
    written = convert_splits(split_dir, fam.data_format, type_map, set_name, out / "data", environment=spec.environment)
    data = _data_paths(fam, written, out)
    save_every = max(1, gradient_updates // 10)
    context = {
        "version": __version__, "name": name, "set_name": set_name, "type_map": type_map, "cutoff_A": cutoff,
        "seed": seed, "gradient_updates": gradient_updates, "batch_size": plan["batch_size"],
        "epochs": int(round(plan["epochs"])) if plan["mode"] == "epochs" else plan["epochs"],
        "n_train": n_train, "hp": hp, "data": data, "log_every": save_every, "save_every": save_every,
        "decay_steps": max(1, gradient_updates // 20),
    }
    train_frames = functools.cache(lambda: read_frames(train_file))
    atom_energies = functools.cache(lambda: atom_energies_lstsq(train_frames()))
    if fam.context is not None:  # what the family's template needs beyond the common values
        context |= fam.context(TrainInputs(split_dir / set_name, data, plan["batch_size"], gradient_updates,
                                           train_frames, atom_energies))
    if ATOM_ENERGIES in fam.model_files:
        # the model learns E - sum(E0); the bridge adds sum(E0) back (calculators.AtomEnergyShift)
        context["atom_energies_eV"] = atom_energies()
        atomic_write_json(out / ATOM_ENERGIES, {"unit": "eV", "method": "least squares on the training set",
                                                "atom_energies_eV": context["atom_energies_eV"]})
    try:
        text = environment().get_template(fam.template).render(**context)
    except jinja2.UndefinedError as err:
        raise InputError(f"training template {fam.template} needs a value that was not given: {err.message}") from None
    atomic_write_text(out / fam.config_file, text)
    mp_layers = int(hp.get(fam.message_passing_layers_key, 0)) if fam.message_passing_layers_key else 0
    record = {
        "elbench_version": __version__,
        "name": name,
        "family": spec.name,
        "environment": spec.environment,
        "config_file": fam.config_file,
        "template": f"lammps_inputs/{fam.template}",
        "preset": preset_name,
        "hyperparameters": hp,
        "cutoff_A": cutoff,
        "message_passing_layers": mp_layers,
        "receptive_field_A": cutoff * max(1, mp_layers),
        "type_map": type_map,
        "training_set": set_name,
        "n_train": n_train,
        "seed": seed,
        "gradient_updates": {"requested": gradient_updates, **plan,
                             "definition": "GU = epochs x n_train / batch_size"},
        "commands": [list(c) for c in fam.commands_for(preset_name)],
        "model_files": list(fam.model_files),
        "data": {part: {"path": str(p.relative_to(out)), "source": str(split_dir / set_name / f"{part}.extxyz"),
                        "source_sha256": sha256_file(split_dir / set_name / f"{part}.extxyz")}
                 for part, p in written.items()},
    }
    atomic_write_json(out / "train.json", record)
    write_scripts(out, record, slurm or {})
    return record


def atom_energies_lstsq(frames) -> dict[str, float]:
    """Per-element reference energies (eV): least squares of the frames' REF_energy on their element counts.

    Minimum-norm when the composition does not vary independently (a fixed metal slab, H = 2 O): any
    solution fits the training energies equally, and the model learns what is left over. Rounded to 1e-8 eV
    so that the value written into a training input and into atom_energies.json is the same number.
    """
    import numpy as np
    from ase.data import atomic_numbers

    elements = sorted({s for a in frames for s in a.get_chemical_symbols()}, key=lambda s: atomic_numbers[s])
    counts = np.array([[a.get_chemical_symbols().count(el) for el in elements] for a in frames], float)
    energies = np.array([float(a.info["REF_energy"]) for a in frames])
    coeff, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    return {el: round(float(value), 8) for el, value in zip(elements, coeff)}


def check_name(value: str, key: str = "name") -> str:
    try:
        return check_safe_name(value)
    except ValueError as err:
        raise InputError(str(err), key=key) from None


#: SLURM --time as elbench writes it (same rule as the campaign's slurm.time)
SLURM_TIME = re.compile(r"^(\d+-)?\d{1,3}:\d{2}:\d{2}$")


def check_slurm(slurm: dict) -> None:
    """Every value that reaches job.sbatch: safe names, a [D-]HH:MM:SS time, single setup lines."""
    for key in ("partition", "account", "qos"):
        if slurm.get(key):
            check_name(slurm[key], key=f"--{key}")
    time_limit = str(slurm.get("time", "24:00:00"))
    if not SLURM_TIME.match(time_limit):
        raise InputError(f"SLURM time limit {time_limit!r}", key="--time", allowed="[D-]HH:MM:SS, e.g. 1-12:00:00")
    for line in slurm.get("setup_lines", []):
        validate_setup(line)


@functools.lru_cache(maxsize=16)
def _train_info(path: str, mtime: float) -> tuple[int, list[str]]:
    frames = read_frames(path)
    info = validate_frames(frames, path)
    return len(frames), info.type_map


def validate_frames_cached(path: Path) -> tuple[int, list[str]]:
    n, tm = _train_info(str(path), path.stat().st_mtime)
    return n, list(tm)


def env_bin(environment: str) -> Path:
    return env_dir(environment) / "bin"


def command_lines(record: dict) -> list[str]:
    bindir = env_bin(record["environment"])
    return [" ".join(shlex.quote(str(bindir / c[0]) if i == 0 else c_i) for i, c_i in enumerate(c))
            for c in record["commands"]]


def write_scripts(out: Path, record: dict, slurm: dict) -> None:
    """run.sh (local) and job.sbatch (SLURM) with the same commands."""
    check_slurm(slurm)
    body = ["set -euo pipefail", 'cd "$(dirname "$0")"', "export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}",
            *command_lines(record)]
    head = f"# elbench {__version__}: train {record['name']} ({record['family']}, set {record['training_set']}, " \
           f"{record['gradient_updates']['effective_gradient_updates']} gradient updates)"
    atomic_write_text(out / "run.sh", "\n".join(["#!/usr/bin/env bash", head, *body]) + "\n")
    (out / "run.sh").chmod(0o755)
    directives = [f"#SBATCH --job-name=elb-{record['name']}", f"#SBATCH --time={slurm.get('time', '24:00:00')}",
                  f"#SBATCH --nodes=1", f"#SBATCH --ntasks=1", f"#SBATCH --cpus-per-task={int(slurm.get('cpus_per_task', 8))}",
                  "#SBATCH --output=train-%j.out"]
    for key in ("partition", "account", "qos"):
        if slurm.get(key):
            directives.append(f"#SBATCH --{key}={check_name(slurm[key])}")
    if int(slurm.get("gpus_per_node", 0)):
        directives.append(f"#SBATCH --gpus-per-node={int(slurm['gpus_per_node'])}")
    setup = [validate_setup(line) for line in slurm.get("setup_lines", [])]
    sbatch = ["#!/usr/bin/env bash", *directives, head, "set -euo pipefail",
              'cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")}"', *setup,
              "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}", *command_lines(record)]
    atomic_write_text(out / "job.sbatch", "\n".join(sbatch) + "\n")


def validate_setup(line: str) -> str:
    if any(ch in line for ch in "\n\r\x00"):
        raise InputError("setup lines must be single lines", key="slurm.setup_lines")
    return line
