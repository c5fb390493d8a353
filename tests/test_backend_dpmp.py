"""Family dp-mp through the bridge: shipped tiny model dpa3-tiny, 50-step NVT at n = 0 and n = 2."""

from __future__ import annotations

import pytest

from family_runs import check_family_md


@pytest.mark.lammps
@pytest.mark.parametrize("n", [0, 2])
def test_dpmp_tiny_nvt(n: int, tmp_path) -> None:
    out = check_family_md("dpa3-tiny", "dp-mp", tmp_path, n=n)
    assert out["preflight"]["precision"] == "float64"
