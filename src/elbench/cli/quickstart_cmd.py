"""``elbench quickstart DIR``: the whole pipeline on the embedded default, in minutes on a laptop.

init (quickstart template: small Au(111)/water/Na+ slab, n = 0…4) → build → render → run →
analyze → report, with the classical reference and every shipped potential whose backend
is installed. Each stage is the same command a user would type (called in-process, so its
own progress bars show) and each skips finished work, so running quickstart again continues
where it stopped instead of starting over. ``--force`` starts over.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Annotated

import typer

from elbench import families
from elbench.cli.common import cli_errors, console, err_console, package_available
from elbench.errors import InputError, RunError

#: Folders a campaign's verbs create under its directory (removed by --force).
OUTPUT_DIRS = ("systems", "runs", "results", "report")
STAGES = ("build", "render", "run", "analyze", "report")


def backend_installed(entry) -> tuple[bool, str]:
    """Whether a registered potential can run here: its backend imports in this Python or its elbench env exists."""
    spec = families.get(entry.family)
    if spec.backend is None:
        return True, f"{spec.title} (LAMMPS only)"
    # start-up time: loaded when the command runs, not for --help
    from elbench.engines.select import env_installed

    env, module = spec.environment, spec.backend.module
    if package_available(module):
        return True, f"{module} importable here"
    if env_installed(entry.environment) or env_installed(env):
        return True, f"environment '{entry.environment}' installed"
    return False, f"backend {module} not installed (scripts/setup-env {env})"


def approx_atoms(system) -> int:
    """Atoms of the largest system a campaign builds (metal + water at the target density + cations).

    An upper bound: cations replace waters, so a charge state has fewer atoms.
    """
    from elbench.build.assemble import water_count  # start-up time: build pulls in ASE and scipy

    metal = system.repeats[0] * system.repeats[1] * system.layers
    return int(metal + 3 * water_count(system) + max(system.charge_states))


def engine_of(entry) -> str:
    """native or bridge, as `elbench render` will choose for this potential (bridge when unsure)."""
    if not families.get(entry.family).runs_in_bridge:
        return "native"
    try:
        # start-up time: loaded when the command runs, not for --help
        from elbench.engines.select import env_binary
        from elbench.potentials.styles import choose_engine

        binary = env_binary(entry.environment)
        return choose_engine(binary, entry, requested="auto")[0] if binary is not None else "bridge"
    except Exception:  # noqa: BLE001 - a probe failure only makes the estimate conservative
        return "bridge"


def expected_seconds(family: str, config, jobs: int, engine: str = "native") -> float:
    """Expected wall time of all runs of one model of this family on this machine's CPU cores."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.costs import estimate_cost

    md = config.md
    est = estimate_cost(family, approx_atoms(config.system), md.equilibration_steps + md.production_steps,
                        device="cpu", size="small", runs=len(config.system.charge_states) * len(md.seeds), engine=engine)
    return est.seconds / max(1, min(jobs, os.cpu_count() or 1))


