"""MLIP family -> ASE calculator, built from a local model file.

Every family's Python package lives in its own environment (their pins conflict,
see scripts/env-*.sh). The family spec (:mod:`elbench.families`) names the backend,
the model-file check and the calculator factory; this module imports a backend only
when a calculator of that family is asked for, and turns "package missing" and "this file is not a
model of that family" into one-line :class:`InputError` messages that say which
environment to create.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from elbench import families
from elbench.errors import InputError
from elbench.families.spec import BackendSpec, FamilySpec
from elbench.run_record import RunRecord


def install_hint(family: str) -> str:
    env = families.get(family).environment
    return f"create it with `scripts/setup-env {env}` (or `./dev env {env}`) and run in ~/.cache/elbench/envs/{env}"


def require_backend(family: str) -> None:
    """Import the family's backend package or raise InputError saying how to install it."""
    spec = families.get(family)
    module = _backend(spec).module
    try:
        __import__(module)
    except ImportError as err:
        raise InputError(
            f"the {family} backend ({module}) is not importable in this Python ({err.name or err}); "
            f"it lives in the '{spec.environment}' environment: {install_hint(family)}",
            key="family",
        ) from None


def _backend(spec: FamilySpec) -> BackendSpec:
    if spec.backend is None:
        raise InputError(f"family '{spec.name}' has no calculator", key="family",
                         allowed=", ".join(s.name for s in families.with_backend()))
    return spec.backend


@dataclass(frozen=True)
class CalculatorSpec:
    """What the bridge needs to build a calculator: family, model path, the model's elements."""

    family: str
    model: Path
    type_map: tuple[str, ...]
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)


def _wrong(spec: CalculatorSpec, why: str) -> InputError:
    model = families.get(spec.family).model
    what = model.description if model is not None else "no model file"
    return InputError(f"{spec.model} is not a {spec.family} model ({why}); expected {what}",
                      file=spec.model, key="files")


def check_model_file(spec: CalculatorSpec) -> None:
    """Cheap format sniffing (the family spec's model check) so a model of another family fails with one clear line."""
    if not spec.model.exists():
        raise InputError(f"model file {spec.model} is missing", file=spec.model, key="files")
    model = families.get(spec.family).model
    why = None if model is None else model.check(spec.model)
    if why:
        raise _wrong(spec, why)


def read_atom_energies(path: str | Path) -> dict[str, float]:
    """``atom_energies.json`` written by ``elbench train render``: {"atom_energies_eV": {element: eV}}."""
    import json

    path = Path(path)
    try:
        table = json.loads(path.read_text())["atom_energies_eV"]
        return {str(el): float(value) for el, value in table.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise InputError(f"cannot read per-element reference energies ({type(err).__name__})", file=path,
                         key="atom_energies_eV", allowed='{"atom_energies_eV": {"Au": -3.7, ...}} in eV') from None


def make_calculator(spec: CalculatorSpec):
    """An ASE calculator for ``spec`` (backend imported here, in the family's environment).

    With the option ``atom_energies`` (a model fitted to E - sum of per-element reference energies, as
    elbench trains ACE and GRACE), the energies are shifted back to totals; forces and stress are unchanged.
    """
    calc = _family_calculator(spec)
    shift = spec.option("atom_energies")
    return AtomEnergyShift(calc, read_atom_energies(shift)) if shift else calc


def _family_calculator(spec: CalculatorSpec):
    backend = _backend(families.get(spec.family))
    check_model_file(spec)
    require_backend(spec.family)
    try:
        return backend.calculator(spec)
    except InputError:
        raise
    except ImportError as err:
        raise InputError(f"{spec.family} backend incomplete ({err}); {install_hint(spec.family)}",
                         key="family") from None
    except Exception as err:  # noqa: BLE001 - any loader failure means "not a model of this family"
        raise _wrong(spec, f"{type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''}") from None



class AtomEnergyShift(Calculator):
    """Adds per-element constants (eV) to another ASE calculator's energies.

    A constant per atom changes no force, stress or trajectory; it makes total energies comparable with
    the labels (``elbench rmse``, preflight parity, thermo output through the bridge).
    """

    def __init__(self, base: Calculator, atom_energies_eV: dict[str, float]) -> None:
        super().__init__()
        self.base = base
        self.atom_energies_eV = dict(atom_energies_eV)
        self.implemented_properties = list(getattr(base, "implemented_properties", ["energy", "forces"]))

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        self.base.calculate(self.atoms, list(properties), system_changes)
        symbols = self.atoms.get_chemical_symbols()
        missing = sorted(set(symbols) - set(self.atom_energies_eV))
        if missing:
            raise InputError(f"no reference energy for {missing} in the model's atom_energies.json",
                             key="atom_energies_eV", allowed=", ".join(self.atom_energies_eV))
        per_atom = np.array([self.atom_energies_eV[s] for s in symbols])
        self.results = dict(self.base.results)
        for key in ("energy", "free_energy"):
            if key in self.results:
                self.results[key] = float(self.results[key]) + float(per_atom.sum())
        if "energies" in self.results:
            self.results["energies"] = np.asarray(self.results["energies"]) + per_atom


def spec_from_run(run: RunRecord, run_dir: Path) -> CalculatorSpec:
    """The calculator spec of a rendered run: its record's ``calculator`` (render wrote it from the registry)."""
    calc = run.calculator
    if calc is None:
        raise InputError(f"model '{run.model}' (family {run.family}) has no ASE calculator for the bridge or "
                         "the preflight", file=run_dir / "run.json", key="calculator")
    return CalculatorSpec(calc.family, Path(calc.model), tuple(calc.model_type_map), tuple(sorted(calc.options.items())))
