"""Run records for tests that need a run directory without rendering one (synthetic report/analysis runs).

``record_dict`` is a complete schema-valid ``run.json`` of a reference run; keyword
overrides are merged into it (nested dicts key by key), so a test names only what it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elbench.run_record import SCHEMA_VERSION, RunRecord

TYPE_MAP = ["Au", "O", "H", "Na"]


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def record_dict(**over: Any) -> dict:
    """A complete run.json of a 20-step reference run, with ``over`` merged in."""
    eq, prod = over.pop("eq_steps", 0), over.pop("prod_steps", 20)
    base = {
        "schema_version": SCHEMA_VERSION, "model": "reference", "family": "reference", "charge_state": 0, "seed": 1, "engine": "native",
        "engine_reason": "test", "environment": "core", "pair_style": "hybrid/overlay eam lj/cut/coul/long",
        "command": ["lmp", "-in", "in.lammps", "-log", "log.lammps"], "env": {}, "env_prepend": [], "mpi_ranks": 1,
        "type_map": TYPE_MAP, "geometry": "slab", "n_atoms": 0, "n_fixed_atoms": 0, "timestep_fs": 0.5,
        "temperature_K": 300.0,
        "thermostat": {"kind": "csvr", "damping_fs": 50.0, "seed": 2,
                       "equilibration": {"kind": "csvr", "damping_fs": 10.0, "seed": 2}},
        "steps": {"minimize_max_iterations": 0, "equilibration": eq, "production": prod,
                  "production_first_step": eq, "last_step": eq + prod},
        "dump": {"file": "traj.dcd", "format": "dcd", "interval_steps": 10, "first_step": eq, "group": "all"},
        "thermo_interval_steps": 10,
        "restart": {"files": ["restart.a", "restart.b"], "interval_steps": 1000, "final": "restart.final"},
        "data_file": "system.data", "manifest": "builtin", "calculator": None, "topology_file": "system.data",
        "log_file": "log.lammps", "model_deviation_file": None, "inputs": {},
        "provenance": {"elbench_version": "test", "created_utc": "2026-01-01T00:00:00Z", "host": "test",
                       "python": "3", "command": ["test"], "inputs": {}},
    }
    return _merge(base, over)


def sample_record(**over: Any) -> RunRecord:
    return RunRecord.model_validate(record_dict(**over))


def write_record(run_dir: Path, **over: Any) -> RunRecord:
    """Write ``run_dir/run.json`` (the directory is created) and return the record."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    record = sample_record(**over)
    record.save(run_dir)
    return record
