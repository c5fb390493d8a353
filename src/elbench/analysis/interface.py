"""All interfacial observables in one pass: density, orientation, ions, blocks.

:class:`InterfaceAnalysis` runs the kernels of the observable modules
(:mod:`~elbench.analysis.density`, :mod:`~elbench.analysis.orientation`,
:mod:`~elbench.analysis.ions`) on the same chunks of frames (one read of the
trajectory, one surface search per frame). After the pass each kernel hands over
its per-block sums by name (``collect``); the first-layer geometry is found once
on the O density (:mod:`~elbench.analysis.first_layer`), and each kernel turns
the sums into its profile columns (``columns``) and its summary scalars
(``scalars``), each scalar with a block standard error.

In the ``sandwich`` geometry the top face (normal +z) and the bottom face
(normal −z) are separate interfaces; ``symmetrized`` merges their sums
(densities averaged, cos θ pooled over both faces with each face's own normal).
"""

from __future__ import annotations

import numpy as np

from elbench.analysis.base import ChunkedAnalysis
from elbench.analysis.blocks import BlockRatio, drift_check, estimate, weighted_block_mean
from elbench.analysis.columns import DISTANCE_COLUMN, profile_columns
from elbench.analysis.density import DensityKernel
from elbench.analysis.dipole import DipoleKernel
from elbench.analysis.first_layer import FirstLayer, first_layer
from elbench.analysis.ions import IonKernel
from elbench.analysis.orientation import OrientationKernel


