"""elbench: benchmark MLIPs at charged metal/electrolyte interfaces with LAMMPS."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("elbench")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