def choose_models(config, jobs: int, budget_s: float, all_models: bool) -> tuple[list[str], list[str]]:
    """(models to run, lines saying why each registered potential is in or out).

    The reference always runs. Other potentials run when their backend is installed and,
    unless ``all_models``, when the registry does not record them blowing up in its NVT test
    and their expected cost (elbench.costs) fits in what is left of the time budget: models
    that passed that test first, then cheapest first.
    """
    # start-up time: loaded when the command runs, not for --help
    from elbench.costs import format_seconds
    from elbench.potentials.manifest import load_manifest
    from elbench.resources import builtin_manifest

    manifest = load_manifest(builtin_manifest())
    chosen, notes, candidates = ["reference"], [], []
    spent = expected_seconds("reference", config, jobs)
    notes.append(f"+ reference (classical, expected {format_seconds(spent)})")
    for name, entry in manifest.entries.items():
        if name == "reference":
            continue
        ok, why = backend_installed(entry)
        if not ok:
            notes.append(f"- {name} ({entry.family}): {why}")
            continue
        blew_up = entry.trained.nvt_blew_up_at_ps if entry.trained else None
        if blew_up is not None and not all_models:
            notes.append(f"- {name} ({entry.family}): blew up at {blew_up:g} ps in the registry's NVT test "
                         "(--all-models to run it anyway)")
            continue
        engine = engine_of(entry)
        candidates.append((expected_seconds(entry.family, config, jobs, engine), name, entry, engine))
    tested = lambda c: bool(c[2].trained and c[2].trained.nvt_ps_without_blowup > 0)  # noqa: E731
    for cost, name, entry, engine in sorted(candidates, key=lambda c: (not tested(c), c[0])):
        if all_models or spent + cost <= budget_s:
            chosen.append(name)
            spent += cost
            notes.append(f"+ {name} ({entry.family}, {engine}, expected {format_seconds(cost)})")
        else:
            notes.append(f"- {name} ({entry.family}, {engine}): expected {format_seconds(cost)} on this CPU, beyond the "
                         f"{format_seconds(budget_s)} budget (--budget-min, or --all-models to run it anyway)")
    return chosen, notes


def quickstart_campaign(models: list[str], production_ps: float | None, equilibration_ps: float | None):
    # start-up time: loaded when the command runs, not for --help
    from elbench.config import parse_campaign
    from elbench.templates_campaign import quickstart_config

    data = quickstart_config().model_dump(mode="json")
    data["models"] = models
    if production_ps is not None:
        data["md"]["production_ps"] = production_ps
    if equilibration_ps is not None:
        data["md"]["equilibration_ps"] = equilibration_ps
    return parse_campaign(data, "<quickstart options>")


