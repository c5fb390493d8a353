"""`elbench render` through the CLI on real built systems: contract, re-render rules, bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from elbench.cli.main import app
from elbench.engines.lammps_binary import resolve_binary
from elbench.io import sha256_file

runner = CliRunner()

CAMPAIGN = """
name = "rendertest"
models = {models}
manifest = "{manifest}"
[system]
repeats = [{nx}, 8]
layers = 3
fixed_layers = 1
water_thickness_A = 8.0
vacuum_A = 10.0
charge_states = [0, 2]
geometry = "{geometry}"
[md]
temperature_K = {temperature}
equilibration_ps = 0.5
production_ps = 1.0
dump_interval_steps = 50
seeds = [1, 2]
[lammps]
engine = "{engine}"
[lammps.kokkos]
enabled = {kokkos}
"""

DEFAULTS = dict(models='["reference"]', manifest="builtin", nx=6, geometry="slab", temperature=300.0,
                engine="auto", kokkos="false")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Systems q0 and q2 built once (slab and sandwich), copied into each test's campaign."""
    from elbench.build import build_system
    from elbench.config import parse_campaign
    import tomllib

    root = tmp_path_factory.mktemp("built")
    for geometry in ("slab", "sandwich"):
        cfg = parse_campaign(tomllib.loads(CAMPAIGN.format(**(DEFAULTS | {"geometry": geometry}))))
        for n in cfg.system.charge_states:
            build_system(cfg.system, n, root / geometry / f"q{n}")
    return root


def campaign(tmp_path: Path, built: Path, *, systems: str = "slab", **kw) -> Path:
    (tmp_path / "elbench.toml").write_text(CAMPAIGN.format(**(DEFAULTS | kw)))
    shutil.copytree(built / systems, tmp_path / "systems")
    return tmp_path / "elbench.toml"


def render(path: Path, *args: str):
    return runner.invoke(app, ["render", "-c", str(path), *args])


def write_manifest(root: Path, *, type_map=("Au", "O", "H", "Na"), sha: str | None = None) -> None:
    model = root / "models" / "dp.pb"
    model.parent.mkdir(exist_ok=True)
    model.write_bytes(b"not really a frozen graph")
    (root / "manifest.toml").write_text(
        "[[potential]]\nname = \"dp_small\"\nfamily = \"dp\"\n"
        f"type_map = {json.dumps(list(type_map))}\ncutoff_A = 6.0\n"
        f"files = [{{path = \"models/dp.pb\", sha256 = \"{sha or sha256_file(model)}\"}}]\n"
    )


def test_render_writes_the_contract(tmp_path: Path, built: Path) -> None:
    path = campaign(tmp_path, built)
    result = render(path)
    assert result.exit_code == 0, result.output
    assert "engine of reference: native" in result.output
    runs = sorted(p.relative_to(tmp_path / "runs") for p in (tmp_path / "runs").glob("*/*/*"))
    assert [str(p) for p in runs] == ["reference/q0/s1", "reference/q0/s2", "reference/q2/s1", "reference/q2/s2"]
    d = tmp_path / "runs" / "reference" / "q2" / "s2"
    assert sorted(p.name for p in d.iterdir()) == ["in.lammps", "run.json", "run.sh", "system.data", "system_full.data"]
    assert os.access(d / "run.sh", os.X_OK)
    rec = json.loads((d / "run.json").read_text())
    for key in ("model", "family", "charge_state", "seed", "engine", "environment", "command", "env", "type_map",
                "timestep_fs", "steps", "dump", "thermo_interval_steps", "inputs", "provenance", "restart"):
        assert key in rec, key
    assert (rec["model"], rec["charge_state"], rec["seed"], rec["engine"]) == ("reference", 2, 2, "native")
    assert rec["type_map"] == ["Au", "O", "H", "Na"]
    assert rec["steps"] == {"minimize_max_iterations": 200, "equilibration": 1000, "production": 2000,
                            "production_first_step": 1000, "last_step": 3000}
    assert rec["dump"] == {"file": "traj.dcd", "format": "dcd", "interval_steps": 50, "first_step": 1000, "group": "all"}
    assert rec["restart"]["files"] == ["restart.a", "restart.b"]
    binary = resolve_binary("auto")
    assert rec["command"][-5:] == [str(binary.path), "-in", "in.lammps", "-log", "log.lammps"]
    assert rec["command"][1:3] == ["-np", "1"]
    assert rec["env"]["LD_LIBRARY_PATH"] == binary.env["LD_LIBRARY_PATH"]
    for name in ("system.data", "system_full.data"):
        assert rec["inputs"][name]["sha256"] == sha256_file(d / name)
        assert sha256_file(d / name) == sha256_file(tmp_path / "systems" / "q2" / name)
    assert rec["inputs"]["in.lammps"]["sha256"] == sha256_file(d / "in.lammps")
    assert "seed 2" in (d / "in.lammps").read_text().splitlines()[0]
    assert rec["provenance"]["lammps"]["version"] == binary.version


