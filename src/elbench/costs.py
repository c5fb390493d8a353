"""Expected cost of MD runs: atoms × steps × seconds per atom-step of the model's family.

``elbench render`` prints it so a user sees, before submitting, whether a campaign
takes minutes or GPU-months. Each family spec's cost rows (``elbench.families.<family>``:
``costs`` and ``bridge_cost``, small models on CPU through the bridge, where the per-step
Python round trip dominates for small systems) say where each number came from:
``measured`` numbers were taken on this project's 2-core x86_64 CPU machine
(/work/shared/notes/packages.md and this module's docstring); ``estimate`` numbers are
order-of-magnitude values for typical production-size models (GPU figures could
not be measured here: no GPU build of LAMMPS can be made on these machines).
Treat any estimate as ± a factor of 3: model size (cutoff, channels, layers)
changes the cost of one family by more than the difference between families.

Per-family cost scales ~linearly with atoms for all these short-range models, so
seconds = atoms × steps × s_per_atom_step / parallel units (MPI ranks on CPU,
GPUs on GPU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from elbench import families
from elbench.errors import InputError
from elbench.families.spec import CostRow

Device = Literal["cpu", "gpu"]
Size = Literal["small", "production"]


@dataclass(frozen=True)
class CostEstimate:
    family: str
    device: str
    size: str
    atom_steps: float
    seconds: float
    units: int
    source: str

    @property
    def human(self) -> str:
        """'2.3 h on 1 GPU' style text."""
        unit = "GPU" if self.device == "gpu" else "core"
        return f"{format_seconds(self.seconds)} on {self.units} {unit}{'s' if self.units != 1 else ''}"


def format_seconds(seconds: float) -> str:
    for limit, div, name in ((120, 1, "s"), (7200, 60, "min"), (172800, 3600, "h")):
        if seconds < limit:
            return f"{seconds / div:.3g} {name}"
    return f"{seconds / 86400:.3g} d"


def cost_entry(family: str, device: Device = "cpu", size: Size = "production") -> CostRow:
    """The family spec's cost row on ONE CPU core or ONE GPU ("small" = the tiny models elbench ships and
    trains in tests; "production" = models sized like those of a real study)."""
    rows = families.FAMILIES[family].costs if family in families.FAMILIES else {}
    if (device, size) not in rows:
        raise InputError(f"no cost figure for family '{family}' on {device} ({size})", key="family",
                         allowed=", ".join(families.names()))
    return rows[(device, size)]


def estimate_cost(
    family: str,
    n_atoms: int,
    steps: int,
    *,
    device: Device = "cpu",
    units: int = 1,
    size: Size = "production",
    runs: int = 1,
    engine: str = "native",
) -> CostEstimate:
    """Expected wall time of ``runs`` MD runs of n_atoms × steps with a model of ``family``.

    ``units`` is the number of parallel CPU cores (MPI ranks × OpenMP threads) or GPUs per
    run; scaling is assumed ideal, so this is a lower bound for many ranks on few atoms.
    ``engine="bridge"`` uses the measured bridge costs of small models on CPU.
    """
    if n_atoms < 0 or steps < 0 or runs < 0 or units < 1:
        raise InputError("n_atoms, steps and runs must be >= 0 and units >= 1", key="estimate_cost")
    entry = cost_entry(family, device, size)
    bridge = families.get(family).bridge_cost
    if engine == "bridge" and device == "cpu" and size == "small" and bridge is not None:
        entry = bridge
    atom_steps = float(n_atoms) * float(steps) * runs
    return CostEstimate(family, device, size, atom_steps, atom_steps * entry.seconds_per_atom_step / units, units, entry.source)


def device_of(lammps_cfg, slurm_cfg=None) -> Device:
    """'gpu' when the campaign asks for KOKKOS or SLURM GPUs, else 'cpu'."""
    if getattr(getattr(lammps_cfg, "kokkos", None), "enabled", False):
        return "gpu"
    if slurm_cfg is not None and getattr(slurm_cfg, "gpus_per_node", 0) > 0:
        return "gpu"
    return "cpu"


def units_of(lammps_cfg, device: Device) -> int:
    """Parallel units of one run: GPUs (KOKKOS gpus_per_node) or cores (MPI ranks × OpenMP threads)."""
    if device == "gpu":
        return max(1, int(getattr(lammps_cfg.kokkos, "gpus_per_node", 1)))
    return max(1, int(lammps_cfg.mpi_ranks) * int(lammps_cfg.omp_threads))


def estimate_run_cost(config, family: str, n_atoms: int, steps: int, *, runs: int = 1, engine: str = "native") -> CostEstimate:
    """The cost `elbench render` prints for a campaign: device, units and model size taken from the campaign.

    GPU campaigns (KOKKOS or SLURM GPUs, e.g. ``elbench init --template paper``) are costed with
    production-size models on ``kokkos.gpus_per_node`` GPUs; CPU campaigns with the small models
    elbench ships, on ``mpi_ranks × omp_threads`` cores.
    """
    device = device_of(config.lammps, config.slurm)
    size: Size = "production" if device == "gpu" else "small"
    return estimate_cost(family, n_atoms, steps, device=device, units=units_of(config.lammps, device), size=size, runs=runs,
                         engine=engine)
