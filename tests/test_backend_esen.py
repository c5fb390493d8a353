"""eSEN (fairchem, task oc25) through the bridge: tiny random-weight checkpoint, 50-step NVT (esen env)."""

from __future__ import annotations

import pytest

from family_runs import check_family_md


@pytest.mark.lammps
@pytest.mark.parametrize("n", [0, 2])
def test_esen_tiny_nvt(n: int, tmp_path) -> None:
    out = check_family_md("esen-tiny", "esen", tmp_path, n=n)
    assert out["preflight"]["precision"] == "float64"
