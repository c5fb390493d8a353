"""One table of bad input across every command.

Each case prepares a private copy of a real, finished tiny campaign (built,
rendered, run with LAMMPS, analysed), breaks one thing, runs one elbench command
through typer's CliRunner, and asserts the contract of bad input:

* exit code 2 and exactly one line on stderr, ``error: ...``, naming the file,
  key or value (the case's needles) and no traceback;
* nothing on stdout (a half-printed table would read as success);
* the campaign tree afterwards holds exactly the files it held before: no new
  file (nothing half-written that could look complete), none removed, none changed.

A few cases go through the real console script to check the same at process level.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from badinput_support import (
    ELBENCH,
    assert_one_line_error,
    campaign_copy,
    diff,
    error_lines,
    invoke,
    snapshot,
)
from elbench.io import sha256_file

DATA = Path(__file__).parent / "data"
Q0 = "runs/reference/q0/s1"
Q2 = "runs/reference/q2/s1"


# ----------------------------------------------------------------------------- setup helpers


def edit_toml(root: Path, old: str | None = None, new: str = "", *, append: str = "") -> None:
    """Replace ``old`` by ``new`` in elbench.toml (``old`` must occur), or append text."""
    path = root / "elbench.toml"
    text = path.read_text()
    if old is not None:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text + append)


def toml(old: str | None = None, new: str = "", append: str = "") -> Callable[[Path], None]:
    return lambda root: edit_toml(root, old, new, append=append)


def md_key(line: str) -> Callable[[Path], None]:
    return toml("[md]\n", f"[md]\n{line}\n")


def system_key(line: str) -> Callable[[Path], None]:
    return toml("[system]\n", f"[system]\n{line}\n")


def make_manifest(root: Path, *, family: str = "dp", file: str = "models/dp.pb", type_map=("Au", "O", "H", "Na"),
                  cutoff: float = 6.0, sha: str | None = None, extra: str = "", content: bytes | None = None) -> Path:
    """A registry beside the campaign with one model; the campaign uses only it."""
    model = root / file
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_bytes(content if content is not None else b"\x08\x01" + bytes(range(256)) * 8)
    text = (
        "[[potential]]\n"
        f'name = "m1"\nfamily = "{family}"\ntype_map = {json.dumps(list(type_map))}\ncutoff_A = {cutoff}\n'
        f'files = [{{path = "{file}", sha256 = "{sha or sha256_file(model)}"}}]\n{extra}'
    )
    (root / "manifest.toml").write_text(text)
    edit_toml(root, 'models = ["reference"]', 'models = ["m1"]\nmanifest = "manifest.toml"')
    return model


def manifest_text(text: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        (root / "manifest.toml").write_text(text)
        edit_toml(root, 'models = ["reference"]', 'models = ["reference"]\nmanifest = "manifest.toml"')

    return setup


REFERENCE_ENTRY = """[[potential]]
name = "reference"
family = "reference"
type_map = ["Au", "O", "H", "Na"]
cutoff_A = 8.0
"""


def truncate(rel: str, size: int) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        with open(root / rel, "r+b") as fh:
            fh.truncate(size)

    return setup


def write(rel: str, text: str | bytes) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode() if isinstance(text, str) else text)

    return setup


def chain(*funcs: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        for f in funcs:
            f(root)

    return setup


def replace_in(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        p = root / rel
        text = p.read_text()
        assert old in text, (rel, old)
        p.write_text(text.replace(old, new, 1))

    return setup


def remove(rel: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        p = root / rel
        shutil.rmtree(p) if p.is_dir() else p.unlink()

    return setup


def rendered(root: Path) -> None:
    """Render the campaign (render accepts a LAMMPS binary that is absent here: a cluster's)."""
    result = invoke("render", "-c", root / "elbench.toml")
    assert result.exit_code == 0, result.output


def no_op(root: Path) -> None:
    return None


# ----------------------------------------------------------------------------- the table


@dataclass
class Case:
    id: str
    argv: list[str]  # "{c}" = campaign file, "{r}" = campaign root
    needles: list[str]  # every one must be in the error line (case-insensitive)
    setup: Callable[[Path], None] = no_op
    stage: str = "analyzed"  # how far the campaign copy got: toml, built, rendered, ran, analyzed
    stdout_ok: bool = False  # the command's own table may precede the error (potentials check)
    env: dict = field(default_factory=dict)


TRAJ = f"{{r}}/{Q0}/traj.dcd"
TOPO = "{r}/systems/q0/system.data"
ANALYZE = ["analyze", TRAJ, "--topology", TOPO, "--out", "{r}/ana"]

CASES: list[Case] = [
    # --- campaign file: syntax, keys, types, ranges (caught by every command that loads it)
    Case("toml-malformed", ["build", "-c", "{c}"], ["elbench.toml", "malformed TOML"],
         toml(append="[system\nlayers = 3\n"), stage="toml"),
    Case("toml-missing", ["build", "-c", "{r}/nope.toml"], ["nope.toml", "not found"], stage="toml"),
    Case("toml-unknown-top-key", ["build", "-c", "{c}"], ["elbench.toml", "colour", "unknown key"],
         toml(append='colour = "blue"\n'), stage="toml"),
    Case("toml-unknown-nested-key", ["render", "-c", "{c}"], ["elbench.toml", "md.temprature_K", "unknown key"],
         md_key("temprature_K = 300"), stage="built"),
    Case("toml-wrong-type", ["render", "-c", "{c}"], ["elbench.toml", "md.temperature_K", "hot"],
         md_key('temperature_K = "hot"'), stage="built"),
    Case("toml-negative-temperature", ["run", "-c", "{c}"], ["md.temperature_K", "greater than 0"],
         md_key("temperature_K = -300"), stage="rendered"),
    Case("toml-zero-timestep", ["render", "-c", "{c}"], ["md.timestep_fs", "greater than 0"],
         md_key("timestep_fs = 0.0"), stage="built"),
    Case("toml-huge-timestep", ["render", "-c", "{c}"], ["md.timestep_fs", "5"],
         md_key("timestep_fs = 50.0"), stage="built"),
    Case("toml-negative-production", ["render", "-c", "{c}"], ["md.production_ps"],
         toml("production_ps = 0.02", "production_ps = -1.0"), stage="built"),
    Case("toml-unknown-metal", ["build", "-c", "{c}"], ["system.metal", "Xx", "Au"],
         system_key('metal = "Xx"'), stage="toml"),
    Case("toml-unknown-cation", ["build", "-c", "{c}"], ["system.cation", "Cs2", "Na"],
         system_key('cation = "Cs2"'), stage="toml"),
    Case("toml-unknown-geometry", ["build", "-c", "{c}"], ["system.geometry", "cylinder"],
         system_key('geometry = "cylinder"'), stage="toml"),
    Case("toml-odd-repeats", ["build", "-c", "{c}"], ["system.repeats", "even"],
         toml("repeats = [6, 8]", "repeats = [6, 7]"), stage="toml"),
    Case("toml-fixed-all-layers", ["build", "-c", "{c}"], ["fixed_layers", "layers"],
         toml("fixed_layers = 1", "fixed_layers = 3"), stage="toml"),
    Case("toml-no-charge-states", ["build", "-c", "{c}"], ["system.charge_states", "at least one"],
         toml("charge_states = [0, 2]", "charge_states = []"), stage="toml"),
    Case("toml-negative-cations", ["build", "-c", "{c}"], ["system.charge_states", "between 0 and 64"],
         toml("charge_states = [0, 2]", "charge_states = [0, -2]"), stage="toml"),
    Case("toml-more-cations-than-fit", ["build", "-c", "{c}"], ["cation"],
         toml("charge_states = [0, 2]", "charge_states = [0, 60]"), stage="toml"),
    Case("toml-repeated-seeds", ["render", "-c", "{c}"], ["md.seeds", "repeat"],
         toml("seeds = [1]", "seeds = [1, 1]"), stage="built"),
    Case("toml-zero-seed", ["render", "-c", "{c}"], ["md.seeds", "positive"],
         toml("seeds = [1]", "seeds = [0]"), stage="built"),
    Case("toml-md-blowup-unknown-key", ["run", "-c", "{c}"], ["md.blowup.max_temperature_C", "unknown key"],
         toml(append="[md.blowup]\nmax_temperature_C = 500\n"), stage="rendered"),
    Case("toml-md-blowup-fraction-above-1", ["run", "-c", "{c}"], ["md.blowup.max_broken_water_fraction", "1"],
         toml(append="[md.blowup]\nmax_broken_water_fraction = 1.5\n"), stage="rendered"),
    Case("toml-bad-slurm-time", ["submit", "-c", "{c}", "--dry-run"], ["slurm.time"],
         toml(append='[slurm]\ntime = "24h"\n'), stage="rendered"),
    Case("toml-unsafe-partition", ["submit", "-c", "{c}", "--dry-run"], ["slurm.partition", "safe name"],
         toml(append='[slurm]\npartition = "gpu;rm"\n'), stage="rendered"),
    Case("toml-unsafe-campaign-name", ["status", "-c", "{c}"], ["name", "safe name"],
         toml('name = "badinput"', 'name = "bad input"'), stage="ran"),
    Case("toml-bad-analysis-dz", ["analyze", "-c", "{c}"], ["analysis.dz_A"],
         toml(append="[analysis]\ndz_A = -0.1\n"), stage="ran"),
    Case("toml-bad-first-layer-window", ["analyze", "-c", "{c}"], ["analysis.first_layer_A", "0 <= MIN < MAX"],
         toml(append="[analysis]\nfirst_layer_A = [4.5, 1.0]\n"), stage="ran"),
    # --- systems vs campaign: built system does not match, cell smaller than twice the cutoff
    Case("system-cell-below-2-cutoffs", ["render", "-c", "{c}"], ["system.repeats", "2 x cutoff_A"],
         lambda root: make_manifest(root, cutoff=12.0), stage="built"),
    Case("system-type-map-edited", ["render", "-c", "{c}"], ["system.json", "type_map", "K"],
         replace_in("systems/q2/system.json", '"Na"', '"K"'), stage="built"),
    Case("system-data-type-map-order", ["render", "-c", "{c}"], ["system.data", "type_map", "differs"],
         replace_in("systems/q0/system.data", "type_map: Au O H Na", "type_map: Au H O Na"), stage="built"),
    Case("system-not-built", ["render", "-c", "{c}"], ["system"], stage="toml"),
    Case("system-json-corrupt", ["render", "-c", "{c}"], ["system.json"],
         write("systems/q0/system.json", "{not json"), stage="built"),
    # --- registry and model files
    Case("model-unknown", ["render", "-c", "{c}"], ["models", "nosuch", "reference"],
         toml('models = ["reference"]', 'models = ["nosuch"]'), stage="built"),
    Case("model-file-missing", ["render", "-c", "{c}"], ["manifest.toml", "potential.m1.files", "missing"],
         lambda root: make_manifest(root).unlink(), stage="built"),
    Case("model-file-truncated", ["render", "-c", "{c}"], ["manifest.toml", "sha256 mismatch"],
         chain(make_manifest, truncate("models/dp.pb", 100)), stage="built"),
    Case("model-hash-mismatch", ["render", "-c", "{c}"], ["manifest.toml", "sha256 mismatch"],
         lambda root: make_manifest(root, sha="a" * 64), stage="built"),
    Case("model-type-map-lacks-cation", ["render", "-c", "{c}"], ["potential.m1.type_map", "Na"],
         lambda root: make_manifest(root, type_map=("Au", "O", "H")), stage="built"),
    Case("model-wrong-family-file", ["render", "-c", "{c}"], ["dp.yace", "not a dp model"],
         lambda root: make_manifest(root, file="models/dp.yace"), stage="built"),
    Case("manifest-unknown-family", ["potentials", "list", "-c", "{c}"], ["manifest.toml", "family", "reference"],
         manifest_text(REFERENCE_ENTRY.replace('family = "reference"', 'family = "schnet"')), stage="toml"),
    Case("manifest-malformed", ["potentials", "list", "-c", "{c}"], ["manifest.toml", "malformed TOML"],
         manifest_text("[[potential]\nname = 1\n"), stage="toml"),
    Case("manifest-unknown-key", ["potentials", "list", "-c", "{c}"], ["manifest.toml", "potential.colour"],
         manifest_text(REFERENCE_ENTRY + 'colour = "red"\n'), stage="toml"),
    Case("manifest-duplicate-names", ["potentials", "list", "-c", "{c}"], ["manifest.toml", "duplicate"],
         manifest_text(REFERENCE_ENTRY + REFERENCE_ENTRY), stage="toml"),
    Case("manifest-not-elements", ["potentials", "list", "-c", "{c}"], ["potential.type_map", "Xq"],
         manifest_text(REFERENCE_ENTRY.replace('"Na"]', '"Xq"]')), stage="toml"),
    Case("manifest-path-escapes", ["potentials", "list", "-c", "{c}"], ["potential.files.path"],
         manifest_text(REFERENCE_ENTRY + 'files = [{path = "../x.pb", sha256 = "' + "0" * 64 + '"}]\n'),
         stage="toml"),
    Case("potentials-check-hash", ["potentials", "check", "-c", "{c}"], ["manifest.toml", "check(s) failed", "sha256"],
         lambda root: make_manifest(root, sha="b" * 64), stage="built", stdout_ok=True),
    # --- LAMMPS binary
    Case("binary-missing", ["run", "-c", "{c}"], ["run.json", "/nonexistent/lmp", "not found"],
         chain(toml(append='[lammps]\nbinary = "/nonexistent/lmp"\n'), rendered), stage="built"),
    Case("binary-missing-doctor", ["doctor", "-c", "{c}"], ["lammps.binary", "not found"],
         toml(append='[lammps]\nbinary = "/nonexistent/lmp"\n'), stage="toml"),
    Case("binary-lacks-style", ["render", "-c", "{c}"], ["engine", "native", "pace"],
         lambda root: (make_manifest(root, family="ace", file="models/m.yace", content=b"embeddings: {}\nfunctions: {}\n"),
                       edit_toml(root, append='[lammps]\nengine = "native"\n')), stage="built"),
    Case("bridge-model-on-two-ranks", ["render", "-c", "{c}"], ["lammps.mpi_ranks", "one MPI rank"],
         chain(toml('models = ["reference"]', 'models = ["esen-tiny"]'), toml(append="[lammps]\nmpi_ranks = 2\n")),
         stage="built"),
    # --- runs
    Case("run-not-rendered", ["run", "-c", "{c}"], ["not rendered", "elbench render"], stage="built"),
    Case("run-dir-not-a-run", ["run", "-c", "{c}", "--run-dir", "{r}/systems"], ["--run-dir", "no run.json"],
         stage="rendered"),
    Case("run-unknown-only", ["run", "-c", "{c}", "--only", "nosuch"], ["--only", "nosuch"], stage="rendered"),
    Case("run-inputs-edited", ["run", "-c", "{c}"], ["run.json", "inputs no longer match", "in.lammps"],
         replace_in(f"{Q0}/in.lammps", "thermo          5", "thermo          7"), stage="rendered"),
    Case("run-json-corrupt", ["run", "-c", "{c}"], ["run.json"], write(f"{Q0}/run.json", "{"), stage="rendered"),
    Case("run-json-older-schema", ["run", "-c", "{c}"], ["run.json", "older elbench", "elbench render --force"],
         replace_in(f"{Q0}/run.json", '"schema_version": 3,', ""), stage="rendered"),
    Case("run-json-unknown-key", ["run", "-c", "{c}"], ["run.json", "key 'bridge'", "unknown key"],
         replace_in(f"{Q0}/run.json", '"schema_version": 3,', '"schema_version": 3, "bridge": {},'), stage="rendered"),
    Case("rerender-conflict", ["render", "-c", "{c}"], ["--force", "different inputs"],
         md_key("temperature_K = 310"), stage="ran"),
    # --- submit
    Case("submit-no-sbatch", ["submit", "-c", "{c}"], ["sbatch not found"], stage="rendered",
         env={"PATH": "/nonexistent"}),
    Case("submit-hostile-scratch", ["submit", "-c", "{c}", "--dry-run", "--scratch", "$(reboot)"], ["--scratch"],
         stage="rendered"),
    # --- analyze, single trajectory
    Case("analyze-traj-missing", ["analyze", "{r}/no.dcd", "--topology", TOPO, "--out", "{r}/ana"],
         ["no.dcd", "not found"]),
    Case("analyze-topology-missing", ["analyze", TRAJ, "--topology", "{r}/no.data", "--out", "{r}/ana"],
         ["no.data", "not found"]),
    Case("analyze-traj-empty", ANALYZE, ["traj.dcd", "empty"], truncate(f"{Q0}/traj.dcd", 0)),
    Case("analyze-traj-truncated-first-frame", ANALYZE, ["traj.dcd", "frame"],
         truncate(f"{Q0}/traj.dcd", 2000)),
    Case("analyze-traj-header-only", ANALYZE, ["traj.dcd"], truncate(f"{Q0}/traj.dcd", 60)),
    Case("analyze-atom-count-mismatch", ["analyze", TRAJ, "--topology", "{r}/systems/q2/system.data", "--out",
                                         "{r}/ana"], ["420", "416"]),
    Case("analyze-topology-not-data", ["analyze", TRAJ, "--topology", f"{{r}}/{Q0}/run.sh", "--out", "{r}/ana"],
         ["run.sh", "data file"]),
    Case("analyze-unknown-metal", [*ANALYZE, "--metal", "Pt"], ["--metal", "Pt"]),
    Case("analyze-bad-dz", [*ANALYZE, "--dz", "0"], ["--dz"]),
    Case("analyze-bad-blocks", [*ANALYZE, "--blocks", "1"], ["--blocks", ">= 2"]),
    Case("analyze-unknown-format", [*ANALYZE, "--format", "pdbx"], ["--format", "pdbx"]),
    Case("analyze-unknown-geometry", [*ANALYZE, "--geometry", "tube"], ["--geometry", "tube"]),
    Case("analyze-out-not-writable", ["analyze", TRAJ, "--topology", TOPO, "--out", "{r}/elbench.toml/sub"],
         ["elbench.toml/sub"]),
    Case("analyze-no-out", ["analyze", TRAJ, "--topology", TOPO], ["--out"]),
    Case("analyze-first-layer-reversed", [*ANALYZE, "--first-layer", "4.5", "0"],
         ["--first-layer", "not below MAX", "0 <= MIN < MAX"]),
    Case("analyze-first-layer-empty", [*ANALYZE, "--first-layer", "3", "3"], ["--first-layer", "not below MAX"]),
    Case("analyze-first-layer-negative", [*ANALYZE, "--first-layer", "-2", "4.5"], ["--first-layer", "negative"]),
    Case("analyze-first-layer-outside-water", [*ANALYZE, "--first-layer", "80", "90"],
         ["--first-layer", "no water O", "overlaps the water"]),
    # --- analyze, campaign; report; status
    Case("analyze-campaign-missing", ["analyze", "-c", "{r}/none.toml"], ["none.toml", "not found"]),
    Case("report-bad-n-sigma", ["report", "-c", "{c}", "--n-sigma", "0"], ["--n-sigma", "positive"]),
    Case("report-profiles-empty", ["report", "-c", "{c}"], ["profiles.csv"],
         write("results/reference/q0/s1/profiles.csv", "")),
    Case("report-reference-missing", ["report", "-c", "{c}", "--reference", "{r}/noref"], ["--reference", "noref"]),
    Case("report-out-not-writable", ["report", "-c", "{c}", "--out", "{r}/elbench.toml/rep"], ["elbench.toml/rep"]),
    Case("status-campaign-missing", ["status", "-c", "{r}/none.toml"], ["none.toml", "not found"], stage="toml"),
    # --- init
    Case("init-unknown-template", ["init", "{r}/new", "--template", "huge"], ["quickstart, paper"], stage="toml"),
    Case("init-exists", ["init", "{r}"], ["elbench.toml", "--force"], stage="toml"),
    Case("init-under-a-file", ["init", "{r}/elbench.toml/sub"], ["elbench.toml/sub"], stage="toml"),
    # --- build into a place that cannot be written
    Case("build-systems-is-a-file", ["build", "-c", "{c}"], ["systems"], write("systems", "not a directory"),
         stage="toml"),
    Case("render-runs-is-a-file", ["render", "-c", "{c}"], ["runs"], write("runs", "not a directory"),
         stage="built"),
    # --- quickstart (its model choice is printed before the error: stdout_ok)
    Case("quickstart-dir-not-empty", ["quickstart", "{r}"], ["not empty", "--force"],
         remove("elbench.toml"), stage="built", stdout_ok=True),
    Case("quickstart-under-a-file", ["quickstart", "{r}/elbench.toml/sub"], ["elbench.toml/sub"], stage="toml",
         stdout_ok=True),
    Case("quickstart-negative-production", ["quickstart", "{r}/qs", "--production-ps", "-1"],
         ["md.production_ps", "greater than 0"], stage="toml", stdout_ok=True),
    # --- training inputs
    Case("train-no-split", ["train", "render", "{r}/nosplit", "--out", "{r}/tr"], ["train.extxyz", "set"],
         stage="toml"),
    Case("train-unknown-family", ["train", "render", "{r}/split", "--out", "{r}/tr", "--families", "schnet"],
         ["families", "schnet", "mace"], stage="split"),
    Case("train-hostile-partition", ["train", "render", "{r}/split", "--out", "{r}/tr", "--families", "dp",
                                     "--partition", "gpu;rm -rf ~"], ["--partition", "safe name"], stage="split"),
    Case("train-hostile-time", ["train", "render", "{r}/split", "--out", "{r}/tr", "--families", "dp",
                                "--time", "1:00:00\nrm -rf ~"], ["--time", "HH:MM:SS"], stage="split"),
    Case("train-run-not-rendered", ["train", "run", "{r}/split"], ["train.json", "train render"], stage="split"),
    # --- datasets and RMSE
    Case("dataset-check-missing", ["dataset", "check", "{r}/none.extxyz"], ["none.extxyz"], stage="toml"),
    Case("dataset-check-unlabelled", ["dataset", "check", "{r}/systems/q0/system.extxyz"], ["system.extxyz"],
         stage="built"),
    Case("dataset-convert-unknown-format", ["dataset", "convert", "{r}", "--format", "xyz2", "--out", "{r}/conv"],
         ["format", "xyz2", "deepmd"], stage="toml"),
    Case("dataset-import-cations-vs-charge-state", ["dataset", "import", str(DATA / "reference_small.extxyz"),
                                                    "--charge-state", "3", "--out", "{r}/imported.extxyz"],
         ["charge_state", "0 Na cations", "3"], stage="toml"),
    Case("dataset-generate-no-campaign", ["dataset", "generate", "--out", "{r}/g.extxyz", "-c", "{r}/none.toml"],
         ["none.toml", "not found"], stage="toml"),
    Case("dataset-generate-zero-frames", ["dataset", "generate", "--out", "{r}/g.extxyz", "-c", "{c}",
                                          "--frames-per-state", "0"], ["frames-per-state >= 1"], stage="built"),
    Case("dataset-label-missing-frames", ["dataset", "label", "{r}/none.extxyz", "--system", "{r}/systems/q0",
                                          "--out", "{r}/l.extxyz"], ["none.extxyz", "not found"], stage="built"),
    Case("train-curve-not-trained", ["train", "curve", "{r}/split"], ["train.json"], stage="split"),
    Case("rmse-unknown-model", ["rmse", "nosuch", str(DATA / "reference_small.extxyz")], ["nosuch", "reference"],
         stage="toml"),
    Case("rmse-dataset-missing", ["rmse", "reference", "{r}/none.extxyz"], ["none.extxyz"], stage="toml"),
]


def _fill(argv: list[str], root: Path) -> list[str]:
    return [a.replace("{c}", str(root / "elbench.toml")).replace("{r}", str(root)).replace("\\n", "\n")
            for a in argv]


def test_the_table_is_big_and_covers_every_command():
    from badinput_support import runner
    from elbench.cli.main import app
    import typer

    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    registered = set(typer.main.get_command(app).commands)
    covered = {c.argv[0] for c in CASES}
    assert registered <= covered, f"commands without a bad-input case: {sorted(registered - covered)}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case: Case, tmp_path: Path) -> None:
    root = campaign_copy(tmp_path, case.stage)
    case.setup(root)
    before = snapshot(tmp_path)
    result = invoke(*_fill(case.argv, root), env=case.env or None)
    assert_one_line_error(result, *case.needles, stdout_ok=case.stdout_ok)
    changes = diff(before, snapshot(tmp_path))
    changes["added"] = [p for p in changes["added"] if not p.endswith(".run.lock.guard")]  # flock guard, by design
    assert changes == {"added": [], "removed": [], "changed": []}, changes
    leftovers = [p for p in tmp_path.rglob("*") if re.search(r"\.tmp", p.name)]
    assert not leftovers, leftovers


@pytest.mark.parametrize("dirname", ["a&b", "c#d", "it's", "x$HOME", 'q"uote', "all &#'$\""])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "submit"])
def test_submit_from_a_directory_with_shell_characters_names_the_directory(dirname: str, dry_run: bool,
                                                                          tmp_path: Path) -> None:
    """The error names the campaign directory and its key, not the template filter ('comment') that refused it."""
    src = campaign_copy(tmp_path / "src", "rendered")
    root = tmp_path / dirname / "camp"
    root.parent.mkdir()
    src.rename(root)
    before = snapshot(tmp_path)
    result = invoke("submit", "-c", root / "elbench.toml", *(["--dry-run"] if dry_run else []))
    line = assert_one_line_error(result, "campaign directory", str(root), "move or rename")
    assert "comment" not in line
    assert diff(before, snapshot(tmp_path)) == {"added": [], "removed": [], "changed": []}


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    root = campaign_copy(tmp_path, "toml")
    edit_toml(root, append='colour = "blue"\n')
    result = invoke("--debug", "build", "-c", root / "elbench.toml")
    assert result.exit_code != 0
    assert type(result.exception).__name__ == "InputError"


