"""Number density profiles of O, H and the cation vs distance from the surface.

n_X(d) = ⟨N_X in bin⟩ / (A · dz) in Å⁻³, averaged over frames (A = the cell's
xy area in that frame); the water mass density counts each water at its O:
ρ_water = n_O · M(H₂O) / N_A · 10²⁴ in g cm⁻³ (CODATA 2018 N_A via scipy).
"""

from __future__ import annotations

import numpy as np
from scipy.constants import Avogadro

from elbench.analysis.base import Chunk, ChunkedAnalysis, frame_weighted_hist
from elbench.analysis.blocks import BlockSums, sem
from elbench.elements import mass_amu

#: Å⁻³ → cm⁻³
PER_A3_TO_PER_CM3 = 1.0e24
SPECIES = ("O", "H", "C")


def water_molar_mass() -> float:
    return mass_amu("O") + 2.0 * mass_amu("H")


def number_to_mass_density(n_per_A3: np.ndarray) -> np.ndarray:
    """Water number density (Å⁻³) → mass density (g cm⁻³)."""
    return np.asarray(n_per_A3) * water_molar_mass() / Avogadro * PER_A3_TO_PER_CM3


class DensityKernel:
    """Per-block sums of N/(A dz) per bin for O, H and the cation, per interface."""

    def __init__(self, analysis: ChunkedAnalysis) -> None:
        self.analysis = analysis
        self.sums: dict[str, dict[str, BlockSums]] = {}

    def accumulate(self, chunk: Chunk) -> None:
        grid = self.analysis.grid
        weights = 1.0 / (chunk.area * grid.dz)
        for face in chunk.interfaces:
            sums = self.sums.setdefault(
                face.name, {s: BlockSums(grid.n_bins, self.analysis.n_blocks) for s in SPECIES}
            )
            for s in SPECIES:
                if face.bins[s].shape[1]:
                    sums[s].add(chunk.block, frame_weighted_hist(face.bins[s], weights, grid.n_bins))

    def block_profiles(self, name: str, frames: np.ndarray) -> dict[str, np.ndarray]:
        """Per-block mean density of each species (n_blocks, n_bins), Å⁻³."""
        return {s: self.sums[name][s].sums / frames[:, None] for s in SPECIES}


class DensityProfiles(ChunkedAnalysis):
    """Number densities (Å⁻³) of O, H and the cation and water mass density vs d.

    ``results.<interface>`` holds ``z_A``, ``n_O_per_A3``, ``n_H_per_A3``,
    ``n_cation_per_A3``, ``rho_water_g_cm3`` and their ``*_err`` (block SEM).
    """

    kernel_classes = (DensityKernel,)

    def _conclude_kernels(self) -> None:
        kernel = self.kernels[0]
        for name in self.interface_names:
            blocks = kernel.block_profiles(name, self.block_frames)
            out = {"z_A": self.grid.centers}
            for s, label in (("O", "n_O_per_A3"), ("H", "n_H_per_A3"), ("C", "n_cation_per_A3")):
                out[label] = blocks[s].mean(axis=0) if _equal_blocks(self) else _weighted(self, blocks[s])
                out[label + "_err"] = sem(blocks[s])
            out["rho_water_g_cm3"] = number_to_mass_density(out["n_O_per_A3"])
            out["rho_water_g_cm3_err"] = number_to_mass_density(out["n_O_per_A3_err"])
            self.results[name] = out


def _equal_blocks(analysis: ChunkedAnalysis) -> bool:
    return bool(np.all(analysis.block_frames == analysis.block_frames[0]))


def _weighted(analysis: ChunkedAnalysis, block_means: np.ndarray) -> np.ndarray:
    w = analysis.block_frames / analysis.block_frames.sum()
    return (block_means * w[:, None]).sum(axis=0)
