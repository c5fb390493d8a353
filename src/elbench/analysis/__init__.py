"""Interfacial observables of metal/electrolyte MD trajectories (MDAnalysis AnalysisBase subclasses).

One file per observable, as MAICoS does:

- ``surface``      top/bottom metal layer planes per frame (:class:`SurfacePlane`), the distance grid
- ``density``      O, H, cation number densities and water mass density (:class:`DensityProfiles`)
- ``orientation``  water dipole ⟨cos θ⟩(d), P(cos θ), O–H angles (:class:`WaterOrientation`)
- ``ions``         cation distance distribution, contact fraction, coordination (:class:`CationDistribution`)
- ``blocks``       block sums, standard errors, drift check
- ``interface``    everything in one pass (:class:`InterfaceAnalysis`) — what ``elbench analyze`` runs
- ``readers``      LAMMPS data (+ type map) with DCD / XTC / dump custom / extxyz
- ``writers``, ``plots``, ``pipeline`` (one trajectory → files), ``campaign`` (every finished run)

Outputs of ``elbench analyze`` (per results directory):

- ``profiles.csv``: ``z_A, rho_water_g_cm3, n_O_per_A3, n_H_per_A3, n_<cation>_per_A3, cos_theta,
  rho_cos_theta_g_cm3`` then the same names with ``_err`` (block standard errors); 10 significant
  digits; ``#`` header lines with version, input hashes, frames, dz. In the sandwich geometry
  ``profiles.csv`` is the symmetrized profile (``--no-symmetrize``: the top face) and
  ``profiles_top.csv`` / ``profiles_bottom.csv`` hold each face.
- ``summary.json``: ``interfaces.<top|bottom|symmetrized>`` with ``first_O_peak_position_A``,
  ``first_O_peak_rho_g_cm3``, ``first_layer_boundary_A`` (+ ``_source`` auto|user|none),
  ``first_layer_water_per_nm2``, ``first_layer_cos_theta``, ``first_layer_h_down_fraction``,
  ``first_layer_h_up_fraction`` (each scalar with ``_err`` and ``_blocks``),
  ``first_layer_p_cos_theta`` {cos_theta, density}, and ``cation`` {n_cations, n_cation_frames,
  contact_fraction, coordination_all/contact/solvated (+ _err, _blocks), contact_cutoff_A,
  coordination_cutoff_A, mean_distance_A, distance_pdf {edges_A, density_per_A}};
  ``frames`` {start, stop, step, n_analysed}; ``trajectory`` {path, format, n_frames_complete,
  dropped_partial_frames}; ``topology``; ``settings``; ``profiles_interface``; ``info`` (counts,
  block_frames, metal_layers, oxygen_with_n_H_per_frame, h_assignment); ``warnings`` (list of
  strings: partial frames, non-converged scalars, OH⁻/H₃O⁺); ``provenance``; ``elbench_version``;
  ``seconds``, ``analysis_seconds``, ``frames_per_second``.
- ``density.png``, ``orientation.png``.
"""
