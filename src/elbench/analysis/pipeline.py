"""One trajectory → results directory: open, run InterfaceAnalysis, write files.

``analyze_trajectory`` is what ``elbench analyze TRAJ --topology DATA --out DIR``
runs; campaign mode calls it once per finished run.
"""

from __future__ import annotations

import time
import warnings as warnings_module
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from elbench import __version__
from elbench.analysis.base import GEOMETRIES, Roles
from elbench.layer_window import WINDOW_ALLOWED, window_problem
from elbench.analysis.interface import InterfaceAnalysis
from elbench.analysis.plots import density_figure, orientation_figure
from elbench.analysis.readers import open_trajectory
from elbench.analysis.surface import metal_planes
from elbench.analysis.writers import profiles_csv_text, table_csv_text, write_outputs
from elbench.errors import InputError
from elbench.io import check_writable_dir
from elbench.provenance import provenance


@dataclass
class AnalysisOptions:
    metal: str | None = None
    cation: str | None = None
    dz_A: float = 0.1
    blocks: int = 5
    start: int | None = None
    stop: int | None = None
    step: int | None = None
    geometry: str = "auto"
    first_layer_max_A: float | None = None
    first_layer_A: tuple[float, float] | None = None  # user window MIN <= d < MAX (Å); None: automatic bound
    first_layer_key: str = "--first-layer"  # where the window came from, for error messages
    coordination_cutoff_A: float | None = None
    format: str | None = None
    dt_ps: float | None = None
    symmetrize: bool = True
    plots: bool = True
    explicit: set = field(default_factory=set)  # option names the user gave (campaign defaults fill the rest)


@dataclass
class AnalysisOutcome:
    out_dir: Path
    files: list[Path]
    summary: dict
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def detect_geometry(universe, roles: Roles) -> str:
    """``sandwich`` when water touches both faces of the slab in the first frame, else ``slab``."""
    ts = universe.trajectory.ts
    lz = np.array([ts.dimensions[2]])
    planes = metal_planes(ts.positions[roles.metal, 2][None], lz)
    z_o = ts.positions[roles.oxygen, 2]
    above = np.mod(z_o - planes.z_top[0], lz[0])
    below = np.mod(planes.z_bottom[0] - z_o, lz[0])
    n_above = np.count_nonzero(above < 6.0)
    n_below = np.count_nonzero(below < 6.0)
    return "sandwich" if n_below > 0 and n_below >= 0.3 * max(n_above, 1) else "slab"


def analyze_trajectory(trajectory: Path, topology: Path, out_dir: Path, options: AnalysisOptions) -> AnalysisOutcome:
    """Analyse one trajectory; write profiles.csv, summary.json and figures into ``out_dir``."""
    t0 = time.perf_counter()
    if options.first_layer_A is not None:
        problem = window_problem(options.first_layer_A)
        if problem:
            raise InputError(f"first-layer window: {problem}", key=options.first_layer_key, allowed=WINDOW_ALLOWED)
        if options.first_layer_max_A is not None:
            raise InputError("give a first-layer window or --first-layer-max, not both", key=options.first_layer_key)
    check_writable_dir(out_dir, key="--out")
    opened = open_trajectory(trajectory, topology, fmt=options.format, dt_ps=options.dt_ps)
    universe = opened.universe
    type_map = opened.data.type_map
    geometry = options.geometry
    if geometry not in (*GEOMETRIES, "auto"):
        raise InputError(f"unknown geometry '{geometry}'", key="--geometry", allowed="auto, slab, sandwich")
    roles = Roles.from_universe(universe, options.metal, options.cation, type_map)
    if geometry == "auto":
        geometry = detect_geometry(universe, roles)
    stop = opened.n_frames if options.stop is None else min(options.stop, opened.n_frames)
    analysis = InterfaceAnalysis(
        universe.atoms,
        metal=roles.metal_element,
        cation=roles.cation_element,
        type_map=type_map,
        dz_A=options.dz_A,
        n_blocks=options.blocks,
        geometry=geometry,
        first_layer_max_A=options.first_layer_max_A,
        first_layer_A=options.first_layer_A,
        coordination_cutoff_A=options.coordination_cutoff_A,
    )
    with warnings_module.catch_warnings():
        warnings_module.filterwarnings("ignore", message="Reader has no dt information")
        warnings_module.filterwarnings("ignore", message="DCDReader currently makes independent timesteps")
        t_run = time.perf_counter()
        analysis.run(start=options.start, stop=stop, step=options.step)
        run_seconds = time.perf_counter() - t_run
    _check_window(analysis, options)
    res = analysis.results
    warnings = list(opened.warnings) + list(res.warnings)
    summary = {
        "elbench_version": __version__,
        "kind": "elbench analyze",
        "trajectory": {
            "path": str(opened.trajectory),
            "format": opened.format,
            "n_frames_complete": opened.n_frames,
            "dropped_partial_frames": opened.dropped_partial_frames,
        },
        "topology": {
            "path": str(opened.data.path),
            "atom_style": opened.data.atom_style,
            "type_map": type_map,
            "type_map_source": opened.data.type_map_source,
        },
        "frames": {
            "start": options.start or 0,
            "stop": stop,
            "step": options.step or 1,
            "n_analysed": res.info["n_frames_analysed"],
        },
        "settings": {
            "dz_A": options.dz_A,
            "blocks": options.blocks,
            "geometry": geometry,
            "first_layer_max_A": options.first_layer_max_A,
            "first_layer_A": None if options.first_layer_A is None else [float(x) for x in options.first_layer_A],
            "first_layer_source": "user" if options.first_layer_A is not None or options.first_layer_max_A is not None else "auto",
            "symmetrized": geometry == "sandwich" and options.symmetrize,
        },
        "profiles_interface": _main_interface(geometry, options.symmetrize),
        "info": res.info,
        "interfaces": res.summary,
        "warnings": warnings,
        "provenance": provenance(inputs={"trajectory": opened.trajectory, "topology": opened.data.path}),
    }
    texts = _profile_texts(analysis, summary, geometry, options.symmetrize)
    figures = {}
    if options.plots:
        cols = res.profiles[summary["profiles_interface"]]
        title = f"{Path(trajectory).name}"
        figures = {
            "density.png": density_figure(cols, roles.cation_element, title),
            "orientation.png": orientation_figure(cols, title),
        }
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    summary["analysis_seconds"] = round(run_seconds, 3)
    summary["frames_per_second"] = round(res.info["n_frames_analysed"] / max(run_seconds, 1e-9), 1)
    files = write_outputs(Path(out_dir), texts, figures, summary)
    return AnalysisOutcome(Path(out_dir), files, summary, warnings, summary["seconds"])


