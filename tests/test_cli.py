"""The command line as a user meets it: --version, --help everywhere, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from elbench import __version__
from elbench.cli.main import app

runner = CliRunner()


def _command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd, prefix: list[str]) -> None:
        paths.append(prefix)
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*prefix, name])

    walk(root, [])
    return paths


def test_every_verb_of_the_design_is_registered():
    names = {tuple(p) for p in _command_paths()}
    for verb in ["init", "build", "render", "run", "submit", "status", "analyze", "report", "quickstart",
                 "potentials", "doctor", "dataset", "train", "rmse"]:
        assert (verb,) in names


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "elbench")
def test_help_for_every_command(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    # options with defaults show them
    cmd = typer.main.get_command(app)
    for part in path:
        cmd = cmd.commands[part]
    for param in cmd.params:
        if getattr(param, "param_type_name", "") == "option" and param.default not in (None, False) and not param.is_flag:
            assert "default" in result.output.lower(), f"{' '.join(path)}: defaults not shown"


def test_version_from_console_script():
    exe = [sys.executable, "-c", "from elbench.cli.main import run; run()", "--version"]
    out = subprocess.run(exe, capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"elbench {__version__}"


def test_init_writes_campaign_and_refuses_to_overwrite(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c" / "elbench.toml").is_file()
    again = runner.invoke(app, ["init", str(tmp_path / "c")])
    assert again.exit_code == 2
    assert "--force" in again.output


def test_unknown_template_is_one_line_exit_2(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path), "--template", "huge"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "quickstart, paper" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "elbench.toml").exists()
