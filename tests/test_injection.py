"""Hostile values cannot add LAMMPS commands to in.lammps nor shell commands to run.sh / job.sbatch.

Every field of the campaign file and the registry that reaches a template gets
values with newlines, ``&``, ``$``, ``#``, quotes, ``shell``, ``include`` and
spaces. Each either stops the command (exit 2, one line naming the key, nothing
written) or is rendered safely: the rendered files are then exactly the files a
harmless placeholder value gives, with the placeholder replaced by the value —
so no line, command or argument was added. Paths that are allowed to hold
spaces and shell characters (the campaign directory) are checked by letting
bash itself expand the rendered words.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from badinput_support import CAMPAIGN_TOML, assert_one_line_error, campaign_copy, diff, invoke, snapshot

HOSTILE = [
    "x\nshell touch /tmp/pwned",  # a second line: a LAMMPS command / a shell command
    "x & shell id",  # LAMMPS continuation, shell background, spaces
    "$(id)",  # LAMMPS immediate variable, shell command substitution
    "x#y;z",  # comment, separator
    "x'y\"",  # quotes
    "shell",  # LAMMPS commands as plain words
    "include",
]

PLACEHOLDER = "PLACEHOLDERxyz"


# ----------------------------------------------------------------------------- parsing rendered files


def strip_comment(line: str) -> str:
    """A LAMMPS line without its comment (``#`` outside quotes starts one)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    assert quote is None, f"unbalanced quote in {line!r}"
    return line


def lammps_commands(deck: str) -> list[list[str]]:
    """The deck as LAMMPS reads it: comments removed, ``&`` continuations joined, split into words."""
    commands, buf = [], ""
    for raw in deck.splitlines():
        line = strip_comment(raw).rstrip()
        if line.endswith("&"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            commands.append(shlex.split(buf))
        buf = ""
    assert not buf.strip(), "deck ends inside a continuation"
    return commands


FORBIDDEN_LAMMPS = {"shell", "include", "python", "jump", "label", "next", "variable", "print"}


def assert_safe_deck(deck: str) -> list[list[str]]:
    commands = lammps_commands(deck)
    names = [c[0] for c in commands]
    assert not FORBIDDEN_LAMMPS & set(names), names
    code = "\n".join(strip_comment(ln) for ln in deck.splitlines())
    assert "$" not in code, "variable expansion outside comments"
    return commands


# ----------------------------------------------------------------------------- campaign-file helpers


def set_field(text: str, field: str, value) -> str:
    """Set ``field`` (``key`` or ``section.key``) in the campaign TOML to ``value`` (JSON = TOML here)."""
    encoded = json.dumps(value)
    if "." not in field:
        pattern = re.compile(rf"^{field} = .*$", re.M)
        if pattern.search(text):
            return pattern.sub(lambda _: f"{field} = {encoded}", text, count=1)
        return f"{field} = {encoded}\n" + text
    section, key = field.rsplit(".", 1)
    header = f"[{section}]\n"
    if header in text:
        return text.replace(header, f"{header}{key} = {encoded}\n", 1)
    return text + f"\n{header}{key} = {encoded}\n"


def outputs(root: Path, job_stdout: str | None) -> dict[str, str]:
    """Every rendered deck and script, by relative path, plus the dry-run job script."""
    out = {}
    for p in sorted((root / "runs").rglob("*")):
        if p.name in ("in.lammps", "run.sh"):
            out[str(p.relative_to(root))] = p.read_text()
    if job_stdout is not None:
        out["job.sbatch"] = job_stdout
    return {k: v.replace(str(root), "<ROOT>") for k, v in out.items()}


def render_and_submit(root: Path):
    """``render`` then ``submit --dry-run``; (first failing result or None, outputs)."""
    before = snapshot(root)
    res = invoke("render", "-c", root / "elbench.toml")
    if res.exit_code != 0:
        return res, before
    sub = invoke("submit", "-c", root / "elbench.toml", "--dry-run")
    if sub.exit_code != 0:
        return sub, before
    return None, outputs(root, sub.stdout)


FIELDS = {
    # field: how the placeholder is written (some fields hold lists)
    "name": lambda v: v,
    "slurm.partition": lambda v: v,
    "slurm.account": lambda v: v,
    "slurm.qos": lambda v: v,
    "slurm.setup_lines": lambda v: [f"module load {v}"],
    "models": lambda v: [v],
    "manifest": lambda v: v,
    "lammps.binary": lambda v: v,
    "system.metal": lambda v: v,
    "system.cation": lambda v: v,
    "slurm.time": lambda v: v,
}

#: the key named in the error line when a field's value is refused
ERROR_KEY: dict[str, str] = {}


@pytest.fixture(scope="module")
def baselines(tmp_path_factory) -> dict[str, dict[str, str]]:
    """For fields that accept a plain word: outputs with the placeholder value."""
    out = {}
    for field in ("name", "slurm.partition", "slurm.account", "slurm.qos", "slurm.setup_lines", "lammps.binary"):
        root = campaign_copy(tmp_path_factory.mktemp("base"), "built")
        (root / "elbench.toml").write_text(set_field(CAMPAIGN_TOML, field, FIELDS[field](PLACEHOLDER)))
        res, files = render_and_submit(root)
        assert res is None, res.output
        assert any(PLACEHOLDER in text for text in files.values()), f"{field} never reaches a template"
        out[field] = files
    return out


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[1:-1][:20])
@pytest.mark.parametrize("field", list(FIELDS))
def test_hostile_campaign_value(field: str, value: str, tmp_path: Path, baselines) -> None:
    root = campaign_copy(tmp_path, "built")
    (root / "elbench.toml").write_text(set_field(CAMPAIGN_TOML, field, FIELDS[field](value)))
    failed, files = render_and_submit(root)
    if failed is not None:
        assert_one_line_error(failed, ERROR_KEY.get(field, field))
        assert diff(files, snapshot(root)) == {"added": [], "removed": [], "changed": []}
        return
    # accepted: the value was a harmless word; nothing but the value itself differs from the baseline
    assert field in baselines, f"{field}={value!r} accepted but the field has no baseline"
    expected = {k: v.replace(PLACEHOLDER, value) for k, v in baselines[field].items()}
    assert files == expected
    for name, text in files.items():
        if name.endswith("in.lammps"):
            assert_safe_deck(text)


def test_setup_lines_stay_one_line_each(tmp_path: Path, baselines) -> None:
    """setup_lines are shell by design (module loads); a newline cannot add a line, `;`/`&` stay on theirs."""
    root = campaign_copy(tmp_path, "built")
    lines = ["module load lammps/2024 && echo ok; source /opt/x.sh # comment"]
    (root / "elbench.toml").write_text(set_field(CAMPAIGN_TOML, "slurm.setup_lines", lines))
    failed, files = render_and_submit(root)
    assert failed is None, failed.output
    base = baselines["slurm.setup_lines"]["job.sbatch"].splitlines()
    got = files["job.sbatch"].splitlines()
    assert len(got) == len(base)
    assert [g for g, b in zip(got, base) if g != b] == lines
    (root / "elbench.toml").write_text(set_field(CAMPAIGN_TOML, "slurm.setup_lines", ["a", "b\nrm -rf ~"]))
    shutil.rmtree(root / "runs")
    failed, _ = render_and_submit(root)
    assert failed is not None
    assert_one_line_error(failed, "slurm.setup_lines")


# ----------------------------------------------------------------------------- the registry


REFERENCE = {
    "name": "reference", "family": "reference", "type_map": ["Au", "O", "H", "Na"], "cutoff_A": 8.0,
    "description": "d", "citation": "c", "made_by": "m",
}


def manifest_toml(entry: dict) -> str:
    lines = ["[[potential]]"]
    for key, value in entry.items():
        if key == "files":
            items = ", ".join(f'{{path = {json.dumps(f["path"])}, sha256 = "{f["sha256"]}"}}' for f in value)
            lines.append(f"files = [{items}]")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def render_with_manifest(root: Path, entry: dict):
    (root / "manifest.toml").write_text(manifest_toml(entry))
    toml = set_field(CAMPAIGN_TOML, "manifest", "manifest.toml")
    (root / "elbench.toml").write_text(toml)
    return render_and_submit(root)


@pytest.fixture(scope="module")
def manifest_baseline(tmp_path_factory) -> dict[str, str]:
    root = campaign_copy(tmp_path_factory.mktemp("mbase"), "built")
    failed, files = render_with_manifest(root, REFERENCE)
    assert failed is None, failed.output
    for name, text in files.items():
        if name.endswith("in.lammps"):
            assert_safe_deck(text)
    return files


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[1:-1][:20])
def test_manifest_free_text(value: str, tmp_path: Path, manifest_baseline) -> None:
    """Free text (description, citation, made_by) never reaches a deck or script; a newline in it is refused."""
    root = campaign_copy(tmp_path, "built")
    failed, files = render_with_manifest(root, REFERENCE | {"description": value, "citation": value, "made_by": value})
    if "\n" in value:
        assert failed is not None
        assert_one_line_error(failed, "manifest.toml", "description")
        return
    assert failed is None, failed.output
    assert files == manifest_baseline


