"""``elbench doctor``: the LAMMPS binary, its packages and styles, MLIP backends, engines."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from elbench import families
from elbench.cli.common import DEFAULT_CAMPAIGN, CampaignOption, cli_errors, console, package_available
from elbench.errors import InputError


def mlip_packages() -> dict[str, str]:
    """Python packages of the MLIP families (import name -> "dp, dp-mp (DeePMD-kit)"), from the family specs;
    doctor finds them with find_spec, never imports them."""
    users: dict[str, list[str]] = {}
    pip: dict[str, str] = {}
    for spec in families.with_backend():
        users.setdefault(spec.backend.package, []).append(spec.name)
        pip.setdefault(spec.backend.package, spec.backend.pip_name)
    return {package: f"{', '.join(names)} ({pip[package]})" for package, names in users.items()}


def family_table() -> Table:
    """Each MLIP family: its environment installed, the native pair style its LAMMPS can run, the engine
    ``render`` picks with ``binary = "auto"`` (:func:`elbench.engines.select.family_status`)."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.engines.select import family_status

    table = Table(title="MLIP families (binary = auto: each family's environment and its LAMMPS)")
    for col in ("family", "environment", "installed", "native style", "engine", "why"):
        table.add_column(col)
    for row in family_status():
        table.add_row(row["family"], row["environment"],
                      "[green]yes[/green]" if row["installed"] else f"[red]no[/red] ({row['env_path']})",
                      row["native_style"] or "-", row["engine"], row["reason"])
    return table


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    @cli_errors
    def doctor(campaign: CampaignOption = DEFAULT_CAMPAIGN) -> None:
        """Show the LAMMPS binary in use, its version, packages and pair styles, MLIP backends and engines."""
        # start-up time: loaded when the command runs, not for --help
        from elbench.config import load_campaign
        from elbench.engines.lammps_binary import mpirun_path, resolve_binary
        from elbench.engines.select import env_binary
        from elbench.potentials.manifest import load_manifest, manifest_for_campaign
        from elbench.potentials.styles import choose_engine, emittable_pair_styles
        from elbench.resources import builtin_manifest

        camp = None
        path = Path(campaign)
        if (path / "elbench.toml" if path.is_dir() else path).is_file():
            camp = load_campaign(path)
        elif path != DEFAULT_CAMPAIGN:
            load_campaign(path)
        setting = camp.config.lammps.binary if camp else "auto"
        kokkos = camp.config.lammps.kokkos.enabled if camp else False
        binary = resolve_binary(setting, file=camp.path if camp else None)
        console.print(f"LAMMPS binary: {binary.path}")
        console.print(f"version: {binary.version}")
        console.print(f"mpirun: {mpirun_path() or 'not found'}")
        console.print(f"packages ({len(binary.packages)}): {' '.join(binary.packages)}"
                      if binary.checked else "packages: unchecked (binary not on this machine)")

        styles = Table(title="pair styles elbench can emit")
        styles.add_column("style")
        styles.add_column("in this binary")
        styles.add_column("KOKKOS variant")

        def presence(style: str) -> str:
            if not binary.checked:
                return "unchecked"
            return "present" if binary.has_pair_style(style) else "missing"

        for style, (_, kk) in emittable_pair_styles().items():
            here = {"present": "[green]present[/green]", "missing": "[red]missing[/red]"}.get(presence(style),
                                                                                             presence(style))
            if style == "mliap" and presence(style) == "present" and not binary.has_package("PYTHON"):
                here = "[red]unusable[/red]: 'mliap unified' needs the PYTHON package"
            styles.add_row(style, here, "-" if kk is None else f"{presence(kk)} ({kk})")
        console.print(styles)

        backends = Table(title="MLIP Python packages in this environment")
        backends.add_column("import")
        backends.add_column("family")
        backends.add_column("importable")
        for name, family in mlip_packages().items():
            backends.add_row(name, family, "[green]yes[/green]" if package_available(name) else "no")
        console.print(backends)

        console.print(family_table())

        manifest = manifest_for_campaign(camp) if camp else load_manifest(builtin_manifest())
        engines = Table(title=f"engines of the registered potentials ({manifest.path})")
        for col in ("model", "family", "env", "engine", "why"):
            engines.add_column(col)

        for entry in manifest.entries.values():
            try:
                mbinary = binary
                if setting == "auto" and entry.environment != "core":  # as render: the env's own LAMMPS
                    mbinary = env_binary(entry.environment) or binary
                engine, why = choose_engine(mbinary, entry, requested="auto", kokkos=kokkos)
            except InputError as err:
                engine, why = "[red]none[/red]", err.message
            engines.add_row(entry.name, entry.family, entry.environment, engine, why)
        console.print(engines)
