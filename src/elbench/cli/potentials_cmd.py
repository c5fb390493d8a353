"""``elbench potentials list|check``: the registry as a table, and its checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from elbench.cli.common import DEFAULT_CAMPAIGN, CampaignOption, cli_errors, console
from elbench.errors import InputError


def _manifest_and_systems(campaign_path: Path, manifest_path: Optional[Path]):
    """The registry (from --manifest, the campaign, or the builtin one) and the campaign's built systems."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.config import load_campaign
    from elbench.potentials.manifest import load_manifest, manifest_for_campaign
    from elbench.render.system import load_system
    from elbench.resources import builtin_manifest

    campaign = None
    candidate = campaign_path / "elbench.toml" if campaign_path.is_dir() else campaign_path
    if candidate.is_file():
        campaign = load_campaign(candidate)
    elif campaign_path != DEFAULT_CAMPAIGN:
        load_campaign(campaign_path)  # raises the usual one-line error
    if manifest_path is not None:
        manifest = load_manifest(manifest_path)
    elif campaign is not None:
        manifest = manifest_for_campaign(campaign)
    else:
        manifest = load_manifest(builtin_manifest())
    systems = {}
    if campaign is not None:
        for n in campaign.config.system.charge_states:
            if (campaign.system_dir(n) / "system.json").is_file():
                systems[n] = load_system(campaign.system_dir(n))
    return manifest, campaign, systems


def _record_cells(entry) -> tuple[str, str, str]:
    """Training set, test force RMSE and stability of a trained entry; '-' without a record."""
    rec = entry.trained
    if rec is None:
        return "-", "-", "-"
    return rec.training_set, f"{rec.test_rmse_force_meV_A:.3g}", rec.stability_status


def _record_checks(reg, entry) -> list:
    """For a trained entry: model files within the size limit and equal to size_bytes, learning curve readable."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.potentials.compatibility import CheckResult

    if entry.trained is None:
        return []
    out = []
    for label, func in (("size of model files", reg.verify_sizes), ("learning curve", reg.learning_curve_rows)):
        try:
            func(entry)
        except InputError as err:
            out.append(CheckResult(label, False, err.message))
        else:
            out.append(CheckResult(label, True, f"{entry.trained.size_bytes} bytes" if label.startswith("size")
                                   else entry.trained.learning_curve))
    return out


ManifestOption = Annotated[
    Optional[Path], typer.Option("--manifest", "-m", help="registry file (default: the campaign's, else the builtin one)")
]


def register(app: typer.Typer) -> None:
    potentials = typer.Typer(help="The potential registry: list models, check files, hashes, elements and cutoffs.",
                             no_args_is_help=True)
    app.add_typer(potentials, name="potentials")

    @potentials.command("list")
    @cli_errors
    def list_(campaign: CampaignOption = DEFAULT_CAMPAIGN, manifest: ManifestOption = None) -> None:
        """Table of the registry: family, elements, cutoff, receptive field, training charge states,
        and for trained models their training set, test force RMSE and NVT stability at 300 K."""
        reg, _, _ = _manifest_and_systems(campaign, manifest)
        table = Table(title=f"potentials in {reg.path}")
        for col in ("name", "family", "type_map", "cutoff Å", "MP layers", "receptive Å", "trained q", "env", "files",
                    "training set", "test F RMSE meV/Å", "stability (NVT 300 K)"):
            table.add_column(col)
        for e in reg.entries.values():
            table.add_row(e.name, e.family, " ".join(e.type_map), f"{e.cutoff_A:g}", str(e.message_passing_layers),
                          f"{e.receptive_field_A:g}", ",".join(map(str, e.trained_charge_states)) or "-",
                          e.environment, str(len(e.files)), *_record_cells(e))
        console.print(table)

    @potentials.command("check")
    @cli_errors
    def check(
        campaign: CampaignOption = DEFAULT_CAMPAIGN,
        manifest: ManifestOption = None,
        model: Annotated[Optional[list[str]], typer.Option("--model", help="check only these models (repeatable)")] = None,
    ) -> None:
        """Check each model: files present, sha256 matches, elements cover the system, cell >= 2 x cutoff.

        System checks use the campaign's built systems (run `elbench build` first); exit code 2 if any check fails.
        """
        # start-up time: loaded when the command runs, not for --help
        from elbench.potentials.compatibility import check_potential

        reg, camp, systems = _manifest_and_systems(campaign, manifest)
        names = model or (camp.config.models if camp is not None else list(reg.entries))
        system = systems[max(systems)] if systems else None
        table = Table(title="potential checks" + ("" if system else " (no built system: file checks only)"))
        for col in ("model", "check", "result", "detail"):
            table.add_column(col)
        failed = []
        for name in names:
            entry = reg.get(name, campaign_file=camp.path if camp else None)
            for r in check_potential(reg, entry, system) + _record_checks(reg, entry):
                table.add_row(name, r.check, "[green]ok[/green]" if r.ok else "[red]FAIL[/red]", r.detail)
                if not r.ok:
                    failed.append(f"{name}: {r.check}: {r.detail}")
        console.print(table)
        if failed:
            raise InputError(f"{len(failed)} check(s) failed; first: {failed[0]}", file=reg.path)
        console.print(f"all checks passed for {len(names)} model(s)")
