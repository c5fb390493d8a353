"""Builder invariants, read back from the files `build_system` writes.

Every charge state of the quickstart system (and the sandwich geometry) is checked
for atom counts, density, minimum distances, σ, the type map, determinism, and
that ASE and MDAnalysis read the data files as LAMMPS would.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import ase.io
import MDAnalysis as mda
import numpy as np
import pytest
from scipy.constants import Avogadro

from elbench.build import build_system
from elbench.build.assemble import _packed, assemble_interface
from elbench.build.water import WaterRegion, pack_water
from elbench.config import SystemConfig
from elbench.errors import InputError

QUICKSTART = SystemConfig(repeats=(6, 8), layers=3, fixed_layers=1, water_thickness_A=12.0, vacuum_A=15.0)
SANDWICH = QUICKSTART.model_copy(update={"geometry": "sandwich"})
CHARGE_STATES = [0, 1, 2, 3, 4]
M_WATER = 15.999 + 2 * 1.008


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[tuple[str, int], Path]:
    """systems/q<n>/ of both geometries, built once for this module."""
    root = tmp_path_factory.mktemp("systems")
    out = {}
    for name, config in (("slab", QUICKSTART), ("sandwich", SANDWICH)):
        for n in CHARGE_STATES:
            out[(name, n)] = root / name / f"q{n}"
            build_system(config, n, out[(name, n)])
    return out


def _record(path: Path) -> dict:
    return json.loads((path / "system.json").read_text())


def _read_atomic(path: Path):
    return ase.io.read(path / "system.data", format="lammps-data", atom_style="atomic", units="metal")


def _mic_distances(a: np.ndarray, b: np.ndarray, box: np.ndarray) -> np.ndarray:
    """All a–b distances with the minimum image in all three directions (stricter than the slab's pbc)."""
    d = a[:, None, :] - b[None, :, :]
    d -= box * np.round(d / box)
    return np.sqrt((d**2).sum(axis=-1))


CASES = [(g, n) for g in ("slab", "sandwich") for n in CHARGE_STATES]


@pytest.mark.parametrize("geometry,n", CASES)
def test_counts_order_and_record(built, geometry, n):
    rec = _record(built[(geometry, n)])
    atoms = _read_atomic(built[(geometry, n)])
    n_water = 138 if geometry == "slab" else rec["counts"]["water"] + n
    assert rec["counts"] == {"metal": 144, "water": n_water - n, "cation": n, "atoms": 144 + 3 * (n_water - n) + n}
    assert len(atoms) == rec["counts"]["atoms"]
    symbols = atoms.get_chemical_symbols()
    assert symbols[:144] == ["Au"] * 144
    assert symbols[144 : 144 + 3 * (n_water - n)] == ["O", "H", "H"] * (n_water - n)
    assert symbols[len(symbols) - n :] == ["Na"] * n if n else True
    z_metal = atoms.positions[:144, 2]
    assert np.all(np.diff(z_metal) >= -1e-6), "metal atoms must run bottom layer → top layer"
    assert rec["type_map"] == ["Au", "O", "H", "Na"]
    assert rec["n_cations"] == n and rec["seed"] == QUICKSTART.seed and rec["geometry"] == geometry
    assert rec["n_fixed_atoms"] == 48 and rec["top_layer_ids"] == [97, 144]
    assert rec["metal_layers_z_A"] == pytest.approx(sorted(set(np.round(z_metal, 6))), abs=1e-6)
    assert rec["cation_ids"] == list(range(rec["counts"]["atoms"] - n + 1, rec["counts"]["atoms"] + 1))
    assert rec["provenance"]["elbench_version"]


def test_quickstart_size_is_about_140_waters_and_560_atoms(built):
    rec = _record(built[("slab", 0)])
    assert 130 <= rec["counts"]["water"] <= 150
    assert 530 <= rec["counts"]["atoms"] <= 590


@pytest.mark.parametrize("geometry,n", CASES)
def test_water_density_within_two_percent(built, geometry, n):
    rec = _record(built[(geometry, n)])
    atoms = _read_atomic(built[(geometry, n)])
    z_lo, z_hi = rec["water_region_z_A"]
    lx, ly = rec["cell_A"][0][0], rec["cell_A"][1][1]
    volume = lx * ly * (z_hi - z_lo)
    o_z = atoms.positions[np.array(atoms.get_chemical_symbols()) == "O", 2]
    assert np.all((o_z >= z_lo - 1e-6) & (o_z <= z_hi + 1e-6)), "every O inside the water region"
    # the water region is metal_water_gap_A above the top metal layer and water_thickness_A thick
    assert z_lo == pytest.approx(rec["metal_layers_z_A"][-1] + 2.6)
    assert z_hi - z_lo == pytest.approx(12.0)
    # each cation takes the volume of the water it replaced
    free_volume = volume * (1 - n / (len(o_z) + n))
    rho = len(o_z) * M_WATER / Avogadro / (free_volume * 1e-24)
    assert rho == pytest.approx(0.997, rel=0.02)
    assert rec["water_density_g_cm3"] == pytest.approx(rho, rel=1e-4)
    assert rec["water_region_volume_A3"] == pytest.approx(volume)


@pytest.mark.parametrize("geometry,n", CASES)
def test_minimum_distances(built, geometry, n):
    rec = _record(built[(geometry, n)])
    atoms = _read_atomic(built[(geometry, n)])
    box = np.diag(np.array(rec["cell_A"]))
    pos = atoms.positions
    sym = np.array(atoms.get_chemical_symbols())
    metal, water = pos[sym == "Au"], pos[np.isin(sym, ["O", "H"])]
    oxygens = pos[sym == "O"]
    d_oo = _mic_distances(oxygens, oxygens, box)
    np.fill_diagonal(d_oo, np.inf)
    assert d_oo.min() >= 2.5
    assert _mic_distances(water, metal, box).min() >= 2.0
    if n:
        ions = np.flatnonzero(sym == "Na")
        d = _mic_distances(pos[ions], pos, box)
        d[np.arange(n), ions] = np.inf
        assert d.min() >= 2.5
    # bonded geometry of every water is SPC/Fw's
    w = water.reshape(-1, 3, 3)
    oh = w[:, 1:, :] - w[:, :1, :]
    oh -= box * np.round(oh / box)
    assert np.linalg.norm(oh, axis=-1) == pytest.approx(1.012, abs=1e-6)
    cos = np.einsum("ij,ij->i", oh[:, 0], oh[:, 1]) / 1.012**2
    assert np.degrees(np.arccos(cos)) == pytest.approx(113.24, abs=1e-4)


def test_sigma_by_hand_and_for_every_charge_state(built):
    a = 4.078 / math.sqrt(2.0)  # Au–Au nearest-neighbour distance
    area = (6 * a) * (8 * a * math.sqrt(3.0) / 2.0)  # 345.65 Å^2
    # n = 1: -1.602176634e-19 C / 345.65e-16 cm^2 = -4.6353e-6 C/cm^2
    assert _record(built[("slab", 1)])["sigma_uC_cm2"] == pytest.approx(-4.6353, abs=2e-4)
    for n in CHARGE_STATES:
        rec = _record(built[("slab", n)])
        assert rec["area_A2"] == pytest.approx(area)
        assert rec["sigma_uC_cm2"] == pytest.approx(-n * 1.602176634e-19 / (area * 1e-16) * 1e6, rel=1e-12)


def test_charge_states_differ_only_by_cations(built):
    """q<n> reuses q0's waters minus the n replaced ones; cations of q3 are the first 3 of q4."""
    full = _read_atomic(built[("slab", 0)]).positions
    waters0 = {tuple(np.round(p, 5)) for p in full[144::3]}
    for n in CHARGE_STATES[1:]:
        pos = _read_atomic(built[("slab", n)]).positions
        waters = {tuple(np.round(p, 5)) for p in pos[144 : len(pos) - n : 3]}
        assert waters <= waters0 and len(waters0 - waters) == n
    q3 = _read_atomic(built[("slab", 3)]).positions[-3:]
    q4 = _read_atomic(built[("slab", 4)]).positions[-4:]
    assert q3 == pytest.approx(q4[:3])


def test_cations_start_in_the_middle_of_the_water(built):
    rec = _record(built[("slab", 4)])
    z_lo, z_hi = rec["water_region_z_A"]
    z = _read_atomic(built[("slab", 4)]).positions[-4:, 2]
    assert np.all((z >= z_lo + 3.0 - 1e-9) & (z <= z_hi - 3.0 + 1e-9))


def test_slab_geometry_cell(built):
    rec = _record(built[("slab", 0)])
    z_top = rec["metal_layers_z_A"][-1]
    assert rec["cell_A"][2][2] == pytest.approx(z_top + 2.6 + 12.0 + 15.0)
    assert rec["pbc"] == [True, True, False]
    assert rec["cell_A"][0][0] == pytest.approx(6 * 4.078 / math.sqrt(2))


def test_sandwich_gaps_are_equal(built):
    rec = _record(built[("sandwich", 2)])
    z = rec["metal_layers_z_A"]
    lz = rec["cell_A"][2][2]
    z_lo, z_hi = rec["water_region_z_A"]
    assert z_lo - z[-1] == pytest.approx(2.6)
    assert (z[0] + lz) - z_hi == pytest.approx(2.6), "water top to the periodic image of the bottom layer"
    assert lz == pytest.approx(z[-1] - z[0] + 2 * 2.6 + 12.0)
    assert rec["pbc"] == [True, True, True]
    pos = _read_atomic(built[("sandwich", 2)]).positions
    assert np.all((pos[:, 2] >= 0) & (pos[:, 2] < lz))


def test_type_map_header_and_masses(built):
    for name in ("system.data", "system_full.data"):
        lines = (built[("slab", 0)] / name).read_text().splitlines()
        assert lines[0] == "# elbench type_map: Au O H Na"
        start = lines.index("Masses") + 2
        masses = lines[start : start + 4]
        assert [m.split("#")[1].strip() for m in masses] == ["Au", "O", "H", "Na"], "all four types even at n = 0"
        assert [int(m.split()[0]) for m in masses] == [1, 2, 3, 4]
        assert float(masses[0].split()[1]) == pytest.approx(196.967, abs=1e-3)
    assert "Atoms # atomic" in (built[("slab", 0)] / "system.data").read_text()


def test_readers_agree_with_extxyz(built):
    path = built[("slab", 3)]
    ref = ase.io.read(path / "system.extxyz")
    assert ref.info["charge_state"] == 3 and ref.info["type_map"] == "Au O H Na"
    atomic = _read_atomic(path)
    assert atomic.get_chemical_symbols() == ref.get_chemical_symbols()
    assert atomic.positions == pytest.approx(ref.positions, abs=1e-6)
    assert atomic.cell.lengths() == pytest.approx(ref.cell.lengths(), abs=1e-6)
    u = mda.Universe(str(path / "system.data"), atom_style="id type x y z")
    assert u.atoms.n_atoms == len(ref)
    assert list(u.atoms.types[:1]) == ["1"] and list(u.atoms.types[-3:]) == ["4"] * 3
    assert u.atoms.positions == pytest.approx(ref.positions, abs=1e-4)
    full = mda.Universe(str(path / "system_full.data"))
    assert full.atoms.n_atoms == len(ref)
    assert len(full.bonds) == 2 * 135 and len(full.angles) == 135
    assert full.atoms.charges.sum() == pytest.approx(0.0, abs=1e-5)
    top = full.atoms[96:144].charges
    assert top == pytest.approx(np.full(48, -3 / 48), abs=1e-6)
    assert full.atoms[144].charge == pytest.approx(-0.82) and full.atoms[145].charge == pytest.approx(0.41)
    assert full.atoms[-1].charge == pytest.approx(1.0)
    assert len(set(full.atoms.resids[:144])) == 1 and full.atoms[144].resid == full.atoms[146].resid
    bond = full.bonds[0]
    assert sorted(bond.atoms.types) == ["2", "3"]


def _rebuild(config: SystemConfig, n: int, out: Path) -> None:
    _packed.cache_clear()  # pack again from the seed, not from the cache
    build_system(config, n, out)


def test_deterministic_for_a_seed_and_different_for_another(built, tmp_path):
    _rebuild(QUICKSTART, 2, tmp_path / "again")
    for name in ("system.data", "system_full.data", "system.extxyz"):
        assert (tmp_path / "again" / name).read_bytes() == (built[("slab", 2)] / name).read_bytes()
    _rebuild(QUICKSTART.model_copy(update={"seed": 7}), 2, tmp_path / "seed7")
    assert (tmp_path / "seed7" / "system.data").read_bytes() != (built[("slab", 2)] / "system.data").read_bytes()
    assert _record(tmp_path / "seed7")["seed"] == 7


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    from elbench.build import system_files

    build_system(QUICKSTART, 1, tmp_path / "q1")
    before = (tmp_path / "q1" / "system.data").read_bytes()

    def broken(interface, record, directory):
        (directory / "system.data").write_text("partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(system_files, "_write_files", broken)
    with pytest.raises(InputError, match="No space left"):
        build_system(QUICKSTART, 1, tmp_path / "q1")
    with pytest.raises(InputError):
        build_system(QUICKSTART, 2, tmp_path / "q2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q1"], "no temporary or half-built directory"
    assert (tmp_path / "q1" / "system.data").read_bytes() == before


def test_too_many_cations_says_how_many_fit():
    with pytest.raises(InputError, match=r"only \d+ fit") as err:
        assemble_interface(QUICKSTART, 30)
    assert err.value.key == "system.charge_states"


def test_too_dense_water_is_an_input_error():
    with pytest.raises(InputError, match="packing fraction") as err:
        assemble_interface(QUICKSTART.model_copy(update={"rho_water_g_cm3": 1.4}), 0)
    assert err.value.key == "system.rho_water_g_cm3"


def test_water_region_too_small_for_the_density():
    config = QUICKSTART.model_copy(update={"repeats": (1, 2), "water_thickness_A": 3.5})
    with pytest.raises(InputError, match="misses the target density") as err:
        assemble_interface(config, 0)
    assert err.value.key == "system.water_thickness_A"


def test_packing_that_runs_out_of_trials_says_how_far_it_got():
    region = WaterRegion(10.0, 10.0, 0.0, 10.0)
    with pytest.raises(InputError, match=r"could only pack \d+ of 30 waters"):
        pack_water(region, 30.0, 30, np.zeros((0, 3)), np.random.default_rng(0), batch=8, max_trials_per_water=1)
