"""MLIP family -> ASE calculator, built from a local model file.

Every family's Python package lives in its own environment (their pins conflict,
see scripts/env-*.sh); this module imports a backend only when a calculator of
that family is asked for, and turns "package missing" and "this file is not a
model of that family" into one-line :class:`InputError` messages that say which
environment to create.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from elbench.errors import InputError

#: family -> (environment name, Python module that must import, what the model file is)
FAMILY_BACKENDS: dict[str, tuple[str, str, str]] = {
    "dp": ("dp", "deepmd", "a frozen DeePMD TensorFlow graph (.pb)"),
    "dp-mp": ("dpmp", "deepmd.pt", "a frozen DeePMD PyTorch model (.pth) or checkpoint (.pt)"),
    "ace": ("grace", "pyace", "a pacemaker potential (.yaml or .yace)"),
    "grace": ("grace", "tensorpotential", "a GRACE saved-model directory or a GRACE-FS .yaml"),
    "mace": ("mace", "mace", "a MACE model file (.model)"),
    "esen": ("esen", "fairchem.core", "a fairchem inference checkpoint (.pt)"),
}


def family_environment(family: str) -> str:
    """The elbench environment that runs a family's calculator."""
    if family == "reference":
        return "core"
    try:
        return FAMILY_BACKENDS[family][0]
    except KeyError:
        raise InputError(f"unknown MLIP family '{family}'", key="family",
                         allowed=", ".join(FAMILY_BACKENDS)) from None


def install_hint(family: str) -> str:
    env = family_environment(family)
    return f"create it with `scripts/setup-env {env}` (or `./dev env {env}`) and run in ~/.cache/elbench/envs/{env}"


def require_backend(family: str) -> None:
    """Import the family's backend package or raise InputError saying how to install it."""
    env, module, _ = FAMILY_BACKENDS[family]
    try:
        __import__(module)
    except ImportError as err:
        raise InputError(
            f"the {family} backend ({module}) is not importable in this Python ({err.name or err}); "
            f"it lives in the '{env}' environment: {install_hint(family)}",
            key="family",
        ) from None


@dataclass(frozen=True)
class CalculatorSpec:
    """What the bridge needs to build a calculator: family, model path, the model's elements."""

    family: str
    model: Path
    type_map: tuple[str, ...]
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)


def _is_zip(path: Path) -> bool:
    return path.is_file() and zipfile.is_zipfile(path)


def _zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def _wrong(spec: CalculatorSpec, why: str) -> InputError:
    what = FAMILY_BACKENDS[spec.family][2]
    return InputError(f"{spec.model} is not a {spec.family} model ({why}); expected {what}",
                      file=spec.model, key="files")


def check_model_file(spec: CalculatorSpec) -> None:
    """Cheap format sniffing so a model of another family fails with one clear line."""
    path, family = spec.model, spec.family
    if not path.exists():
        raise InputError(f"model file {path} is missing", file=path, key="files")
    suffix = path.suffix.lower()
    if family == "dp":
        if path.is_dir() or _is_zip(path) or suffix not in (".pb",):
            raise _wrong(spec, "not a TensorFlow .pb graph")
    elif family == "dp-mp":
        if suffix not in (".pth", ".pt") or not _is_zip(path):
            raise _wrong(spec, "not a TorchScript/torch archive")
        if suffix == ".pth" and not any(n.endswith("extra/model_def_script.json") or "/code/" in n
                                        for n in _zip_names(path)):
            raise _wrong(spec, "a torch archive but not a frozen DeePMD model")
    elif family == "ace":
        if suffix not in (".yaml", ".yml", ".yace"):
            raise _wrong(spec, f"suffix {suffix or '(none)'}")
        head = path.read_text(errors="replace")[:4000]
        ctilde = "embeddings" in head and ("functions" in head or "bonds" in head)  # .yace / C-tilde YAML
        bbasis = "speciesblock" in head  # pacemaker's B-basis output_potential.yaml
        if not (ctilde or bbasis):
            raise _wrong(spec, "YAML without ACE 'embeddings'/'bonds'/'functions' or 'speciesblock' sections")
    elif family == "grace":
        if path.is_dir():
            if not (path / "saved_model.pb").is_file():
                raise _wrong(spec, "directory without saved_model.pb")
        elif suffix in (".yaml", ".yml"):
            head = path.read_text(errors="replace")[:4000]
            if "elements" not in head:
                raise _wrong(spec, "YAML without 'elements'")
        else:
            raise _wrong(spec, "neither a saved-model directory nor a GRACE-FS YAML")
    elif family in ("mace", "esen"):
        if not _is_zip(path):
            raise _wrong(spec, "not a torch archive")
        names = " ".join(_zip_names(path))
        if family == "mace" and ("mace" not in names.lower() and "MACE" not in names):
            raise _wrong(spec, "torch archive without MACE classes")
        if family == "esen" and "mace" in names.lower():
            raise _wrong(spec, "a MACE model archive")


def _mace(spec: CalculatorSpec):
    from mace.calculators import MACECalculator

    return MACECalculator(model_paths=str(spec.model), device="cpu",
                          default_dtype=spec.option("dtype", "float64"))


def _deepmd(spec: CalculatorSpec):
    from deepmd.calculator import DP

    return DP(model=str(spec.model))


def _ace(spec: CalculatorSpec):
    from pyace import PyACECalculator

    return PyACECalculator(str(spec.model))


def _grace(spec: CalculatorSpec):
    if spec.model.is_dir():
        from tensorpotential.calculator import TPCalculator

        return TPCalculator(model=str(spec.model))
    from pyace.asecalc import PyGRACEFSCalculator

    return PyGRACEFSCalculator(str(spec.model))


def _esen(spec: CalculatorSpec):
    import json

    from fairchem.core import FAIRChemCalculator
    from fairchem.core.units.mlip_unit import load_predict_unit

    task = spec.option("task", "oc25")
    refs_file = spec.option("atom_refs")
    kwargs: dict[str, Any] = {"device": "cpu"}
    if refs_file:
        refs = json.loads(Path(refs_file).read_text())
        # JSON keys are strings; fairchem looks references up by atomic number
        kwargs["atom_refs"] = {ds: {int(z): e for z, e in table.items()} for ds, table in refs.items()}
    kwargs["inference_settings"] = _esen_settings(spec.option("dtype", "float64"))
    unit = load_predict_unit(str(spec.model), **kwargs)
    return FAIRChemCalculator(unit, task_name=task)


def _esen_settings(dtype: str):
    """fairchem inference settings: CPU, no compile, float64 by default (parity in double)."""
    from fairchem.core.units.mlip_unit.api.inference import InferenceSettings

    return InferenceSettings(tf32=False, activation_checkpointing=False, merge_mole=False, compile=False,
                             external_graph_gen=False, base_precision_dtype=dtype)


_FACTORIES: dict[str, Callable[[CalculatorSpec], Any]] = {
    "mace": _mace,
    "dp": _deepmd,
    "dp-mp": _deepmd,
    "ace": _ace,
    "grace": _grace,
    "esen": _esen,
}


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
    if spec.family not in _FACTORIES:
        raise InputError(f"family '{spec.family}' has no calculator", key="family",
                         allowed=", ".join(_FACTORIES))
    check_model_file(spec)
    require_backend(spec.family)
    try:
        return _FACTORIES[spec.family](spec)
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
