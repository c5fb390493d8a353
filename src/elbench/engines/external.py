"""The ``fix external`` force callback: LAMMPS positions -> ASE calculator -> forces, energy, virial.

Used by the bridge engine (:mod:`elbench.engines.bridge`, every MD step) and by the
preflight parity check (:mod:`elbench.engines.preflight`, the first frame). Elements
come from the run's explicit type map, never from masses.
"""

from __future__ import annotations

import ctypes
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import all_changes
from ase.data import atomic_numbers

from elbench import families
from elbench.errors import InputError, RunError
from elbench.type_map import read_header as read_type_map_header


# --------------------------------------------------------------------------- element mapping


def type_numbers(run_type_map: list[str], model_type_map: tuple[str, ...], counts: dict[int, int],
                 *, file: Path | None = None) -> np.ndarray:
    """LAMMPS type (1-based) -> atomic number; refuses elements the model does not know.

    Only types that have atoms must be known to the model (an n = 0 system keeps the
    cation type with no atoms).
    """
    missing = [el for t, el in enumerate(run_type_map, start=1) if counts.get(t, 0) and el not in model_type_map]
    if missing:
        raise InputError(f"the model has no element {missing} that the system contains "
                         f"(model elements: {' '.join(model_type_map)})", file=file, key="type_map",
                         allowed=" ".join(model_type_map))
    table = np.zeros(len(run_type_map) + 1, dtype=int)
    for t, el in enumerate(run_type_map, start=1):
        table[t] = atomic_numbers[el]
    return table


def check_type_maps(type_map: list[str], data_file: Path) -> list[str]:
    """The run record's explicit type map, checked against the data file's header."""
    if not type_map:
        raise InputError("run.json has no type_map", key="type_map")
    header = read_type_map_header(data_file)
    if header is not None and header != list(type_map):
        raise InputError(f"element order of the data file ({' '.join(header)}) differs from the run's type_map "
                         f"({' '.join(type_map)})", file=data_file, key="type_map", allowed=" ".join(header))
    return list(type_map)


# --------------------------------------------------------------------------- the callback


