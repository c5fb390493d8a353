"""``elbench train``: render training inputs per family with matched gradient updates, run them, curves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from elbench.cli.common import cli_errors, console
from elbench.errors import InputError
from elbench.families import trainable_names

train_app = typer.Typer(help=f"Training inputs for {', '.join(trainable_names())} with matched gradient updates.",
                        no_args_is_help=True)

GUOption = Annotated[int, typer.Option("--gradient-updates", help="GU = epochs x n_train / batch_size, the same for every family")]
BatchOption = Annotated[int, typer.Option(help="frames per gradient update (pacemaker's BFGS is full batch)")]


def _families(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in trainable_names()]
    if bad or not names:
        raise InputError(f"unknown families {bad}", key="families", allowed=", ".join(trainable_names()))
    return names


@train_app.command("render")
@cli_errors
def render(
    split_dir: Annotated[Path, typer.Argument(help="directory written by `elbench dataset split`")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output directory: OUT/<family>-<set>/")],
    families: Annotated[str, typer.Option(help="comma-separated families")] = ",".join(trainable_names()),
    sets: Annotated[str, typer.Option(help="comma-separated training sets: mixed and/or q<n>")] = "mixed",
    gradient_updates: GUOption = 1000,
    batch_size: BatchOption = 1,
    seed: Annotated[int, typer.Option(help="training seed")] = 1,
    cutoff_A: Annotated[float | None, typer.Option("--cutoff-A", help="cutoff in Å (default: the family's)")] = None,
    preset: Annotated[str, typer.Option(help="tiny (CPU, tests) or paper (cluster)")] = "tiny",
    partition: Annotated[str | None, typer.Option(help="SLURM partition for job.sbatch")] = None,
    account: Annotated[str | None, typer.Option(help="SLURM account")] = None,
    time_limit: Annotated[str, typer.Option("--time", help="SLURM time limit")] = "24:00:00",
    gpus: Annotated[int, typer.Option(help="GPUs per node in job.sbatch")] = 0,
) -> None:
    """Render OUT/<family>-<set>/ (data, config, train.json, run.sh, job.sbatch) for each family and set."""
    # start-up time: loaded when the command runs, not for --help
    from rich.table import Table

    from elbench.train.render import render_training

    slurm = {"partition": partition, "account": account, "time": time_limit, "gpus_per_node": gpus}
    table = Table(title=f"training inputs ({gradient_updates} gradient updates each)")
    for col in ("directory", "family", "set", "n_train", "batch", "epochs", "effective GU", "receptive field Å"):
        table.add_column(col)
    for set_name in [s.strip() for s in sets.split(",") if s.strip()]:
        for fam in _families(families):
            rec = render_training(fam, split_dir, out / f"{fam}-{set_name}", set_name=set_name,
                                  gradient_updates=gradient_updates, batch_size=batch_size, seed=seed, cutoff_A=cutoff_A,
                                  preset_name=preset, slurm=slurm)
            gu = rec["gradient_updates"]
            table.add_row(f"{fam}-{set_name}", fam, set_name, str(rec["n_train"]), str(gu["batch_size"]),
                          f"{gu['epochs']:.4g}", str(gu["effective_gradient_updates"]), f"{rec['receptive_field_A']:g}")
    console.print(table)
    console.print(f"next: elbench train run {out}/<family>-<set>  (or sbatch job.sbatch there)")


@train_app.command("run")
@cli_errors
def run(
    directory: Annotated[Path, typer.Argument(help="a rendered training directory")],
    timeout: Annotated[float | None, typer.Option(help="seconds before each command is stopped")] = None,
    nice: Annotated[int, typer.Option(help="run at this nice level (0 = normal)")] = 0,
) -> None:
    """Train locally in the family's environment; write learning_curve.csv/.png and train_status.json."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.train.run import run_training

    status = run_training(directory, timeout_s=timeout, nice=nice)
    final = status["final"]
    shown = {key: "n/a" if final[key] is None else f"{final[key]:.4g}" for key in ("energy_meV_atom", "force_meV_A")}
    console.print(f"done: {directory} (last {final['split']} RMSE: energy {shown['energy_meV_atom']} meV/atom, "
                  f"force {shown['force_meV_A']} meV/Å); learning_curve.png written")


@train_app.command("curve")
@cli_errors
def curve(directory: Annotated[Path, typer.Argument(help="a training directory with a finished training")]) -> None:
    """(Re)write learning_curve.csv and .png from the family's training log."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.io import read_json
    from elbench.train.curves import learning_curve, write_curve

    record = read_json(directory / "train.json")
    rows = learning_curve(directory, record)
    csv_path, png = write_curve(directory, rows, f"{record['name']} ({record['family']})")
    console.print(f"wrote {csv_path} and {png}")


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
