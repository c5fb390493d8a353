"""`elbench init --template paper` renders on a laptop for a GPU cluster, with its expected cost."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from elbench.cli.main import app

runner = CliRunner()


def test_paper_campaign_renders_for_a_cluster_binary(tmp_path):
    assert runner.invoke(app, ["init", str(tmp_path), "--template", "paper"]).exit_code == 0
    camp = str(tmp_path / "elbench.toml")
    assert runner.invoke(app, ["build", "-c", camp]).exit_code == 0
    result = runner.invoke(app, ["render", "-c", camp])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "not on this machine" in text and "unchecked" in text
    assert "expected cost 400.57 G atom-steps" in text and "in all (gpu" in text
    run_dir = tmp_path / "runs" / "reference" / "q4" / "s3"
    record = json.loads((run_dir / "run.json").read_text())
    assert record["provenance"]["lammps"]["checked"] is False  # an unchecked binary, not a list of every style
    argv = record["command"]
    assert argv == ["srun", "-n", "1", "lmp", "-k", "on", "g", "1", "-sf", "kk", "-pk", "kokkos", "newton", "on",
                    "neigh", "half", "-in", "in.lammps", "-log", "log.lammps"]
    # 10 ns at 0.5 fs, after 100 ps of equilibration
    steps = json.loads((run_dir / "run.json").read_text())["steps"]
    assert steps["production"] == 20_000_000 and steps["equilibration"] == 200_000
