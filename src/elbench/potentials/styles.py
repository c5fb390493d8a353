"""Which LAMMPS pair style each MLIP family uses, and which engine can run it.

The registry names a family; this module turns it into the pair style a deck
emits (``deepmd``, ``pace``, ``grace/fs``, ``mliap`` ...), the pair-block template
that writes it, and what a LAMMPS binary must provide for the native engine.
Everything else runs through the bridge (``fix external pf/callback``).
"""

from __future__ import annotations

from dataclasses import dataclass

from elbench import families
from elbench.errors import InputError
from elbench.families.spec import FamilySpec, PairStyleSpec

#: the pair style of the bridge block (``pair/bridge.j2``: ``pair_style zero`` + ``fix external``)
BRIDGE_PAIR_STYLE = "zero"


def emittable_pair_styles() -> dict[str, tuple[tuple[str, ...], str | None]]:
    """Every LAMMPS pair style a template can emit -> (build switches it needs, KOKKOS variant elbench names).

    For ``elbench doctor`` and the cmake preset test; from the family specs plus the bridge's ``zero``.
    """
    out: dict[str, tuple[tuple[str, ...], str | None]] = {}
    for spec in families.FAMILIES.values():
        for pair in spec.pair_styles:
            for style, needs in pair.lammps_styles():
                out.setdefault(style, (needs, pair.kokkos if style == pair.name else None))
    out[BRIDGE_PAIR_STYLE] = ((), None)
    return out


@dataclass(frozen=True)
class StyleChoice:
    """The pair style of one model and its deck template."""

    style: str
    template: str
    kokkos_style: str


def _pair_spec(entry) -> PairStyleSpec | None:
    """The native pair style spec of a registry entry, or None when the family has none (eSEN)."""
    spec = families.get(entry.family)
    if not spec.pair_styles:
        return None
    style = entry.pair_style or _default_style(spec, entry)
    pair = spec.pair_style(style)
    if pair is None:
        raise InputError(
            f"pair_style '{style}' does not fit family {entry.family}",
            key=f"potential.{entry.name}.pair_style",
            allowed=", ".join(spec.pair_style_names()),
        )
    return pair


def pair_style_for(entry, *, kokkos: bool = False) -> StyleChoice | None:
    """The native pair style of a registry entry, or None when the family has none (eSEN)."""
    pair = _pair_spec(entry)
    return None if pair is None else StyleChoice(pair.name, pair.template, pair.kokkos_style)


def _default_style(spec: FamilySpec, entry) -> str:
    return spec.default_style(entry) if spec.default_style else spec.pair_styles[0].name


def native_missing(binary, entry, *, kokkos: bool = False) -> list[str]:
    """What the binary lacks to run ``entry`` natively (empty list: it can)."""
    pair = _pair_spec(entry)
    if pair is None:
        return [f"a pair style for family {entry.family} (none exists: bridge only)"]
    has_style, has_package = binary.has_pair_style, binary.has_package  # True for an unchecked binary
    missing: list[str] = []
    if kokkos and not has_package("KOKKOS"):
        missing.append("package KOKKOS")
    if pair.kokkos_only and not kokkos:
        missing.append(f"lammps.kokkos.enabled = true ({pair.name} is a KOKKOS style)")
    for style, _ in pair.lammps_styles():
        needed = pair.kokkos_style if (kokkos and style == pair.name) else style
        if not has_style(needed) and not has_style(style):
            missing.append(f"pair style {needed}")
    missing += [f"package {p} ({why})" if why else f"package {p}" for p, why in pair.packages if not has_package(p)]
    blockers = families.get(entry.family).native_blockers
    if blockers is not None and not missing:
        missing += blockers(binary)
    return missing


def choose_engine(binary, entry, *, requested: str = "auto", kokkos: bool = False) -> tuple[str, str]:
    """('native' | 'bridge', why) for one model on one binary.

    ``auto`` picks native when the binary has everything the pair style needs.
    A family without a Python backend (the classical reference) always runs natively.
    """
    missing = native_missing(binary, entry, kokkos=kokkos)
    spec = families.get(entry.family)
    if not spec.runs_in_bridge:
        if missing:
            raise InputError(
                f"the LAMMPS binary {binary.path} lacks {', '.join(missing)} needed by the {entry.family} model",
                key="lammps.binary",
            )
        return "native", f"{spec.title} runs in LAMMPS alone"
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