def prepare(directory: Path, *, force: bool, production_ps: float | None, equilibration_ps: float | None,
            jobs: int = 2, budget_s: float = 600.0, all_models: bool = False) -> Path:
    """Write DIR/elbench.toml, or continue the one there (adding newly installed models)."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.config import load_campaign
    from elbench.io import atomic_write_text
    from elbench.templates_campaign import campaign_toml

    path = directory / "elbench.toml"
    wanted = quickstart_campaign(["reference"], production_ps, equilibration_ps)
    if path.is_file() and not force:
        wanted = load_campaign(path).config
    models, notes = choose_models(wanted, jobs, budget_s, all_models)
    for line in notes:
        console.print(f"  {line}", markup=False)
    wanted = quickstart_campaign(models, production_ps, equilibration_ps)
    if path.is_file() and force:
        for name in OUTPUT_DIRS:
            if (directory / name).is_dir():
                shutil.rmtree(directory / name)
        console.print(f"--force: removed {', '.join(OUTPUT_DIRS)} under {directory}")
    elif path.is_file():
        current = load_campaign(path).config
        for key, value in (("md.production_ps", production_ps), ("md.equilibration_ps", equilibration_ps)):
            if value is not None and getattr(current.md, key.split(".")[1]) != value:
                raise InputError(f"the campaign there has a different {key}; pass --force to start over", file=path, key=key)
        added = [m for m in models if m not in current.models]
        if not added:
            console.print(f"continuing the campaign in {path} (pass --force to start over)")
            return path
        wanted = current.model_copy(update={"models": current.models + added})
        console.print(f"continuing {path}; adding newly installed model(s): {', '.join(added)}")
    elif directory.exists() and any(directory.iterdir()) and not force:
        raise InputError("directory exists, is not empty and holds no elbench.toml; choose a new one or pass --force",
                         file=directory)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, campaign_toml(wanted, "quickstart"))
    return path


def invoke(args: list[str]) -> int:
    """Run one elbench verb in this process (its progress bars show); return its exit code."""
    from elbench.cli.main import app  # start-up time: the full app imports every verb

    try:
        code = app(args, standalone_mode=False, prog_name="elbench")
    except SystemExit as exc:  # a verb may exit directly
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:
        if hasattr(exc, "format_message"):  # a usage error: the verb's options are not what quickstart expects
            raise RunError(f"`elbench {' '.join(args)}`: {exc.format_message()}") from None
        raise
    return int(code or 0)


def register(app: typer.Typer) -> None:
    @app.command("quickstart")
    @cli_errors
    def quickstart(
        directory: Annotated[Path, typer.Argument(help="campaign directory (created; re-running continues in it)")],
        force: Annotated[bool, typer.Option("--force", help="start over: rewrite elbench.toml and remove earlier outputs")] = False,
        jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="runs and analyses at the same time")] = 2,
        production_ps: Annotated[
            float | None, typer.Option("--production-ps", help="shorten production MD (tests, CI) [default: the template's 4 ps]")
        ] = None,
        equilibration_ps: Annotated[
            float | None, typer.Option("--equilibration-ps", help="shorten equilibration [default: the template's 1 ps]")
        ] = None,
        budget_min: Annotated[
            float, typer.Option("--budget-min", min=0.0, help="add MLIPs only while their expected MD cost fits in this many minutes")
        ] = 10.0,
        all_models: Annotated[bool, typer.Option("--all-models", help="run every installed potential whatever its cost")] = False,
    ) -> None:
        """The whole pipeline on the embedded default: init, build, render, run, analyze, report.

        Runs the classical reference and every shipped potential whose backend is installed
        on a small Au(111)/water/Na+ interface at n = 0…4 cations. Ends with DIR/report/report.md.
        """
        t0 = time.perf_counter()
        console.rule("[bold]elbench quickstart[/bold]: choosing models")
        path = prepare(directory, force=force, production_ps=production_ps, equilibration_ps=equilibration_ps,
                       jobs=jobs, budget_s=60.0 * budget_min, all_models=all_models)
        campaign = ["-c", str(path)]
        stage_args = {
            "build": ["build", *campaign],
            "render": ["render", *campaign],
            "run": ["run", *campaign, "--resume", "--jobs", str(jobs)],
            "analyze": ["analyze", *campaign, "--jobs", str(jobs)],
            "report": ["report", *campaign],
        }
        run_code = 0
        for i, stage in enumerate(STAGES, start=1):
            console.rule(f"[bold][{i}/{len(STAGES)}] {stage}[/bold]  ({time.perf_counter() - t0:.0f} s so far)")
            code = invoke(stage_args[stage])
            if stage == "run" and code == 1:
                run_code = code  # go on: the report shows failed runs and how far they got
                err_console.print(f"some runs did not finish (exit code {code}); analysing and reporting the others")
                continue
            if code == 3:
                raise RunError(f"runs were interrupted; run `elbench quickstart {directory}` again to continue them")
            if code != 0:
                raise RunError(f"quickstart stopped at `elbench {' '.join(stage_args[stage])}` (exit code {code}); "
                               f"fix the problem above and run `elbench quickstart {directory}` again to continue")
        console.rule(f"done in {time.perf_counter() - t0:.0f} s")
        report = path.parent / "report"
        console.print(f"report: [bold]{report / 'report.md'}[/bold] (and report.html); main figure: "
                      f"{report / 'figures' / 'trends_vs_sigma.png'}")
        if run_code:
            failed = failed_runs(path)
            err_console.print(f"{len(failed)} run(s) did not finish: {', '.join(failed)}; the report shows how far they got")
            if any(key.startswith("reference/") for key in failed):
                raise typer.Exit(run_code)  # without the reference there is no benchmark


def failed_runs(path: Path) -> list[str]:
    """model/q<n>/s<seed> of every run whose status is not done."""
    # start-up time: loaded when the command runs, not for --help
    from elbench.config import load_campaign
    from elbench.report.data import read_run_state

    camp = load_campaign(path)
    states = [read_run_state(m, n, s, camp.run_dir(m, n, s)) for m, n, s in camp.run_keys()]
    return [f"{r.model}/q{r.charge_state}/s{r.seed}" for r in states if r.state != "done"]
