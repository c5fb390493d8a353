"""`elbench potentials list|check`: the registry table and its checks, through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from elbench.cli.main import app
from elbench.io import sha256_file
from elbench.potentials.compatibility import check_potential
from elbench.potentials.manifest import load_manifest
from elbench.render.system import system_from_dict

from render_fixtures import SYSTEM_JSON

runner = CliRunner()


def registry(root: Path, *, type_map=("Au", "O", "H", "Na"), cutoff=6.0, good_hash=True) -> Path:
    (root / "m").mkdir(parents=True, exist_ok=True)
    (root / "m" / "a.pb").write_bytes(b"model a")
    sha = sha256_file(root / "m" / "a.pb") if good_hash else "2" * 64
    text = (
        "[[potential]]\nname = \"dp_a\"\nfamily = \"dp\"\n"
        f"type_map = {json.dumps(list(type_map))}\ncutoff_A = {cutoff}\nmessage_passing_layers = 0\n"
        f"trained_charge_states = [0, 4]\nfiles = [{{path = \"m/a.pb\", sha256 = \"{sha}\"}}]\n"
        "[[potential]]\nname = \"mace_b\"\nfamily = \"mace\"\ntype_map = [\"Au\", \"O\", \"H\", \"Na\"]\n"
        "cutoff_A = 5.0\nmessage_passing_layers = 2\n"
        f"files = [{{path = \"m/a.pb\", sha256 = \"{sha}\"}}]\n"
    )
    (root / "manifest.toml").write_text(text)
    return root / "manifest.toml"


def test_list_builtin_registry(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["potentials", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "reference" in result.output and "Au O H Na" in result.output


def test_list_shows_receptive_field(tmp_path: Path) -> None:
    path = registry(tmp_path)
    result = runner.invoke(app, ["potentials", "list", "--manifest", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "mace_b" in line)
    assert "10" in row.split("│")[6]  # 5 A x 2 layers


def test_check_files_only_passes(tmp_path: Path) -> None:
    result = runner.invoke(app, ["potentials", "check", "--manifest", str(registry(tmp_path))], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "all checks passed for 2 model(s)" in result.output


def test_check_hash_mismatch_fails_with_exit_2(tmp_path: Path) -> None:
    path = registry(tmp_path, good_hash=False)
    result = runner.invoke(app, ["potentials", "check", "--manifest", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "FAIL" in result.output and "check(s) failed" in result.output


def test_check_against_a_system() -> None:
    """Elements and lateral cell are checked against a built system."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        manifest = load_manifest(registry(Path(tmp), type_map=("Au", "O", "H"), cutoff=9.0))
        system = system_from_dict(SYSTEM_JSON)  # 17.3 x 19.98 A
        results = {r.check: r for r in check_potential(manifest, manifest.entries["dp_a"], system)}
        assert results["sha256 m/a.pb"].ok
        assert not results["elements"].ok and "Na" in results["elements"].detail
        assert not results["cell >= 2 x cutoff"].ok and "18.00" in results["cell >= 2 x cutoff"].detail
        good = {r.check: r for r in check_potential(manifest, manifest.entries["mace_b"], system)}
        assert good["elements"].ok and good["cell >= 2 x cutoff"].ok


def test_check_uses_the_campaign_systems(tmp_path: Path) -> None:
    from elbench.build import build_system
    from elbench.config import load_campaign

    registry(tmp_path, cutoff=9.5)
    (tmp_path / "elbench.toml").write_text(
        'models = ["dp_a"]\nmanifest = "manifest.toml"\n[system]\nrepeats = [6, 8]\nlayers = 2\n'
        "fixed_layers = 1\nwater_thickness_A = 6.0\ncharge_states = [0]\n"
    )
    camp = load_campaign(tmp_path / "elbench.toml")
    build_system(camp.config.system, 0, camp.system_dir(0))
    result = runner.invoke(app, ["potentials", "check", "-c", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert "first: dp_a: cell >= 2 x cutoff: lateral cell 17.30 x" in flat


def test_unknown_model(tmp_path: Path) -> None:
    path = registry(tmp_path)
    result = runner.invoke(app, ["potentials", "check", "--manifest", str(path), "--model", "nope"])
    assert result.exit_code == 2 and "not in the registry" in result.output