def test_rerender_unchanged_conflict_force(tmp_path: Path, built: Path) -> None:
    path = campaign(tmp_path, built)
    assert render(path).exit_code == 0
    again = render(path)
    assert again.exit_code == 0 and "unchanged" in again.output and "new" not in again.output
    run = tmp_path / "runs" / "reference" / "q0" / "s1"
    (run / "log.lammps").write_text("old output")
    path.write_text(path.read_text().replace("temperature_K = 300.0", "temperature_K = 330.0"))
    before = (run / "in.lammps").read_text()
    refused = render(path)
    assert refused.exit_code == 2 and "--force" in refused.output
    assert (run / "in.lammps").read_text() == before  # nothing written
    forced = render(path, "--force")
    assert forced.exit_code == 0 and "replaced" in forced.output
    assert "temp/csvr 330 330" in (run / "in.lammps").read_text()
    assert not (run / "log.lammps").exists()


def test_render_before_build(tmp_path: Path) -> None:
    (tmp_path / "elbench.toml").write_text(CAMPAIGN.format(**DEFAULTS))
    result = render(tmp_path / "elbench.toml")
    assert result.exit_code == 2 and "elbench build" in result.output
    assert not (tmp_path / "runs").exists()


def test_stale_system_geometry(tmp_path: Path, built: Path) -> None:
    path = campaign(tmp_path, built, systems="slab", geometry="sandwich")
    result = render(path)
    assert result.exit_code == 2 and "re-run `elbench build`" in result.output


def test_sandwich_renders_periodic_z(tmp_path: Path, built: Path) -> None:
    path = campaign(tmp_path, built, systems="sandwich", geometry="sandwich")
    assert render(path).exit_code == 0
    deck = (tmp_path / "runs" / "reference" / "q2" / "s1" / "in.lammps").read_text()
    assert "boundary        p p p" in deck and "kspace_modify" not in deck


def test_cell_smaller_than_twice_the_cutoff(tmp_path: Path, built: Path) -> None:
    path = campaign(tmp_path, built)
    systems = tmp_path / "systems"
    for q in systems.iterdir():  # shrink the recorded cell: 2 x 8 A does not fit into 12 A
        rec = json.loads((q / "system.json").read_text())
        rec["cell_A"][0][0] = 12.0
        (q / "system.json").write_text(json.dumps(rec))
    result = render(path)
    assert result.exit_code == 2
    assert "system.repeats" in result.output and "2 x cutoff_A" in result.output
    assert not (tmp_path / "runs").exists()


def test_model_hash_mismatch(tmp_path: Path, built: Path) -> None:
    path = campaign(tmp_path, built, models='["dp_small"]', manifest="manifest.toml")
    write_manifest(tmp_path, sha="1" * 64)
    result = render(path)
    assert result.exit_code == 2 and "sha256 mismatch" in result.output
    assert not (tmp_path / "runs").exists()


def test_missing_model_file(tmp_path: Path, built: Path) -> None:
    path = campaign(tmp_path, built, models='["dp_small"]', manifest="manifest.toml")
    write_manifest(tmp_path)
    (tmp_path / "models" / "dp.pb").unlink()
    result = render(path)
    assert result.exit_code == 2 and "missing" in result.output


def test_type_map_without_an_element_of_the_system(tmp_path: Path, built: Path) -> None:
    path = campaign(tmp_path, built, models='["dp_small"]', manifest="manifest.toml")
    write_manifest(tmp_path, type_map=("Au", "O", "H"))
    result = render(path)
    assert result.exit_code == 2
    assert "potential.dp_small.type_map" in result.output and "has no Na" in result.output
    assert not (tmp_path / "runs").exists()


def test_native_engine_demanded_but_style_missing(tmp_path: Path, built: Path) -> None:
    path = campaign(tmp_path, built, models='["dp_small"]', manifest="manifest.toml", engine="native")
    write_manifest(tmp_path)
    result = render(path)
    assert result.exit_code == 2
    assert "lammps.engine" in result.output and "pair style deepmd" in result.output


def test_kokkos_on_a_binary_without_kokkos(tmp_path: Path, built: Path) -> None:
    path = campaign(tmp_path, built, kokkos="true")
    result = render(path)
    assert result.exit_code == 2 and "KOKKOS" in result.output
