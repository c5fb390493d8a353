"""NVT stability of shipped potentials on the quickstart system, through elbench itself.

    python potentials/trained/stability.py OUT_DIR NAME:PS [NAME:PS ...] [--json stability.json]

For each registry model NAME: a one-model campaign on the quickstart system (6 x 8 Au(111), 3 layers,
12 A water; at the surface charge a single-charge model was trained on, n = 2 for mixed training), 300 K, 0.5 fs, CSVR,
PS picoseconds of NVT after the deck's minimisation, with elbench's blow-up checks on every dumped frame
(atoms closer than 0.6 A, more than 10 % of waters broken, temperature far above the target). The result
({name: {"nvt_ps_without_blowup", "nvt_blew_up_at_ps", "charge_state", "engine"}}) is merged into --json,
which potentials/trained/register.py reads into each manifest entry.

A run of at least MIN_INTERFACE_PS that kept together is also analysed (`elbench analyze -c`): its first
water-O density peak above the top Au plane ("nvt_first_O_peak_A") is recorded beside the reference set's
at the same charge state ("reference_first_O_peak_A"), both by elbench.analysis.first_layer (the one definition
analysis and report use) on the seed-pooled profile, as `elbench report` does, so the registry can say when a
model's water left the metal without anything blowing up.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from elbench.io import atomic_write_json, read_json
from elbench.run_record import RunRecord

ELBENCH = [str(Path(sys.executable).with_name("elbench"))]
TIMESTEP_FS = 0.5
DUMP_EVERY = 20
MIN_INTERFACE_PS = 2.0  # shorter runs still show the packed start, not the model's interface
REFERENCE_SET = Path(__file__).resolve().parents[2] / "analysis" / "reference" / "quickstart"


def campaign_text(name: str, charge_state: int, nvt_ps: float) -> str:
    """The quickstart campaign with one model, one charge state and PS ps of NVT (no separate equilibration)."""
    from elbench.templates_campaign import campaign_toml, quickstart_config

    cfg = quickstart_config()
    cfg = cfg.model_copy(update={
        "models": [name],
        "system": cfg.system.model_copy(update={"charge_states": [charge_state]}),
        "md": cfg.md.model_copy(update={"equilibration_ps": 0.0, "production_ps": nvt_ps, "dump_interval_steps": DUMP_EVERY}),
    })
    return campaign_toml(cfg, f"stability of {name}")


def charge_state_of(name: str) -> int:
    """The quickstart charge state a model is tested at: for single-charge models the one whose surface charge is
    the one trained on (the quickstart cell is 3x the training cell: n = 4 there is n = 12 here); n = 2
    (σ = −9.3 µC/cm², inside the trained range) for mixed models."""
    from elbench.build.assemble import slab_area_A2
    from elbench.potentials.manifest import load_manifest
    from elbench.resources import builtin_manifest
    from elbench.surface_charge import cations_for_sigma
    from elbench.templates_campaign import quickstart_config

    entry = load_manifest(builtin_manifest()).get(name)
    if entry.training != "single":
        return 2
    if not entry.trained_sigma_uC_cm2:
        return entry.trained_charge_states[0]
    system = quickstart_config().system
    n = cations_for_sigma(entry.trained_sigma_uC_cm2[0], slab_area_A2(system))
    if n is None:
        raise SystemExit(f"{name}: no cation count gives its trained surface charge on the quickstart cell")
    return n


def run_one(out: Path, name: str, nvt_ps: float) -> dict:
    n = charge_state_of(name)
    directory = out / name
    directory.mkdir(parents=True, exist_ok=True)
    toml = directory / "elbench.toml"
    toml.write_text(campaign_text(name, n, nvt_ps))
    for verb in (["build"], ["render"], ["run"]):
        proc = subprocess.run([*ELBENCH, *verb, "-c", str(toml)], capture_output=True, text=True)
        if verb != ["run"] and proc.returncode != 0:
            raise SystemExit(f"{name}: elbench {verb[0]} failed: {proc.stderr.strip()[-400:]}")
    status = read_json(next(directory.glob(f"runs/{name}/q{n}/s*/status.json")))
    run = RunRecord.load(next(directory.glob(f"runs/{name}/q{n}/s*/run.json")).parent)
    result = {"charge_state": n, "engine": run.engine, "tested_ps": nvt_ps, "state": status.get("state"),
              "reason": status.get("reason", "")}
    if status.get("state") == "done":
        result |= {"nvt_ps_without_blowup": nvt_ps, "nvt_blew_up_at_ps": None}
        if nvt_ps >= MIN_INTERFACE_PS:
            result |= first_O_peaks(toml, name, n)
    else:
        failed_ps = float(status.get("failed_step") or 0) * TIMESTEP_FS / 1000.0
        result |= {"nvt_ps_without_blowup": round(max(0.0, failed_ps - DUMP_EVERY * TIMESTEP_FS / 1000.0), 6),
                   "nvt_blew_up_at_ps": round(failed_ps, 6)}
    return result


def first_O_peaks(toml: Path, name: str, n: int) -> dict:
    """The run's and the reference set's first O density peak (Å above the top Au plane), as the report measures them
    (elbench.analysis.first_layer on the seeds' pooled profile)."""
    from elbench.config import load_campaign
    from elbench.report.collect import load_reference_set
    from elbench.report.data import load_state_result
    from elbench.report.metrics import observables_of

    proc = subprocess.run([*ELBENCH, "analyze", "-c", str(toml)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{name}: elbench analyze failed: {proc.stderr.strip()[-400:]}")
    campaign = load_campaign(toml)
    seeds = [(s, campaign.result_dir(name, n, s)) for s in campaign.config.md.seeds]
    ours = load_state_result(name, n, seeds)
    reference = load_reference_set(REFERENCE_SET, [n]).get(n)
    peak = lambda res: None if res is None else round(observables_of(res)["o_peak_position_A"][0], 3)  # noqa: E731
    return {"nvt_first_O_peak_A": peak(ours), "reference_first_O_peak_A": peak(reference)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("models", nargs="+", help="NAME:PS")
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("stability.json"))
    args = parser.parse_args()
    results = read_json(args.json) if args.json.is_file() else {}
    for item in args.models:
        name, ps = item.rsplit(":", 1)
        results[name] = run_one(args.out, name, float(ps))
        atomic_write_json(args.json, results)
        r = results[name]
        peaks = (f" first O peak {r['nvt_first_O_peak_A']} A (reference {r['reference_first_O_peak_A']} A)"
                 if "nvt_first_O_peak_A" in r else "")
        print(f"{name:16s} n={r['charge_state']} {r['state']:6s} {r['nvt_ps_without_blowup']:.3f} ps without blow-up "
              f"{'' if r['nvt_blew_up_at_ps'] is None else '(blew up at %.3f ps: %s)' % (r['nvt_blew_up_at_ps'], r['reason'])}"
              f"{peaks}", flush=True)


if __name__ == "__main__":
    main()