@pytest.mark.parametrize("argv,needle", [
    (["build", "-c", "{c}"], "unknown key"),
    (["analyze", TRAJ, "--topology", "{r}/systems/q2/system.data", "--out", "{r}/ana"], "atoms"),
])
def test_console_script_one_line_exit_2(argv, needle, tmp_path: Path) -> None:
    root = campaign_copy(tmp_path, "analyzed")
    edit_toml(root, append='colour = "blue"\n')
    before = snapshot(root)
    proc = subprocess.run([ELBENCH, *_fill(argv, root)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = error_lines(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and not proc.stdout.strip()
    assert diff(before, snapshot(root)) == {"added": [], "removed": [], "changed": []}
    debug = subprocess.run([ELBENCH, "--debug", *_fill(argv, root)], capture_output=True, text=True, timeout=120)
    assert "Traceback" in debug.stderr


def test_trajectory_truncated_mid_frame_keeps_complete_frames(tmp_path: Path) -> None:
    """Analyse the complete frames, warn how many were dropped; exit 0 (a crashed run is still data)."""
    root = campaign_copy(tmp_path, "ran")
    traj = root / Q0 / "traj.dcd"
    full = invoke("analyze", traj, "--topology", root / "systems/q0/system.data", "--out", root / "full", "--no-plots")
    assert full.exit_code == 0, full.output
    n_full = json.loads((root / "full/summary.json").read_text())["frames"]["n_analysed"]
    size = traj.stat().st_size
    with open(traj, "r+b") as fh:
        fh.truncate(size - 1000)  # the last frame loses its tail
    cut = invoke("analyze", traj, "--topology", root / "systems/q0/system.data", "--out", root / "cut", "--no-plots")
    assert cut.exit_code == 0, cut.output
    summary = json.loads((root / "cut/summary.json").read_text())
    assert summary["frames"]["n_analysed"] == n_full - 1
    assert re.search(r"warning: .*(1 .*dropped|dropped .*1|truncated)", cut.stderr, re.I | re.S), cut.stderr
