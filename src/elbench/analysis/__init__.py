"""Interfacial observables of metal/electrolyte MD trajectories, in one pass over the trajectory.

``elbench analyze`` runs one MDAnalysis ``AnalysisBase``, :class:`~elbench.analysis.interface.InterfaceAnalysis`,
which reads frames in chunks (``base``) and hands every chunk to one *kernel* per observable.
Each observable has its own file with its kernel: what it accumulates per block, the
``profiles.csv`` columns and the ``summary.json`` scalars it produces (by name, no positions):

- ``density``      O, H, cation number densities and water mass density (:class:`DensityKernel`);
                   first O peak height, first-layer waters per nm²
- ``orientation``  water dipole ⟨cos θ⟩(d), P(cos θ), O–H angles (:class:`OrientationKernel`,
                   H→O assignment :class:`HydrogenAssigner`)
- ``ions``         cation contact fraction, coordination, distance distribution (:class:`IonKernel`)
- ``dipole``       total dipole per frame Σ cos θ / A (first layer, slab side) with its distribution,
                   and P(cos θ) of dipoles and O–H bonds per layer (:class:`DipoleKernel`)
- ``first_layer``  the first O peak and the first-layer bound: the one definition analysis,
                   report and registry use
- ``surface``      top/bottom metal layer planes per chunk of frames, the distance grid
- ``columns``      the profiles.csv columns (writer, readers, report and tests use it)
- ``interface``    the one pass (:class:`InterfaceAnalysis`): kernels → profiles, scalars, info
- ``base``         chunked AnalysisBase, atom roles, the DCD fast path; ``_kernels`` its numba loops
- ``blocks``       block sums, standard errors, drift check
- ``readers``      LAMMPS data (+ type map) with DCD / XTC / dump custom / extxyz; ``dcd`` direct DCD reads
- ``writers``, ``plots``, ``pipeline`` (one trajectory → files), ``campaign`` (every finished run)

Adding an observable: CONTRIBUTING.md, "Adding an observable".

Outputs of ``elbench analyze`` (per results directory):

- ``profiles.csv``: ``z_A``, the value columns of :mod:`elbench.analysis.columns` (water mass density,
  O / H / cation number densities, cos θ, ρ·cos θ), then the same names with ``_err`` (block standard errors); 10 significant
  digits; ``#`` header lines with version, input hashes, frames, dz. In the sandwich geometry
  ``profiles.csv`` is the symmetrized profile (``--no-symmetrize``: the top face) and
  ``profiles_top.csv`` / ``profiles_bottom.csv`` hold each face.
- ``summary.json``: ``interfaces.<top|bottom|symmetrized>`` with ``first_O_peak_position_A``,
  ``first_O_peak_rho_g_cm3``, ``first_layer_boundary_A`` (+ ``_source`` auto|user|none),
  ``first_layer_source`` (the same: auto|user|none) and ``first_layer_window_A`` ([MIN, MAX] Å of a
  user window, ``--first-layer MIN MAX`` / ``[analysis] first_layer_A``: bins with MIN <= d < MAX;
  [null, bound] for the automatic bound or ``--first-layer-max``; null where none was found),
  ``first_layer_water_per_nm2``, ``first_layer_cos_theta``, ``first_layer_h_down_fraction``,
  ``first_layer_h_up_fraction`` (each scalar with ``_err`` and ``_blocks``),
  ``first_layer_p_cos_theta`` {cos_theta, density}, and ``cation`` {n_cations, n_cation_frames,
  contact_fraction, coordination_all/contact/solvated (+ _err, _blocks), contact_cutoff_A,
  contact_window_A (the first layer's window: "in contact" = in the first layer),
  coordination_cutoff_A, mean_distance_A, distance_pdf {edges_A, density_per_A}};
  ``frames`` {start, stop, step, n_analysed}; ``trajectory`` {path, format, n_frames_complete,
  dropped_partial_frames}; ``topology``; ``settings`` (+ ``first_layer_A``: the user window or null,
  ``first_layer_source``: auto|user); ``profiles_interface``; ``info`` (counts,
  block_frames, metal_layers, oxygen_with_n_H_per_frame, h_assignment); ``warnings`` (list of
  strings: partial frames, non-converged scalars, OH⁻/H₃O⁺); ``provenance``; ``elbench_version``;
  ``seconds``, ``analysis_seconds``, ``frames_per_second``.
- ``summary.json`` (added): ``first_layer_total_dipole_per_nm2`` and ``slab_total_dipole_per_nm2`` (mean over
  frames of the per-frame total dipole M = Σ cos θ / A over the first layer's / this interface side's intact waters,
  cos θ = μ_z/|μ| with the normal into the electrolyte, A the lateral area; nm⁻²; each with ``_err`` and
  ``_blocks``), ``angle_layers_A`` {first_layer, second_layer, bulk: [lo, hi] Å} (second = bound to bound + 3 Å,
  bulk = to the O-density-weighted mean d of the water).
- ``total_dipole.csv``: ``total_dipole_per_nm2`` (bin centre, bins of 0.05 nm⁻²), ``p_first_layer_nm2``,
  ``p_slab_nm2`` (probability densities of M, nm²; one sample per frame and face).
- ``angles_dipole.csv`` / ``angles_oh.csv``: the (d, cos θ) histogram of water dipoles / O–H bonds, long format
  ``d_A`` (bin centre, d >= 0 up to the farthest water), ``cos_theta`` (bin centre, 40 bins on [-1, 1]), ``p_cos_theta`` (P(cos θ | d) per
  unit cos θ, nan where the d bin is empty), ``count`` (over all frames and faces).
- ``angles_layers.csv``: ``cos_theta``, ``p_dipole_first_layer``, ``p_dipole_second_layer``, ``p_dipole_bulk``,
  ``p_oh_first_layer``, ``p_oh_second_layer``, ``p_oh_bulk`` (P(cos θ) per layer, per unit cos θ).
  These four files are of the ``profiles.csv`` interface (symmetrized in a sandwich), 10 significant digits.
- ``density.png``, ``orientation.png``.
"""