@dataclass
class ExternalForces:
    """The ``fix external`` callback: LAMMPS positions -> calculator -> forces/energy/virial."""

    lmp: Any
    fix_id: str
    calc: Any
    z_of_type: np.ndarray
    pbc: tuple[bool, bool, bool]
    calls: int = 0
    calc_seconds: float = 0.0
    calc_cpu_seconds: float = 0.0
    last_energy: float = 0.0
    warned_stress: bool = False
    error: Exception | None = None
    atoms: Any = field(default=None, repr=False)
    committee: Any = None  # engines.committee.CommitteeWriter: model deviation every out_freq steps
    #: wall/CPU clock at the first and the latest callback: steady-state time per MD step
    first_call_at: tuple[float, float] | None = None
    last_call_at: tuple[float, float] | None = None
    _box_key: Any = field(default=None, repr=False)
    _atoms_cell_key: Any = field(default=None, repr=False)
    _cell: Any = field(default=None, repr=False)
    _volume: float = 0.0
    _props: list[str] | None = field(default=None, repr=False)
    _changes: list[str] | None = field(default=None, repr=False)
    _types: Any = field(default=None, repr=False)
    _numbers: Any = field(default=None, repr=False)
    _numbers_changed: bool = True
    _local: Any = field(default=None, repr=False)
    _local_changed: bool = True
    _set_energy: Any = field(default=None, repr=False)
    _set_virial: Any = field(default=None, repr=False)
    _views: dict = field(default_factory=dict, repr=False)
    _box_key_now: Any = field(default=None, repr=False)
    _tag_bytes: bytes | None = field(default=None, repr=False)

    def cell(self) -> np.ndarray:
        """LAMMPS's box as an ASE cell; recomputed only when the box changed (NPT, deform)."""
        key = self._box_key_now() if self._box_key_now is not None else self._extract_box_key()
        if key != self._box_key:
            lo, hi, (xy, yz, xz) = key[0:3], key[3:6], key[6:9]
            lx, ly, lz = (hi[i] - lo[i] for i in range(3))
            self._cell = np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])
            self._volume = abs(lx * ly * lz)  # det of the lower-triangular cell
            self._box_key = key
        return self._cell

    def _extract_box_key(self) -> tuple[float, ...]:
        lo, hi, xy, yz, xz = self.lmp.extract_box()[:5]
        return (*lo[:3], *hi[:3], xy, yz, xz)

    def _properties(self) -> list[str]:
        """What the calculator is asked for, every step: energy, forces and (where it has one) stress."""
        if self._props is None:
            self._props = ["energy", "forces"]
            if "stress" in getattr(self.calc, "implemented_properties", ()):
                self._props.append("stress")
        return self._props

    def evaluate(self, types: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray, list[float] | None]:
        """Energy, forces and LAMMPS virial (xx yy zz xy xz yz, eV) of positions ``x`` of atoms of ``types``.

        One ``ase.Atoms`` is kept and updated in place: positions every step, numbers only
        when the atoms' order changed (``_numbers_for``), the cell only when the box did.
        The calculator is called once for all properties.
        """
        cell = self.cell()
        numbers = self._numbers_for(types)
        if self.atoms is None or len(self.atoms) != len(numbers):
            self.atoms = Atoms(numbers=numbers, positions=x, cell=cell, pbc=self.pbc)
            self._atoms_cell_key = self._box_key
        else:
            if self._numbers_changed:
                self.atoms.numbers = numbers
            if self._atoms_cell_key != self._box_key:
                self.atoms.cell[:] = cell
                self._atoms_cell_key = self._box_key
            self.atoms.arrays["positions"][:] = x
        start, cpu = time.perf_counter(), time.process_time()
        self.calc.calculate(self.atoms, self._properties(), self._all_changes())
        self.calc_seconds += time.perf_counter() - start
        self.calc_cpu_seconds += time.process_time() - cpu
        res = self.calc.results
        stress = res.get("stress")
        virial = None
        if stress is not None:
            s = np.asarray(stress, dtype=float).reshape(-1)
            if s.size == 9:
                s = s.reshape(3, 3)[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
            # ASE Voigt xx yy zz yz xz xy -> LAMMPS virial xx yy zz xy xz yz (energy units)
            v = -self._volume
            sxx, syy, szz, syz, sxz, sxy = s[:6].tolist()
            virial = [v * sxx, v * syy, v * szz, v * sxy, v * sxz, v * syz]
        energy = res["energy"]
        energy = energy if isinstance(energy, float) else float(np.asarray(energy).reshape(-1)[0])
        return energy, np.asarray(res["forces"], dtype=float), virial

    def _all_changes(self) -> list[str]:
        if self._changes is None:
            self._changes = list(all_changes)
        return self._changes

    def _numbers_for(self, types: np.ndarray) -> np.ndarray:
        """Atomic numbers of ``types``; the lookup is redone only when the types array differs."""
        if types is self._local and self._types is not None and not self._local_changed:
            self._numbers_changed = False  # the cached local types of the attached fast path
            return self._numbers
        self._numbers_changed = self._types is None or not np.array_equal(self._types, types)
        if self._numbers_changed:
            self._types = np.array(types, copy=True)
            self._numbers = self.z_of_type[self._types]
        return self._numbers

    def attach(self) -> None:
        """Register this callback with LAMMPS without the lammps module's per-step array wrapping.

        ``lammps.set_fix_external_callback`` wraps tag, x and f into new numpy arrays at
        every step; here the C callback reuses numpy views of LAMMPS's arrays, cached by
        their address and length (new views only when LAMMPS reallocates), and energy and
        virial go to the C library through a preallocated buffer.
        """
        lmp, fid = self.lmp, self.fix_id.encode()
        lib, handle = lmp.lib, lmp.lmp
        tag_type = lmp.c_tagint
        buffer = (6 * ctypes.c_double)()

        def set_virial(v: list[float]) -> None:
            buffer[:] = v
            lib.lammps_fix_external_set_virial_global(handle, fid, buffer)

        def view(ptr, nlocal: int, ctype, cols: int) -> np.ndarray:
            addr = ctypes.cast(ptr, ctypes.c_void_p).value
            key = (addr, nlocal, cols)
            arr = self._views.get(key)
            if arr is None:
                if len(self._views) > 64:
                    self._views.clear()
                arr = np.ctypeslib.as_array(ctypes.cast(addr, ctypes.POINTER(ctype)), shape=(nlocal, cols) if cols > 1
                                            else (nlocal,))
                self._views[key] = arr
            return arr

        def callback(caller, step, nlocal, tag_ptr, x_ptr, f_ptr) -> None:
            if nlocal <= 0:
                return
            self(caller, step, nlocal, view(tag_ptr, nlocal, tag_type, 1), view(x_ptr[0], nlocal, ctypes.c_double, 3),
                 view(f_ptr[0], nlocal, ctypes.c_double, 3))

        cfunc = lmp.FIX_EXTERNAL_CALLBACK_FUNC(callback)
        lmp.callback[self.fix_id] = {"function": cfunc, "caller": None}  # keeps the C function alive
        lib.lammps_set_fix_external_callback(handle, fid, cfunc, None)
        if lmp.has_exceptions and lib.lammps_has_error(handle):
            raise lmp._lammps_exception
        self._set_energy = lambda e: lib.lammps_fix_external_set_energy_global(handle, fid, e)
        self._set_virial = set_virial
        self._box_key_now = _box_reader(lmp)

    def __call__(self, caller, step, nlocal, tag, x, f) -> None:
        """Called by LAMMPS each step; an exception cannot cross ctypes, so it is kept and the
        run is stopped through LAMMPS's timeout (checked every step), then re-raised."""
        if self.error is not None:
            return
        self.last_call_at = (time.perf_counter(), time.process_time())
        if self.first_call_at is None:
            self.first_call_at = self.last_call_at
        try:
            self._step(nlocal, tag, x, f)
            if self.committee is not None:
                self.committee(int(step), self.atoms, self.calc.results, tag)
        except Exception as err:  # noqa: BLE001 - re-raised by check() after LAMMPS returns
            self.error = err
            f[:, :] = 0.0
            self.lmp.force_timeout()

    def check(self) -> None:
        if self.error is not None:
            err = self.error
            raise RunError(f"the {type(self.calc).__name__} calculator failed inside the bridge: "
                           f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")

    def _step(self, nlocal, tag, x, f) -> None:
        types = self._local_types(nlocal, tag)
        energy, forces, virial = self.evaluate(types, x)
        f[:, :] = forces
        if self._set_energy is not None:  # attached: C library directly (fix ID checked when attaching)
            self._set_energy(energy)
        else:
            self.lmp.fix_external_set_energy_global(self.fix_id, energy)
        if virial is not None:
            if self._set_virial is not None:
                self._set_virial(virial)
            else:
                self.lmp.fix_external_set_virial_global(self.fix_id, virial)
        elif not self.warned_stress:
            print("elbench bridge: WARNING calculator gives no stress; pressure excludes the virial", file=sys.stderr)
            self.warned_stress = True
        self.last_energy = energy
        self.calls += 1

    def _local_types(self, nlocal: int, tag: np.ndarray) -> np.ndarray:
        """LAMMPS types of the local atoms, re-read only when the atoms' order (their tags) changed.

        One rank: atoms leave or join only through re-sorting (``atom_modify sort``), which
        permutes the tags; types of atoms do not change during a run.
        """
        tag_bytes = tag.tobytes()  # one memcmp instead of np.array_equal's temporaries
        self._local_changed = tag_bytes != self._tag_bytes
        if self._local_changed:
            self._tag_bytes = tag_bytes
            self._local = np.array(self.lmp.numpy.extract_atom("type", nelem=nlocal), copy=True).reshape(-1)
        return self._local


def _box_reader(lmp):
    """A function reading the box (lo, hi, xy, yz, xz) straight from LAMMPS's Domain memory, or None.

    ``extract_box`` makes ~10 ctypes calls and lists per step; the Domain's box fields stay
    at the same addresses for the life of the LAMMPS instance (no ``clear`` in a bridge deck).
    """
    fn = lmp.lib.lammps_extract_global
    restype = fn.restype
    fn.restype = ctypes.c_void_p
    try:
        addrs = [fn(lmp.lmp, name) for name in (b"boxlo", b"boxhi", b"xy", b"yz", b"xz")]
    finally:
        fn.restype = restype  # the lammps module sets it per call; leave it as found
    if not all(addrs):
        return None
    lo, hi = ((3 * ctypes.c_double).from_address(a) for a in addrs[:2])
    xy, yz, xz = (ctypes.c_double.from_address(a) for a in addrs[2:])
    return lambda: (lo[0], lo[1], lo[2], hi[0], hi[1], hi[2], xy.value, yz.value, xz.value)


def type_counts(lmp) -> dict[int, int]:
    types = np.asarray(lmp.numpy.extract_atom("type", nelem=lmp.extract_setting("nlocal"))).reshape(-1)
    values, counts = np.unique(types, return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}


def box_pbc(lmp) -> tuple[bool, bool, bool]:
    periodicity = lmp.extract_box()[5]
    return tuple(bool(p) for p in periodicity)


def calculator_pbc(family: str, pbc: tuple[bool, bool, bool]) -> tuple[bool, bool, bool]:
    """The periodicity handed to the calculator.

    A slab box (``p p f``) is made fully periodic for calculators that refuse mixed
    periodicity (the family spec's ``full_pbc``: pyace, GRACE-FS); elbench slabs keep >= 15 Å of vacuum above the water (wall/reflect at
    the top), more than any shipped model's cutoff, so no interaction crosses z.
    """
    if families.get(family).full_pbc and any(pbc) and not all(pbc):
        return (True, True, True)
    return pbc