class InterfaceAnalysis(ChunkedAnalysis):
    """Density, water orientation and ion observables of a metal/electrolyte interface.

    After ``run()``: ``results.profiles[name]`` (dict of columns, contract names)
    and ``results.summary[name]`` (scalars with ``_err`` and ``_blocks``) for each
    interface name (``top``; ``bottom`` and ``symmetrized`` in a sandwich), plus
    ``results.info`` (frames, blocks, searches, warnings).
    """

    kernel_classes = (DensityKernel, OrientationKernel, IonKernel, DipoleKernel)  # dipole after orientation (its H→O assignment)

    def __init__(
        self,
        atomgroup,
        *,
        first_layer_max_A: float | None = None,
        first_layer_A: tuple[float, float] | None = None,
        coordination_cutoff_A: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(atomgroup, **kwargs)
        self.first_layer_max_A = first_layer_max_A
        #: user window (MIN, MAX) in Å: the first layer is MIN <= d < MAX (None: automatic bound)
        self.first_layer_A = None if first_layer_A is None else (float(first_layer_A[0]), float(first_layer_A[1]))
        self.coordination_cutoff_A = coordination_cutoff_A

    @property
    def output_names(self) -> list[str]:
        names = list(self.interface_names)
        return names + ["symmetrized"] if self.geometry == "sandwich" else names

    def _conclude_kernels(self) -> None:
        self.results.profiles = {}
        self.results.summary = {}
        #: per interface: output tables (file name → columns) of kernels with ``tables`` (dipole, angles)
        self.results.tables = {}
        warnings: list[str] = []
        for name in self.output_names:
            faces = self.interface_names if name == "symmetrized" else [name]
            blocks = self._collect(faces)
            self.results.profiles[name] = self._profile(blocks)
            self.results.summary[name] = self._scalars(blocks, name, warnings)
            layer = self.first_layer(blocks)
            self.results.tables[name] = {}
            for kernel in self.kernels.values():
                if hasattr(kernel, "tables"):
                    self.results.tables[name] |= kernel.tables(faces, blocks, layer)
        orientation = self.kernels["orientation"].info()
        self.results.info = {
            "n_frames_analysed": int(self.block_frames.sum()),
            "n_blocks": self.n_blocks,
            "block_frames": self.block_frames.tolist(),
            "dz_A": self.dz_A,
            "geometry": self.geometry,
            "grid_first_edge_A": self.grid.edge0,
            "n_bins": self.grid.n_bins,
            "metal": self.roles.metal_element,
            "cation": self.roles.cation_element,
            "counts": {
                "metal": len(self.roles.metal),
                "O": len(self.roles.oxygen),
                "H": len(self.roles.hydrogen),
                "cation": len(self.roles.cation),
            },
            "oxygen_with_n_H_per_frame": orientation["oxygen_with_n_H_per_frame"],
            "metal_layers": self.plane_stats(),
            "h_assignment": orientation["h_assignment"],
            "coordination_cutoff_A": self.kernels["ions"].cutoff,
            "reader": getattr(self, "read_path", "frame loop"),
        }
        per_frame = orientation["oxygen_with_n_H_per_frame"]
        if per_frame["1"] + per_frame["3"] > 0:
            warnings.append(
                f"not every O has two H: {per_frame['1']:.3g} OH and {per_frame['3']:.3g} H3O per frame on average"
            )
        self.results.warnings = warnings

    def _collect(self, faces: list[str]) -> dict[str, np.ndarray]:
        """Every kernel's per-block arrays for these faces, by name."""
        out: dict[str, np.ndarray] = {}
        for kernel in self.kernels.values():
            out |= kernel.collect(faces)
        return out

    def _profile(self, b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The profiles.csv columns, in contract order."""
        cols = {DISTANCE_COLUMN: self.grid.centers}
        for kernel in self.kernels.values():
            cols |= kernel.columns(b)
        return {name: cols[name] for name in profile_columns(self.roles.cation_element)}

    def first_layer(self, b: dict[str, np.ndarray]) -> FirstLayer:
        """First O peak and first-layer bound of the frame-averaged O density.

        ``--first-layer MIN MAX`` replaces the layer by that window, ``--first-layer-max`` its bound.
        """
        n_o = weighted_block_mean(b["n_O"], self.block_frames)
        return first_layer(self.grid.centers, n_o, self.first_layer_max_A, window_A=self.first_layer_A)

    def window_water_count(self) -> float:
        """Water O counted in the user window over the whole trajectory, summed over all faces (0: outside the water)."""
        if self.first_layer_A is None:
            return float("nan")
        b = self._collect(list(self.interface_names))
        mask = FirstLayer(None, None, None, self.first_layer_A[1], "user", self.first_layer_A[0]).mask(self.grid.centers)
        return float(b["n_O"][:, mask].sum())

    def _scalars(self, b: dict[str, np.ndarray], name: str, warnings: list[str]) -> dict:
        layer = self.first_layer(b)
        in_layer = layer.mask(self.grid.centers)
        out: dict = {
            "first_layer_boundary_A": layer.boundary_A,
            "first_layer_boundary_source": layer.boundary_source,
            "first_layer_source": layer.boundary_source,
            "first_layer_window_A": layer.window_A,
            "first_O_peak_position_A": layer.peak_position_A,
        }
        if layer.peak_index is None:
            warnings.append(f"{name}: no first O density peak found")
        scalars: dict[str, BlockRatio | tuple[float, np.ndarray]] = {}
        for kernel in self.kernels.values():
            fields, values = kernel.scalars(b, layer, in_layer)
            out |= fields
            scalars |= values
        for key, quantity in scalars.items():
            value, err, blocks = estimate(quantity)
            out[key] = _num(value)
            out[key + "_err"] = _num(err)
            out[key + "_blocks"] = [_num(x) for x in blocks]
            disagree, z = drift_check(blocks)
            if disagree:
                warnings.append(f"{name}: {key} not converged (first vs last blocks differ by {z:.1f} sigma)")
        contact = out.get("cation", {}).get("contact_fraction_blocks", [])
        disagree, z = drift_check([x if x is not None else np.nan for x in contact])
        if disagree:
            warnings.append(f"{name}: cation contact_fraction not converged ({z:.1f} sigma)")
        return out


def _num(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None
