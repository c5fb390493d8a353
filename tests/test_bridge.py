"""The bridge engine's own logic, in the core env (no MLIP backend needed).

Deck parsing and validation, the type-map checks, MPI refusal, virial conversion,
engine choice, and the error for a family whose backend is not importable here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from elbench.deck_reader import read_deck
from elbench import families
from elbench.engines import bridge, external
from elbench.engines.calculators import CalculatorSpec, check_model_file, make_calculator
from elbench.engines.lammps_binary import resolve_binary
from elbench.engines.select import family_status
from elbench.potentials.manifest import load_manifest
from elbench.potentials.styles import choose_engine
from elbench.resources import builtin_manifest
from elbench.errors import InputError
from reference_runs import build_systems, render_runs

DECK = """\
units metal
atom_style atomic   # comment
read_data system.data
pair_style zero 4.5
pair_coeff * *
fix elbench_ext all external pf/callback 1 1
fix_modify elbench_ext energy yes virial yes
fix freeze frozen setforce 0.0 0.0 &
   0.0
run 10
"""


def test_deck_lines_joins_continuations_and_drops_comments(tmp_path: Path) -> None:
    (tmp_path / "in.lammps").write_text(DECK)
    deck = read_deck(tmp_path / "in.lammps")
    lines = [cmd.text for cmd in deck.commands]
    assert lines[1] == "atom_style atomic"
    assert "fix freeze frozen setforce 0.0 0.0 0.0" in [" ".join(ln.split()) for ln in lines]
    assert bridge.validate_deck(deck) == "elbench_ext"


def test_deck_with_native_pair_style_is_refused(tmp_path: Path) -> None:
    deck = tmp_path / "in.lammps"
    deck.write_text(DECK.replace("pair_style zero 4.5", "pair_style deepmd model.pb"))
    with pytest.raises(InputError, match="pair_style zero"):
        bridge.validate_deck(read_deck(deck))


def test_deck_without_fix_external_is_refused(tmp_path: Path) -> None:
    deck = tmp_path / "in.lammps"
    deck.write_text("\n".join(ln for ln in DECK.splitlines() if "external" not in ln))
    with pytest.raises(InputError, match="fix ID all external"):
        bridge.validate_deck(read_deck(deck))


def test_type_map_order_must_match_data_file(tmp_path: Path) -> None:
    data = tmp_path / "system.data"
    data.write_text("# elbench type_map: Au O H Na\n\n4 atoms\n")
    assert external.check_type_maps(["Au", "O", "H", "Na"], data) == ["Au", "O", "H", "Na"]
    with pytest.raises(InputError, match="differs from the run's type_map"):
        external.check_type_maps(["O", "H", "Au", "Na"], data)


def test_types_map_to_elements_not_model_order() -> None:
    # model order differs from the system's: elements (atomic numbers) are passed, never indices
    table = external.type_numbers(["Au", "O", "H", "Na"], ("H", "O", "Na", "Au"), {1: 3, 2: 2, 3: 4, 4: 1})
    assert table[1:].tolist() == [79, 8, 1, 11]


def test_model_without_an_element_of_the_system_is_refused() -> None:
    with pytest.raises(InputError, match=r"no element \['Na'\]"):
        external.type_numbers(["Au", "O", "H", "Na"], ("Au", "O", "H"), {1: 3, 2: 2, 3: 4, 4: 2})
    # n = 0: the cation type has no atoms, so a model without Na may run
    assert external.type_numbers(["Au", "O", "H", "Na"], ("Au", "O", "H"), {1: 3, 2: 2, 3: 4})[4] == 11


def test_mpi_ranks_above_one_are_refused(monkeypatch) -> None:
    with pytest.raises(InputError, match="one MPI rank"):
        bridge.check_single_rank(2)
    monkeypatch.setenv("PMI_SIZE", "4")
    with pytest.raises(InputError, match="asked for 4"):
        bridge.check_single_rank(1)


class _StressCalc:
    implemented_properties = ("energy", "forces", "stress")

    def __init__(self, stress):
        self.results = {}
        self.stress = np.asarray(stress, dtype=float)

    def calculate(self, atoms, properties, system_changes):
        self.results = {"energy": 1.5, "forces": np.zeros((len(atoms), 3)), "stress": self.stress}


class _Box:
    def extract_box(self):
        return [0.0, 0.0, 0.0], [2.0, 3.0, 4.0], 0.5, 0.0, 0.0, [1, 1, 0], 0


def test_virial_is_minus_volume_times_stress_in_lammps_order() -> None:
    # ASE Voigt order xx yy zz yz xz xy -> LAMMPS virial xx yy zz xy xz yz
    ext = external.ExternalForces(_Box(), "ext", _StressCalc([1, 2, 3, 4, 5, 6]), np.array([0, 79]), (True, True, False))
    energy, forces, virial = ext.evaluate(np.array([1, 1]), np.zeros((2, 3)))
    assert energy == 1.5 and forces.shape == (2, 3)
    np.testing.assert_allclose(virial, -24.0 * np.array([1, 2, 3, 6, 5, 4]))
    assert ext.atoms.cell[1, 0] == 0.5 and list(ext.atoms.pbc) == [True, True, False]


def test_wrong_family_model_file_is_refused(tmp_path: Path) -> None:
    yaml = tmp_path / "model.yaml"
    yaml.write_text("elements: [Au]\nembeddings: {}\nbonds: {}\nfunctions: {}\n")
    with pytest.raises(InputError, match="is not a mace model"):
        check_model_file(CalculatorSpec("mace", yaml, ("Au",)))
    with pytest.raises(InputError, match="is not a dp model"):
        check_model_file(CalculatorSpec("dp", yaml, ("Au",)))
    pb = tmp_path / "graph.pb"
    pb.write_bytes(b"\x0a\x0b")
    with pytest.raises(InputError, match="is not a ace model"):
        check_model_file(CalculatorSpec("ace", pb, ("Au",)))


def test_missing_backend_names_the_environment(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text("elements: [Au]\nembeddings: {}\nbonds: {}\nfunctions: {}\n")
    # the core env has no pyace: the message says which env/command installs it
    with pytest.raises(InputError, match=r"'grace' environment: create it with `scripts/setup-env grace`"):
        make_calculator(CalculatorSpec("ace", model, ("Au",)))


def test_engine_choice_on_the_core_wheel() -> None:
    """The core env's wheel has no deepmd plugin, ML-PACE or ML-IAP: auto is the bridge, native is refused."""
    reg = load_manifest(builtin_manifest())
    core = resolve_binary("auto")
    for name in ("dp-tiny", "mace-tiny", "grace-fs-tiny"):
        entry = reg.get(name)
        engine, why = choose_engine(core, entry, requested="auto")
        assert engine == "bridge" and "lacks pair style" in why, (name, why)
        assert choose_engine(core, entry, requested="bridge")[0] == "bridge"
    esen = next(e for e in reg.entries.values() if e.family == "esen")
    with pytest.raises(InputError, match="cannot run natively"):
        choose_engine(core, esen, requested="native")
    assert choose_engine(core, reg.get("reference"), requested="auto")[0] == "native"


