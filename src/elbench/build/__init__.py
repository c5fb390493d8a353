"""``elbench build``: Au(111)/water/cation interfaces for every charge state.

* :mod:`.slab` — the fcc(111) slab (ASE), atoms ordered bottom → top layer;
* :mod:`.water` — deterministic water packing at the target density;
* :mod:`.ions` — cations that replace waters in the middle of the water;
* :mod:`.assemble` — geometry (``slab`` or ``sandwich``) and the per-atom arrays;
* :mod:`.lammps_data` — ``atom_style atomic`` and ``full`` data files;
* :mod:`.system_files` — ``systems/q<n>/`` written atomically, ``build_system``.
"""

from elbench.build.system_files import build_system, is_up_to_date, system_hash, system_state
from elbench.surface_charge import sigma_uC_cm2

__all__ = ["build_system", "is_up_to_date", "sigma_uC_cm2", "system_hash", "system_state"]
