"""elbench dataset: frame validation, unit checks, splits, format round trips, import, CLI bad input."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import read, write
from typer.testing import CliRunner

from elbench.cli.main import app
from elbench.dataset import convert, splits
from elbench.dataset.frames import (CHARGE_KEY, ENERGY_KEY, FORCES_KEY, STRESS_KEY, frame_stress, read_frames,
                                    validate_frames)
from elbench.dataset.importers import import_file
from elbench.dataset.units import BOHR_A, HARTREE_EV, check_plausible_units
from elbench.errors import InputError

from pathlib import Path

DATA = Path(__file__).parent / "data" / "reference_small.extxyz"
runner = CliRunner()


@pytest.fixture(scope="module")
def frames():
    return read_frames(DATA)


def subset(frames, per_state=4):
    out, seen = [], {}
    for a in frames:
        n = a.info[CHARGE_KEY]
        if seen.get(n, 0) < per_state:
            out.append(a)
            seen[n] = seen.get(n, 0) + 1
    return out


def test_small_dataset_is_valid_and_plausible(frames):
    info = validate_frames(frames, DATA)
    assert info.type_map == ["Au", "O", "H", "Na"]
    assert info.per_charge_state == {0: 20, 1: 20, 2: 20, 3: 20, 4: 20}
    assert info.has_stress
    record = check_plausible_units(frames, DATA)
    assert 0.25 < record["h_force_rms_eV_A"] < 5
    assert 0.15 < record["energy_fluctuation_ratio"] < 8
    # charge state = cation count, and the metal carries -n e (checked in the labeller's data file)
    for a in frames:
        assert a.info[CHARGE_KEY] == a.get_chemical_symbols().count("Na")


def _assert_same(a_frames, b_frames, stress=True):
    assert len(a_frames) == len(b_frames)
    for a, b in zip(a_frames, b_frames):
        assert a.get_chemical_symbols() == b.get_chemical_symbols()
        assert abs(a.info[ENERGY_KEY] - b.info[ENERGY_KEY]) <= 1e-10
        assert np.max(np.abs(a.arrays[FORCES_KEY] - b.arrays[FORCES_KEY])) <= 1e-10
        assert np.max(np.abs(a.positions - b.positions)) <= 1e-10
        assert np.max(np.abs(np.asarray(a.cell) - np.asarray(b.cell))) <= 1e-10
        assert a.info[CHARGE_KEY] == b.info[CHARGE_KEY]
        if stress:
            assert np.max(np.abs(frame_stress(a) - frame_stress(b))) <= 1e-10


@pytest.mark.parametrize("fmt", convert.FORMATS)
def test_round_trip_each_format(frames, fmt, tmp_path):
    """extxyz -> family format -> extxyz keeps energies, forces (and stress where the format has it) to 1e-10."""
    sub = subset(frames, 3)
    path = convert.write_format(fmt, sub, tmp_path / "train", ["Au", "O", "H", "Na"])
    back = convert.read_format(fmt, path, "Na")
    if fmt == "deepmd":  # one system per atom ordering: frames come back grouped by charge state
        back = sorted(back, key=lambda a: a.info[CHARGE_KEY])
        sub = sorted(sub, key=lambda a: a.info[CHARGE_KEY])
    _assert_same(sub, back, stress=fmt != "pacemaker")
    # and back to extxyz on disk
    from elbench.dataset.frames import write_frames

    write_frames(tmp_path / "again.extxyz", back)
    _assert_same(sub, read_frames(tmp_path / "again.extxyz"), stress=fmt != "pacemaker")


def test_deepmd_layout(frames, tmp_path):
    sub = subset(frames, 2)
    dirs = convert.write_deepmd(sub, tmp_path, ["Au", "O", "H", "Na"])
    assert len(dirs) == 5  # one system per charge state (different atom counts)
    d = dirs[0]
    assert (d / "type_map.raw").read_text().split() == ["Au", "O", "H", "Na"]
    types = [int(t) for t in (d / "type.raw").read_text().split()]
    assert types[0] == 0 and set(types) <= {0, 1, 2, 3}
    for name, shape in (("coord", (2, 3 * len(types))), ("force", (2, 3 * len(types))), ("box", (2, 9)),
                        ("virial", (2, 9)), ("energy", (2,))):
        arr = np.load(d / "set.000" / f"{name}.npy")
        assert arr.shape == shape and arr.dtype == np.float64
    # deepmd's virial convention: virial = -stress * volume
    a = sub[0]
    assert np.allclose(np.load(d / "set.000" / "virial.npy")[0], (-frame_stress(a) * a.get_volume()).ravel(), atol=1e-12)


def test_split_determinism_and_stratification(frames):
    s1 = splits.split_indices(frames, seed=7)
    s2 = splits.split_indices(frames, seed=7)
    s3 = splits.split_indices(frames, seed=8)
    assert s1 == s2
    assert s1 != s3
    for n, parts in s1.items():
        assert (len(parts["train"]), len(parts["valid"]), len(parts["test"])) == (16, 2, 2)
        all_idx = parts["train"] + parts["valid"] + parts["test"]
        assert len(set(all_idx)) == 20 and all(frames[i].info[CHARGE_KEY] == n for i in all_idx)
    mixed_test = splits.members(s1, "mixed", "test")
    assert mixed_test == sorted(i for n in s1 for i in s1[n]["test"])
    assert splits.members(s1, "q4", "test") == s1[4]["test"]


def test_write_splits_files(frames, tmp_path):
    rec = splits.write_splits(frames, tmp_path, seed=3)
    assert set(rec["sets"]) == {"mixed", "q0", "q1", "q2", "q3", "q4"}
    assert len(read_frames(tmp_path / "mixed" / "train.extxyz")) == 80
    q4 = read_frames(tmp_path / "q4" / "test.extxyz")
    assert len(q4) == 2 and all(a.info[CHARGE_KEY] == 4 for a in q4)


def test_empty_split_is_refused(frames):
    two = [a for a in frames if a.info[CHARGE_KEY] == 0][:2]
    with pytest.raises(InputError, match="empty split"):
        splits.split_indices(two, seed=1)
    with pytest.raises(InputError, match="fractions"):
        splits.split_indices(frames, seed=1, fractions=(0.5, 0.1, 0.1))


def test_unlabelled_and_mixed_elements_are_refused(frames):
    a = frames[0].copy()
    del a.info[ENERGY_KEY]
    with pytest.raises(InputError, match="unlabelled"):
        validate_frames([a])
    b = frames[0].copy()
    b.set_chemical_symbols(["Ag" if s == "Au" else s for s in b.get_chemical_symbols()])
    with pytest.raises(InputError, match="mix element sets"):
        validate_frames([frames[0], b])
    c = frames[25].copy()  # a q1 frame that claims q3
    c.info[CHARGE_KEY] = 3
    with pytest.raises(InputError, match="declares charge_state=3 but has 1 Na"):
        validate_frames([c])


def _scaled(frames, e=1.0, f=1.0):
    out = []
    for a in frames:
        b = a.copy()
        b.info[ENERGY_KEY] = a.info[ENERGY_KEY] * e
        b.arrays[FORCES_KEY] = a.arrays[FORCES_KEY] * f
        out.append(b)
    return out


def test_unit_mistakes_on_decorrelated_frames_are_detected(frames):
    # forces in Hartree/bohr read as eV/A
    with pytest.raises(InputError, match="Hartree/bohr"):
        check_plausible_units(_scaled(frames, f=BOHR_A / HARTREE_EV))
    # energies in Hartree read as eV
    with pytest.raises(InputError, match="Hartree"):
        check_plausible_units(_scaled(frames, e=1.0 / HARTREE_EV))
    # kcal/mol/A forces
    with pytest.raises(InputError, match="kcal/mol"):
        check_plausible_units(_scaled(frames, f=23.06))


def _write_calc_extxyz(path, frames, e=1.0, f=1.0):
    from ase.calculators.singlepoint import SinglePointCalculator

    out = []
    for a in frames:
        b = a.copy()
        b.info = {}
        for key in (FORCES_KEY,):
            del b.arrays[key]
        b.calc = SinglePointCalculator(b, energy=a.info[ENERGY_KEY] * e, forces=a.arrays[FORCES_KEY] * f)
        out.append(b)
    write(path, out, format="extxyz")


def test_import_extxyz_with_calculator_labels_and_units(frames, tmp_path):
    src = tmp_path / "dft.extxyz"
    sub = [a for a in frames if a.info[CHARGE_KEY] == 2][:5]
    _write_calc_extxyz(src, sub, e=1.0 / HARTREE_EV, f=BOHR_A / HARTREE_EV)
    got = import_file(src, energy_unit="Hartree", force_unit="Hartree/bohr")
    assert [a.info[CHARGE_KEY] for a in got] == [2] * 5
    for a, b in zip(sub, got):
        assert b.info[ENERGY_KEY] == pytest.approx(a.info[ENERGY_KEY], rel=1e-12)
        # the source file holds 8 decimals of Hartree/bohr (5e-7 eV/A)
        assert np.allclose(b.arrays[FORCES_KEY], a.arrays[FORCES_KEY], atol=1e-6)
    with pytest.raises(InputError, match="has 2 Na cations but charge state 3 was declared"):
        import_file(src, charge_state=3)


def test_import_vasp_outcar_through_ase(tmp_path):
    """A real VASP OUTCAR parsed by ASE: a tiny water molecule in a box (ASE's own test fixture when present)."""
    import ase

    candidates = list(Path(ase.__file__).parent.glob("test/**/OUTCAR*"))
    if not candidates:
        pytest.fail("ASE ships no OUTCAR fixture in this version; add one to tests/data")  # pragma: no cover
    # an OUTCAR of something that is not an interface must be refused with a clear message
    with pytest.raises(InputError):
        import_file(candidates[0], fmt="vasp-out")


def test_cli_bad_input_exit_2(frames, tmp_path):
    sub = [a.copy() for a in frames[:3]]
    for a in sub:
        del a.arrays[FORCES_KEY]
    bad = tmp_path / "unlabelled.extxyz"
    write(bad, sub, format="extxyz")
    r = runner.invoke(app, ["dataset", "check", str(bad)])
    assert r.exit_code == 2 and "unlabelled" in r.output
    r = runner.invoke(app, ["dataset", "split", str(DATA), "--out", str(tmp_path / "s"), "--train", "0.9",
                            "--valid", "0.1", "--test", "0.1"])
    assert r.exit_code == 2 and "fractions" in r.output
    dft = tmp_path / "dft.extxyz"
    _write_calc_extxyz(dft, [a for a in frames if a.info[CHARGE_KEY] == 1][:4])
    r = runner.invoke(app, ["dataset", "import", str(dft), "--out", str(tmp_path / "x.extxyz"), "--charge-state", "0"])
    assert r.exit_code == 2 and "charge state 0 was declared" in r.output
    assert not (tmp_path / "x.extxyz").exists()
    r = runner.invoke(app, ["dataset", "import", str(dft), "--out", str(tmp_path / "y.extxyz"), "--force-unit", "N"])
    assert r.exit_code == 2 and "eV/bohr" in r.output


def test_cli_split_and_convert(tmp_path):
    r = runner.invoke(app, ["dataset", "split", str(DATA), "--out", str(tmp_path / "s"), "--seed", "5"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["dataset", "convert", str(tmp_path / "s"), "--format", "deepmd", "--set", "q4",
                            "--out", str(tmp_path / "dp")])
    assert r.exit_code == 0, r.output
    back = convert.read_deepmd(tmp_path / "dp" / "train")
    assert len(back) == 16 and {a.info[CHARGE_KEY] for a in back} == {4}


def test_frozen_atoms_carry_real_forces(frames):
    """Labels are the model's forces on every atom; the MD's setforce on the fixed layer must not leak in."""
    for a in frames[:5]:
        bottom = np.abs(a.arrays[FORCES_KEY][:16])
        assert bottom.max() > 1e-3


@pytest.mark.lammps
def test_force_unit_slip_on_consecutive_frames_is_detected(tmp_path):
    """eV/bohr read as eV/Å is only a factor 1.89: caught by the work-energy check on close frames (real MD)."""
    import shutil

    from elbench.build import build_system
    from elbench.config import load_campaign
    from elbench.dataset.units import BOHR_A
    from elbench.dataset.label import ReferenceLabeller

    shutil.copy(DATA.parent / "reference_small.toml", tmp_path / "elbench.toml")
    camp = load_campaign(tmp_path / "elbench.toml")
    build_system(camp.config.system, 0, tmp_path / "q0")
    frames = []
    with ReferenceLabeller(tmp_path / "q0") as lab:
        lab.setup_md(300.0, 0.5, 5)
        lab.run_md(200)
        for _ in range(12):
            lab.run_md(2)
            frames.append(lab.current_frame())
    good = check_plausible_units(frames)
    assert good["work_energy_pairs"] >= 10 and 0.9 < good["work_energy_slope"] < 1.1
    with pytest.raises(InputError, match="eV/bohr"):
        check_plausible_units(_scaled(frames, f=BOHR_A))
    with pytest.raises(InputError, match="Hartree"):
        check_plausible_units(_scaled(frames, e=1.0 / HARTREE_EV))


@pytest.mark.parametrize("options, needles", [
    (["--test", "0", "--train", "0.9"], ["--test", "test split empty", "> 0"]),
    (["--valid", "0", "--train", "0.9"], ["--valid", "valid split empty", "> 0"]),
    (["--train", "0", "--valid", "0.5", "--test", "0.5"], ["--train", "train split empty"]),
    (["--test", "-0.1", "--train", "1.0"], ["--test", "impossible"]),
    (["--train", "0.5"], ["--train/--valid/--test", "= 0.7, not 1"]),
])
def test_cli_split_with_an_empty_part_is_refused_and_writes_nothing(tmp_path, options, needles):
    from badinput_support import assert_one_line_error

    out = tmp_path / "s"
    r = runner.invoke(app, ["dataset", "split", str(DATA), "--out", str(out), *options])
    assert_one_line_error(r, *needles)
    assert not out.exists()


def test_split_too_few_frames_for_the_train_part_names_the_options(frames, tmp_path):
    four = [a for a in frames if a.info[CHARGE_KEY] == 0][:4]  # valid 2, test 2, train 0
    with pytest.raises(InputError, match="too few") as err:
        splits.write_splits(four, tmp_path / "s", seed=1, fractions=(0.1, 0.45, 0.45), keys=("--train", "--valid", "--test"))
    assert "--train/--valid/--test" in str(err.value)
    assert not (tmp_path / "s").exists()
