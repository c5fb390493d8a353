"""Number density profiles of O, H and the cation vs distance from the surface.

n_X(d) = ⟨N_X in bin⟩ / (A · dz) in Å⁻³, averaged over frames (A = the cell's
xy area in that frame); the water mass density counts each water at its O:
ρ_water = n_O · M(H₂O) / N_A · 10²⁴ in g cm⁻³ (CODATA 2018 N_A via scipy).
"""

from __future__ import annotations

import numpy as np
from scipy.constants import Avogadro

from elbench.analysis.base import Chunk, ChunkedAnalysis, frame_weighted_hist
from elbench.analysis.blocks import BlockSums, sem, weighted_block_mean
from elbench.analysis.columns import number_density_column
from elbench.analysis.first_layer import FirstLayer, parabola_vertex
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
    """Per-block sums of N/(A dz) per bin for O, H and the cation, per interface.

    Contributes the density columns of profiles.csv, the first O peak height and
    the first-layer water coverage.
    """

    name = "density"

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

    def collect(self, faces: list[str]) -> dict[str, np.ndarray]:
        """Per-block mean number densities ``n_O``, ``n_H``, ``n_C`` (n_blocks, n_bins), Å⁻³, averaged over ``faces``."""
        frames = self.analysis.block_frames[:, None].astype(np.float64)
        return {"n_" + s: sum(self.sums[f][s].sums for f in faces) / frames / len(faces) for s in SPECIES}

    def columns(self, b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """rho_water, n_O, n_H, n_<cation> and their ``_err`` (block standard errors)."""
        frames = self.analysis.block_frames
        cation = number_density_column(self.analysis.roles.cation_element)
        names = (("n_O", number_density_column("O")), ("n_H", number_density_column("H")), ("n_C", cation))
        cols = {"rho_water_g_cm3": number_to_mass_density(weighted_block_mean(b["n_O"], frames))}
        cols |= {label: weighted_block_mean(b[key], frames) for key, label in names}
        errs = {"rho_water_g_cm3_err": sem(number_to_mass_density(b["n_O"]))}
        errs |= {label + "_err": sem(b[key]) for key, label in names}
        return cols | errs

    def scalars(self, b: dict[str, np.ndarray], layer: FirstLayer, in_layer: np.ndarray) -> tuple[dict, dict]:
        """First O peak height (g cm⁻³) and waters per nm² in the first layer, each with its block values."""
        grid = self.analysis.grid
        frames = self.analysis.block_frames
        scalars: dict[str, tuple[float, np.ndarray]] = {}
        if layer.peak_index is not None:
            heights = [parabola_vertex(grid.centers, block, layer.peak_index)[1] for block in b["n_O"]]
            scalars["first_O_peak_rho_g_cm3"] = (
                float(number_to_mass_density(layer.peak_height)), number_to_mass_density(np.array(heights))
            )
        # waters per nm² in the first layer: Σ n_O dz over the layer, Å⁻² → nm⁻²
        per_nm2 = b["n_O"][:, in_layer].sum(axis=1) * grid.dz * 100.0
        w = frames / frames.sum()
        scalars["first_layer_water_per_nm2"] = (float((per_nm2 * w).sum()), per_nm2)
        return {}, scalars
