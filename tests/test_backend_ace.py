"""Family ace through the bridge: shipped tiny model ace-tiny, 50-step NVT at n = 0 and n = 2."""

from __future__ import annotations

import pytest

from family_runs import check_family_md, small_campaign


@pytest.mark.lammps
@pytest.mark.parametrize("n", [0, 2])
def test_ace_tiny_nvt(n: int, tmp_path, tmp_path_factory) -> None:
    out = check_family_md("ace-tiny", "ace", tmp_path, small_campaign(tmp_path_factory), n=n)
    assert out["preflight"]["precision"] == "float64"
