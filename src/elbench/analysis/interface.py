"""All interfacial observables in one pass: density, orientation, ions, blocks.

:class:`InterfaceAnalysis` runs the density, orientation and ion kernels on the
same chunks of frames (one read of the trajectory, one surface search per
frame) and turns their per-block sums into the contract profile table and the
summary scalars, each with a block standard error.

In the ``sandwich`` geometry the top face (normal +z) and the bottom face
(normal −z) are separate interfaces; ``symmetrized`` merges their sums
(densities averaged, cos θ pooled over both faces with each face's own normal).
"""

from __future__ import annotations

import numpy as np

from elbench.analysis.base import ChunkedAnalysis
from elbench.analysis.blocks import drift_check, ratio, sem
from elbench.analysis.density import DensityKernel, number_to_mass_density
from elbench.analysis.ions import IonKernel, contact_split
from elbench.analysis.orientation import N_COS_BINS, OrientationKernel, cos_bin_centers

#: Smoothing window (Å) used only to locate the first O peak and minimum.
PEAK_SMOOTHING_A = 0.3
#: O–H bonds with cos φ below −this are "H-down", above +this "H-up".
H_DOWN_COS = 0.5


class InterfaceAnalysis(ChunkedAnalysis):
    """Density, water orientation and ion observables of a metal/electrolyte interface.

    After ``run()``: ``results.profiles[name]`` (dict of columns, contract names)
    and ``results.summary[name]`` (scalars with ``_err`` and ``_blocks``) for each
    interface name (``top``; ``bottom`` and ``symmetrized`` in a sandwich), plus
    ``results.info`` (frames, blocks, searches, warnings).
    """

    kernel_classes = (DensityKernel, OrientationKernel, IonKernel)

    def __init__(
        self,
        atomgroup,
        *,
        first_layer_max_A: float | None = None,
        coordination_cutoff_A: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(atomgroup, **kwargs)
        self.first_layer_max_A = first_layer_max_A
        self.coordination_cutoff_A = coordination_cutoff_A

    @property
    def output_names(self) -> list[str]:
        names = list(self.interface_names)
        return names + ["symmetrized"] if self.geometry == "sandwich" else names

    def _conclude_kernels(self) -> None:
        self.results.profiles = {}
        self.results.summary = {}
        warnings: list[str] = []
        for name in self.output_names:
            faces = self.interface_names if name == "symmetrized" else [name]
            blocks = self._collect(faces)
            self.results.profiles[name] = self._profile(blocks)
            self.results.summary[name] = self._scalars(blocks, name, warnings)
        dens, orient, ions = self.kernels
        n_frames = int(self.block_frames.sum())
        counts = orient.o_h_counts / max(n_frames, 1)
        self.results.info = {
            "n_frames_analysed": n_frames,
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
            "oxygen_with_n_H_per_frame": {str(i): float(c) for i, c in enumerate(counts[:4])} | {"4+": float(counts[4])},
            "metal_layers": self.plane_stats(),
            "h_assignment": {
                "kd_tree_searches": orient.assigner.searches,
                "neighbour_list_builds": orient.assigner.list_builds,
                "candidate_checks": orient.assigner.candidate_checks,
                "brute_force_checks": orient.assigner.brute_force_h,
            },
            "coordination_cutoff_A": ions.cutoff,
            "reader": getattr(self, "read_path", "frame loop"),
        }
        if counts[1] + counts[3] > 0:
            warnings.append(
                f"not every O has two H: {counts[1]:.3g} OH and {counts[3]:.3g} H3O per frame on average"
            )
        self.results.warnings = warnings

    # -- sums → block arrays ------------------------------------------------------
    def _collect(self, faces: list[str]) -> dict[str, np.ndarray]:
        dens, orient, ions = self.kernels
        frames = self.block_frames[:, None].astype(np.float64)
        nf = len(faces)
        out = {}
        for s in ("O", "H", "C"):
            out["n_" + s] = sum(dens.sums[f][s].sums for f in faces) / frames / nf
        for key in ("cos_sum", "n_water", "hist_dipole", "hist_oh"):
            out[key] = sum(orient.sums[f][key].sums for f in faces)
        for key in ("count", "cn_sum"):
            out["ion_" + key] = sum(ions.sums[f][key].sums for f in faces) if ions.sums else None
        return out

    def _profile(self, b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        w = self.block_frames / self.block_frames.sum()
        mean = lambda x: (x * w[:, None]).sum(axis=0)  # noqa: E731  (frame-weighted block mean)
        cation = self.roles.cation_element
        cos_blocks = ratio(b["cos_sum"], b["n_water"])
        rho_blocks = number_to_mass_density(b["n_O"])
        cos = ratio(b["cos_sum"].sum(axis=0), b["n_water"].sum(axis=0))
        rho = number_to_mass_density(mean(b["n_O"]))
        cols = {
            "z_A": self.grid.centers,
            "rho_water_g_cm3": rho,
            "n_O_per_A3": mean(b["n_O"]),
            "n_H_per_A3": mean(b["n_H"]),
            f"n_{cation}_per_A3": mean(b["n_C"]),
            "cos_theta": cos,
            "rho_cos_theta_g_cm3": rho * cos,
        }
        errs = {
            "rho_water_g_cm3_err": sem(rho_blocks),
            "n_O_per_A3_err": sem(b["n_O"]),
            "n_H_per_A3_err": sem(b["n_H"]),
            f"n_{cation}_per_A3_err": sem(b["n_C"]),
            "cos_theta_err": sem(cos_blocks),
            "rho_cos_theta_g_cm3_err": sem(rho_blocks * cos_blocks),
        }
        return cols | errs

    # -- scalars -----------------------------------------------------------------
    def _scalars(self, b: dict[str, np.ndarray], name: str, warnings: list[str]) -> dict:
        centers = self.grid.centers
        dz = self.grid.dz
        w = self.block_frames / self.block_frames.sum()
        n_o = (b["n_O"] * w[:, None]).sum(axis=0)
        peak, boundary, source = first_layer(centers, n_o, dz, self.first_layer_max_A)
        out: dict = {"first_layer_boundary_A": boundary, "first_layer_boundary_source": source}
        scalars: dict[str, tuple[float, np.ndarray]] = {}
        if peak is not None:
            rho_b = number_to_mass_density(b["n_O"][:, peak])
            scalars["first_O_peak_rho_g_cm3"] = (float(number_to_mass_density(n_o[peak])), rho_b)
            out["first_O_peak_position_A"] = float(centers[peak])
        else:
            out["first_O_peak_position_A"] = None
            warnings.append(f"{name}: no first O density peak found")
        layer = (centers < boundary) if boundary is not None else np.zeros_like(centers, dtype=bool)
        # waters per nm² in the first layer: Σ n_O dz over the layer, Å⁻² → nm⁻²
        per_nm2 = b["n_O"][:, layer].sum(axis=1) * dz * 100.0
        scalars["first_layer_water_per_nm2"] = (float((per_nm2 * w).sum()), per_nm2)
        cs, nw = b["cos_sum"][:, layer].sum(axis=1), b["n_water"][:, layer].sum(axis=1)
        scalars["first_layer_cos_theta"] = (float(ratio(cs.sum(), nw.sum())), ratio(cs, nw))
        oh = b["hist_oh"][:, layer, :].sum(axis=1)  # (blocks, cos bins)
        c = cos_bin_centers()
        n_oh = oh.sum(axis=1)
        for key, sel in (("h_down", c < -H_DOWN_COS), ("h_up", c > H_DOWN_COS)):
            part = oh[:, sel].sum(axis=1)
            scalars[f"first_layer_{key}_fraction"] = (float(ratio(part.sum(), n_oh.sum())), ratio(part, n_oh))
        dip = b["hist_dipole"][:, layer, :].sum(axis=(0, 1))
        out["first_layer_p_cos_theta"] = {
            "cos_theta": c.round(6).tolist(),
            "density": (dip / max(dip.sum(), 1) / (2.0 / N_COS_BINS)).tolist(),
        }
        for key, (value, blocks) in scalars.items():
            out[key] = _num(value)
            out[key + "_err"] = _num(sem(blocks))
            out[key + "_blocks"] = [_num(x) for x in blocks]
            disagree, z = drift_check(blocks)
            if disagree:
                warnings.append(f"{name}: {key} not converged (first vs last blocks differ by {z:.1f} sigma)")
        out["cation"] = self._cation_scalars(b, name, boundary, warnings)
        return out

    def _cation_scalars(self, b, name: str, boundary: float | None, warnings: list[str]) -> dict:
        ions = self.kernels[2]
        if b["ion_count"] is None or not len(self.roles.cation):
            return {"n_cations": len(self.roles.cation)}
        res = contact_split(
            b["ion_count"], b["ion_cn_sum"], self.grid.centers, boundary if boundary is not None else 0.0, ions.cutoff
        )
        counts = b["ion_count"].sum(axis=0)
        centers = self.grid.centers
        res["n_cations"] = len(self.roles.cation)
        res["mean_distance_A"] = _num(ratio((counts * centers).sum(), counts.sum()))
        edges = np.arange(0.0, max(float(centers[-1]), 0.25) + 0.25, 0.25)
        hist, _ = np.histogram(centers, bins=edges, weights=counts)
        res["distance_pdf"] = {
            "edges_A": edges.round(6).tolist(),
            "density_per_A": (hist / max(hist.sum(), 1) / 0.25).tolist(),
        }
        disagree, z = drift_check([x if x is not None else np.nan for x in res.get("contact_fraction_blocks", [])])
        if disagree:
            warnings.append(f"{name}: cation contact_fraction not converged ({z:.1f} sigma)")
        return res


def _num(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def first_layer(
    centers: np.ndarray, n_o: np.ndarray, dz: float, override_A: float | None = None
) -> tuple[int | None, float | None, str]:
    """First O-density peak bin and the first-layer boundary (first minimum after it).

    The profile is smoothed over ``PEAK_SMOOTHING_A`` only to find the extrema;
    the first peak is the first local maximum above d = 0 reaching half the
    global maximum, the boundary the first local minimum after it below 80 %
    of the peak. ``override_A`` replaces the boundary.
    """
    width = max(1, int(round(PEAK_SMOOTHING_A / dz)))
    smooth = np.convolve(n_o, np.ones(width) / width, mode="same")
    pos = np.flatnonzero(centers > 0)
    if len(pos) < 3 or smooth[pos].max() <= 0:
        return None, override_A, "user" if override_A else "none"
    s = smooth[pos]
    top = s.max()
    peak_local = None
    for i in range(len(s)):
        left = s[i - 1] if i > 0 else -np.inf
        right = s[i + 1] if i + 1 < len(s) else -np.inf
        if s[i] >= 0.5 * top and s[i] >= left and s[i] >= right:
            peak_local = i
            break
    peak = int(pos[peak_local])
    # the raw peak bin nearest the smoothed maximum
    lo, hi = max(peak - width, pos[0]), min(peak + width + 1, len(n_o))
    peak = int(lo + np.argmax(n_o[lo:hi]))
    if override_A is not None:
        return peak, float(override_A), "user"
    for j in range(peak_local + 1, len(s) - 1):
        if s[j] <= s[j - 1] and s[j] <= s[j + 1] and s[j] < 0.8 * s[peak_local]:
            return peak, float(centers[pos[j]]), "auto"
    return peak, None, "none"
