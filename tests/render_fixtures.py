"""Shared inputs of the render tests: a hand-made system, registry entries, MD settings.

Paths are fixed strings (/models/..., /lammps/potentials/...), so golden decks do
not depend on the machine. Nothing here touches the file system.
"""

from __future__ import annotations

from pathlib import Path

from elbench.config import KokkosConfig, LammpsConfig, MDConfig
from elbench.potentials.manifest import PotentialEntry
from elbench.potentials.styles import pair_style_for
from elbench.render.deck import deck_context, pair_context, render_deck
from elbench.render.system import system_from_dict

SHA = "0" * 64
EAM = Path("/lammps/potentials/Au_u3.eam")

#: A system.json as `elbench build` writes it (only the keys decks read, plus a few).
SYSTEM_JSON = {
    "type_map": ["Au", "O", "H", "Na"],
    "geometry": "slab",
    "n_cations": 2,
    "counts": {"metal": 144, "water": 100, "cation": 2, "atoms": 446},
    "cell_A": [[17.3, 0.0, 0.0], [0.0, 19.98, 0.0], [0.0, 0.0, 40.0]],
    "n_fixed_atoms": 48,
}


def system(**changes):
    data = dict(SYSTEM_JSON) | changes
    return system_from_dict(data)


def entry(name: str, family: str, files: list[tuple[str, str]] = (), **kw) -> PotentialEntry:
    return PotentialEntry(
        name=name,
        family=family,
        files=[{"path": p, "sha256": SHA, "role": role} for p, role in files],
        type_map=kw.pop("type_map", ["H", "O", "Na", "Au"]),
        cutoff_A=kw.pop("cutoff_A", 6.0),
        **kw,
    )


#: name -> (entry, kokkos, engine) of every pair block the golden tests pin.
CASES = {
    "reference_slab": (entry("reference", "reference", type_map=["Au", "O", "H", "Na"], cutoff_A=8.0), False, "native"),
    "deepmd": (entry("dp_small", "dp", [("dp/model.pb", "model")]), False, "native"),
    "deepmd_multi": (entry("dp_ens", "dp", [(f"dp/m{i}.pb", "model") for i in range(4)]), False, "native"),
    "dpa3_pth": (entry("dpa3_small", "dp-mp", [("dpa3/model.pth", "model")], message_passing_layers=3), False, "native"),
    "pace": (entry("ace_small", "ace", [("ace/model.yace", "model")]), False, "native"),
    "pace_extrapolation": (entry("ace_uq", "ace", [("ace/model.yaml", "model"), ("ace/model.asi", "active_set")],
                                 pair_style="pace/extrapolation"), False, "native"),
    "grace": (entry("grace_2l", "grace", [("grace/saved_model/saved_model.pb", "model")]), False, "native"),
    "grace_fs": (entry("grace_fs", "grace", [("grace/fs.yaml", "model")], pair_style="grace/fs"), False, "native"),
    "grace_1l_kk": (entry("grace_1l", "grace", [("grace/w.npz", "model")], pair_style="grace/1l/kk"), True, "native"),
    "mliap_mace_kk": (entry("mace_mliap", "mace", [("mace/small.model-mliap_lammps.pt", "model")]), True, "native"),
    "mace": (entry("mace_small", "mace", [("mace/small.model-lammps.pt", "model")]), False, "native"),
    "bridge_esen": (entry("esen_small", "esen", [("esen/esen.pt", "model")]), False, "bridge"),
    "reference_kk": (entry("reference", "reference", type_map=["Au", "O", "H", "Na"], cutoff_A=8.0), True, "native"),
}


def md(**kw) -> MDConfig:
    base = dict(equilibration_ps=1.0, production_ps=5.0, dump_interval_steps=20, thermo_interval_steps=100,
                restart_interval_steps=2000, seeds=[7])
    return MDConfig(**(base | kw))


def lammps_cfg(kokkos: bool, **kw) -> LammpsConfig:
    return LammpsConfig(kokkos=KokkosConfig(enabled=kokkos, gpus_per_node=4 if kokkos else 1), **kw)


def files_of(e: PotentialEntry) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for f in e.files:
        out.setdefault(f.role, []).append(Path("/models") / f.path)
    return out


def render_case(name: str, *, sys_changes: dict | None = None, md_changes: dict | None = None, seed: int = 7,
                stage: str = "production", start_file: str | None = None) -> str:
    e, kokkos, engine = CASES[name]
    s = system(**(sys_changes or {}))
    m = md(**(md_changes or {}))
    pair = pair_context(e, engine=engine, style=pair_style_for(e, kokkos=kokkos), files=files_of(e), system=s,
                        metal="Au", cation="Na", kokkos=kokkos, thermo_interval_steps=m.thermo_interval_steps,
                        eam_file=EAM)
    ctx = deck_context(md=m, entry=e, system=s, charge_state=s.n_cations, seed=seed, engine=engine, pair=pair,
                       stage=stage, start_file=start_file)
    return render_deck(ctx)