@pytest.mark.parametrize("change", [
    {"name": v} for v in HOSTILE if v not in ("shell", "include")
] + [
    {"type_map": ["Au", "O", "H", v]} for v in HOSTILE
] + [
    {"environment": v} for v in HOSTILE if v not in ("shell", "include")
] + [
    {"files": [{"path": f"models/{v}.pb", "sha256": "0" * 64}]} for v in HOSTILE if v not in ("shell", "include")
] + [
    {"pair_style": v} for v in HOSTILE
], ids=lambda c: f"{next(iter(c))}={json.dumps(next(iter(c.values())))[:24]}")
def test_manifest_hostile_fields_refused(change: dict, tmp_path: Path) -> None:
    root = campaign_copy(tmp_path, "built")
    failed, before = render_with_manifest(root, REFERENCE | change)
    assert failed is not None, f"{change} was accepted"
    assert_one_line_error(failed, "manifest.toml" if "pair_style" not in change else "pair_style")
    assert diff(before, snapshot(root)) == {"added": [], "removed": [], "changed": []}


# ----------------------------------------------------------------------------- paths that may hold anything


WEIRD_DIRS = ["my campaign", "a&b #c", "it's $HOME", 'q"uote;x', "semi;colon`id`"]


@pytest.mark.parametrize("dirname", WEIRD_DIRS)
def test_campaign_directory_with_shell_characters(dirname: str, tmp_path: Path, manifest_baseline) -> None:
    """The campaign directory never reaches a deck; in job scripts bash reads it back exactly."""
    src = campaign_copy(tmp_path / "src", "built")
    root = tmp_path / dirname / "camp"
    root.parent.mkdir()
    src.rename(root)
    failed, files = render_and_submit(root)
    if failed is not None:  # refused: one line that names the directory
        assert_one_line_error(failed, dirname)
        assert failed.exit_code == 2
        return
    for name, text in files.items():
        assert "<ROOT>" not in text or name == "job.sbatch", name
        if name.endswith("in.lammps"):
            assert_safe_deck(text)
        if name.endswith("run.sh"):
            exec_line = [ln for ln in text.splitlines() if ln.startswith("exec ")]
            run = json.loads((root / Path(name).parent / "run.json").read_text())
            assert len(exec_line) == 1 and shlex.split(exec_line[0]) == ["exec", *run["command"]]
    job = files["job.sbatch"].replace("<ROOT>", str(root))
    assert subprocess.run(["bash", "-n"], input=job, text=True).returncode == 0
    run_list = next(ln for ln in job.splitlines() if ln.startswith("RUN_LIST="))
    echoed = subprocess.run(["bash", "-c", f'{run_list}; printf %s "$RUN_LIST"'], capture_output=True, text=True)
    assert echoed.stdout == str(root / "jobs" / "campaign.runs"), echoed
    launch = next(ln for ln in job.splitlines() if " run -c " in ln).removesuffix("&").strip()
    args = subprocess.run(["bash", "-c", f"WORK_DIR=/w; set -- {launch}; printf '%s\\n' \"$@\""],
                          capture_output=True, text=True).stdout.splitlines()
    assert args[1:] == ["run", "-c", str(root / "elbench.toml"), "--run-dir", "/w", "--resume"], args