def test_family_status_lists_every_family() -> None:
    rows = {r["family"]: r for r in family_status()}
    assert set(rows) == {s.name for s in families.with_backend()}  # every family with a Python backend
    assert {"dp", "dp-mp", "ace", "grace", "mace", "esen"} <= set(rows)
    assert rows["esen"]["environment"] == "esen"
    for row in rows.values():
        assert row["engine"] in ("native", "bridge", "unavailable")
        assert isinstance(row["installed"], bool)


def test_bridge_cli_refuses_mpi_with_exit_code_2(tmp_path: Path) -> None:
    """render refuses a bridge model on two ranks; the bridge refuses a run.json edited by hand into one
    (a rendered two-rank reference run whose engine was changed to the bridge)."""
    import subprocess
    import sys

    run_dir = render_runs(tmp_path / "camp", build_systems(tmp_path / "build"), ranks=2)[0]
    record = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps(record | {"engine": "bridge"}))
    proc = subprocess.run([sys.executable, "-m", "elbench.engines.bridge", str(run_dir)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "one MPI rank" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_preflight_is_reused_only_for_the_same_model_and_engine(tmp_path: Path) -> None:
    from elbench.engines.preflight import previous_pass
    from elbench.io import sha256_file

    model = tmp_path / "m.model"
    model.write_bytes(b"weights-1")
    spec = CalculatorSpec("mace", model, ("Au",))
    record = {"passed": True, "engine": "bridge", "model": str(model), "model_sha256": sha256_file(model)}
    (tmp_path / "preflight.json").write_text(json.dumps(record))
    assert previous_pass(tmp_path, spec, "bridge") == record
    assert previous_pass(tmp_path, spec, "native") is None
    model.write_bytes(b"weights-2")  # the model changed: check again
    assert previous_pass(tmp_path, spec, "bridge") is None
    (tmp_path / "preflight.json").write_text(json.dumps(record | {"passed": False}))
    assert previous_pass(tmp_path, spec, "bridge") is None


def test_atom_energy_shift_adds_per_element_constants_and_keeps_forces(tmp_path: Path) -> None:
    """A model fitted to E - sum(E0) (elbench's ACE/GRACE training) gives totals again through the shift."""
    from ase import Atoms
    from ase.calculators.emt import EMT

    from elbench.engines.calculators import AtomEnergyShift, read_atom_energies

    table = tmp_path / "atom_energies.json"
    table.write_text(json.dumps({"unit": "eV", "atom_energies_eV": {"Au": -3.25, "Cu": 0.5}}))
    atoms = Atoms("Au2Cu", positions=[[0, 0, 0], [2.9, 0.1, 0], [1.4, 2.5, 0.2]], cell=[9, 9, 9], pbc=True)
    plain = atoms.copy()
    plain.calc = EMT()
    atoms.calc = AtomEnergyShift(EMT(), read_atom_energies(table))
    assert atoms.get_potential_energy() == pytest.approx(plain.get_potential_energy() + 2 * -3.25 + 0.5, abs=1e-12)
    assert np.array_equal(atoms.get_forces(), plain.get_forces())
    atoms.positions[2, 0] += 0.05  # a new geometry is recomputed, not served from the cache
    plain.positions[2, 0] += 0.05
    assert atoms.get_potential_energy() == pytest.approx(plain.get_potential_energy() - 6.0, abs=1e-12)
    with pytest.raises(InputError, match=r"no reference energy for \['Ni'\]"):
        other = Atoms("Ni", positions=[[0, 0, 0]], cell=[9, 9, 9], pbc=True)
        other.calc = AtomEnergyShift(EMT(), read_atom_energies(table))
        other.get_potential_energy()
    table.write_text("{}")
    with pytest.raises(InputError, match="atom_energies_eV"):
        read_atom_energies(table)
