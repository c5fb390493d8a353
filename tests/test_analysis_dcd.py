"""Direct chunked DCD reading (elbench.analysis.dcd): same numbers as MDAnalysis, refusal of other layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis_cases import Z_TOP, grid_xy, slab, write_case
from elbench.analysis.dcd import DcdFrames
from elbench.analysis.interface import InterfaceAnalysis
from elbench.analysis.readers import open_trajectory
from elbench.cli.main import app

DATA = Path(__file__).parent / "data" / "analysis"
LMP_DCD = (DATA / "reference_q1.dcd", DATA / "reference_q1.data")  # written by the lmp binary (dump dcd)


def _synthetic(tmp_path, frames=30):
    metal, lx, ly = slab()
    rng = np.random.default_rng(3)
    o = [np.column_stack([grid_xy(20, lx, ly, rng), Z_TOP + rng.uniform(2.5, 12, 20)]) for _ in range(frames)]
    d = [rng.normal(size=(20, 3)) for _ in range(frames)]
    data, traj, _ = write_case(tmp_path, o, d, metal=metal, lx=lx, ly=ly)
    return traj, data


@pytest.mark.parametrize("source", ["lmp", "synthetic"])
@pytest.mark.parametrize("lo,hi,step", [(0, 64, 1), (3, 17, 4), (5, 6, 1)])
def test_direct_reading_equals_mdanalysis(source, lo, hi, step, tmp_path):
    traj, data = LMP_DCD if source == "lmp" else _synthetic(tmp_path)
    reader = open_trajectory(traj, data).universe.trajectory
    frames = DcdFrames.from_reader(reader, 64)
    assert frames is not None, "a LAMMPS/MDAnalysis-written DCD must be read directly"
    hi = min(hi, reader.n_frames)
    got = frames.block(lo, hi, step)
    want = reader._file.readframes(lo, hi, step, order="fac")
    for k, c in enumerate((got.x, got.y, got.z)):
        np.testing.assert_array_equal(c, want.xyz[:, :, k])
    np.testing.assert_array_equal(got.unitcell, want.unitcell)
    frames.close()


def test_analysis_reads_directly_and_equals_frame_loop():
    traj, data = LMP_DCD
    opened = open_trajectory(traj, data)
    fast = InterfaceAnalysis(opened.universe.atoms, type_map=opened.data.type_map, chunk_frames=8).run()
    loop = InterfaceAnalysis(opened.universe.atoms, type_map=opened.data.type_map, chunk_frames=8).run(verbose=True)
    assert fast.results.info["reader"] == "DCD chunks (direct)"
    assert loop.results.info["reader"] == "frame loop"
    for key, col in fast.results.profiles["top"].items():
        np.testing.assert_array_equal(col, loop.results.profiles["top"][key], err_msg=key)


def test_frames_not_laid_out_as_the_header_says_are_refused(tmp_path):
    """A later frame whose record markers are not where the header puts them is refused, not misread."""
    traj, data = _synthetic(tmp_path)
    reader = open_trajectory(traj, data).universe.trajectory
    header, size = reader._file._header_size, reader._file._framesize
    raw = bytearray(traj.read_bytes())
    raw[header + 7 * size : header + 7 * size + 4] = (4711).to_bytes(4, "little")  # frame 7's cell record length
    bad = tmp_path / "bad.dcd"
    bad.write_bytes(bytes(raw))
    frames = DcdFrames.from_reader(open_trajectory(bad, data).universe.trajectory, 8)
    assert frames is not None  # frame 0 is fine
    frames.block(0, 7, 1)
    with pytest.raises(ValueError, match="layout"):
        frames.block(4, 12, 1)
    frames.close()
    # the analysis leaves that chunk to MDAnalysis, which reports the corruption: one line, exit code 2
    result = CliRunner().invoke(app, ["analyze", str(bad), "--topology", str(data), "--out", str(tmp_path / "out"), "--no-plots"])
    assert result.exit_code == 2, result.output
    assert "corrupt" in result.output and "bad.dcd" in result.output
    assert not (tmp_path / "out" / "profiles.csv").exists()