def test_newline_in_campaign_directory_is_refused(tmp_path: Path) -> None:
    """A run list holds one run directory per line: a directory name with a newline cannot be submitted."""
    src = campaign_copy(tmp_path / "src", "rendered")
    root = tmp_path / "bad\nname" / "camp"
    root.parent.mkdir()
    src.rename(root)
    before = snapshot(tmp_path)
    sub = invoke("submit", "-c", root / "elbench.toml", "--dry-run")
    if sub.exit_code == 0:  # then every run-list line must still be an existing run directory
        lines = [ln for ln in sub.stdout.splitlines() if ln.startswith("# /")]
        assert all(Path(ln[2:]).is_dir() for ln in lines), lines
    else:
        assert_one_line_error(sub, "newline")
    assert diff(before, snapshot(tmp_path))["added"] == []


# ----------------------------------------------------------------------------- decks from the library


def test_quoted_model_path_with_spaces_keeps_the_command_set() -> None:
    from render_fixtures import render_case

    from elbench.render.deck import deck_context, pair_context, render_deck
    from render_fixtures import CASES, md, system
    from elbench.potentials.styles import pair_style_for

    base = lammps_commands(render_case("deepmd"))
    e, _, _ = CASES["deepmd"]
    s = system()
    pair = pair_context(e, engine="native", style=pair_style_for(e), files={"model": [Path("/data/my models/x y.pb")]},
                        system=s, metal="Au", cation="Na")
    deck = render_deck(deck_context(md=md(), entry=e, system=s, charge_state=2, seed=7, engine="native", pair=pair))
    got = assert_safe_deck(deck)
    assert [c[0] for c in got] == [c[0] for c in base]
    assert any(word == "/data/my models/x y.pb" for cmd in got for word in cmd), "the path is one quoted word"