def _check_window(analysis: InterfaceAnalysis, options: AnalysisOptions) -> None:
    """A user window must be valid and hold water O somewhere in the trajectory (before any file is written)."""
    if options.first_layer_A is None:
        return
    lo, hi = options.first_layer_A
    if not analysis.window_water_count() > 0:
        raise InputError(
            f"first-layer window [{lo:g}, {hi:g}] Å holds no water O in any analysed frame (outside the water slab)",
            key=options.first_layer_key,
            allowed=f"{WINDOW_ALLOWED} that overlaps the water",
        )


def _main_interface(geometry: str, symmetrize: bool) -> str:
    if geometry == "sandwich" and symmetrize:
        return "symmetrized"
    return "top"


def _profile_texts(analysis: InterfaceAnalysis, summary: dict, geometry: str, symmetrize: bool) -> dict[str, str]:
    cation = analysis.roles.cation_element
    prov = summary["provenance"]["inputs"]
    common = [
        f"elbench {__version__} analyze: interfacial profiles (created {summary['provenance']['created_utc']})",
        f"trajectory: {prov['trajectory']['path']} sha256 {prov['trajectory']['sha256']}",
        f"topology: {prov['topology']['path']} sha256 {prov['topology']['sha256']}",
        f"frames analysed: {summary['frames']['n_analysed']} (start {summary['frames']['start']}, "
        f"stop {summary['frames']['stop']}, step {summary['frames']['step']}); blocks: {analysis.n_blocks}; "
        f"dz_A: {analysis.dz_A}",
        "z_A: distance from the mean z of the topmost metal layer (per frame), positive into the electrolyte; "
        "*_err: block standard errors",
    ]
    texts = {}
    main = _main_interface(geometry, symmetrize)
    names = {main: "profiles.csv"}
    if geometry == "sandwich":
        names |= {"top": "profiles_top.csv", "bottom": "profiles_bottom.csv"}
        if main != "top":
            names["top"] = "profiles_top.csv"
    for name, filename in names.items():
        header = [*common, f"interface: {name} (geometry {geometry})"]
        texts[filename] = profiles_csv_text(analysis.results.profiles[name], cation, header)
    # total dipole and angular distributions (analysis/dipole.py) of the main interface
    notes = {
        "total_dipole.csv": "per-frame total dipole M = sum of cos theta over the waters / lateral area (nm^-2); "
        "p_*_nm2: probability density of M (first layer; slab = this interface's side of the water)",
        "angles_dipole.csv": "P(cos theta | d) of the water dipole (per unit cos theta); count: waters over all frames",
        "angles_oh.csv": "P(cos theta | d) of the O-H bonds at their O's distance (per unit cos theta); count: bonds over all frames",
        "angles_layers.csv": "P(cos theta) per layer (first layer; second: bound to bound + 3 A; bulk: to the water's middle), "
        "see summary.json angle_layers_A",
    }
    for filename, table in analysis.results.tables.get(main, {}).items():
        header = [*common[:4], f"interface: {main} (geometry {geometry})", notes.get(filename, "")]
        texts[filename] = table_csv_text(table, header)
    return texts
