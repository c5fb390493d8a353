"""``elbench rmse MODEL DATASET``: energy/force RMSE per charge state, parity plot, JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from elbench.cli.common import cli_errors, console


def register(app: typer.Typer) -> None:
    @app.command("rmse")
    @cli_errors
    def rmse(
        model: Annotated[str, typer.Argument(help="model name in the registry (potentials/manifest.toml)")],
        dataset: Annotated[Path, typer.Argument(help="labelled extxyz (REF_energy, REF_forces, charge_state)")],
        manifest: Annotated[Path | None, typer.Option(help="registry file (default: the builtin one)")] = None,
        systems: Annotated[Path | None, typer.Option(help="built systems (q<n>/) of the frames; for the reference model")] = None,
        out: Annotated[Path | None, typer.Option(help="write the JSON record here (e.g. results/<model>/rmse.json)")] = None,
        parity: Annotated[Path | None, typer.Option(help="parity plot PNG (default: next to --out)")] = None,
    ) -> None:
        """Energy (meV/atom) and force (meV/Å) RMSE per charge state and overall."""
        # start-up time: loaded when the command runs, not for --help
        from rich.table import Table

        from elbench.io import atomic_write_json
        from elbench.potentials.manifest import load_manifest
        from elbench.rmse import model_rmse, parity_plot

        man = load_manifest(manifest) if manifest else None
        record = model_rmse(model, dataset, manifest=man, systems_dir=systems)
        table = Table(title=f"{model} on {dataset.name}")
        for col in ("charge state", "frames", "energy meV/atom", "force meV/Å"):
            table.add_column(col, justify="right")
        for n, m in record["per_charge_state"].items():
            table.add_row(n, str(m["n_frames"]), f"{m['energy_meV_atom']:.3f}", f"{m['force_meV_A']:.2f}")
        o = record["overall"]
        table.add_row("all", str(o["n_frames"]), f"{o['energy_meV_atom']:.3f}", f"{o['force_meV_A']:.2f}")
        console.print(table)
        if out:
            atomic_write_json(out, record)
            console.print(f"wrote {out}")
            parity = parity or out.with_name("parity.png")
        if parity:
            parity_plot(record, parity)
            console.print(f"wrote {parity}")
