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
- ``density.png``, ``orientation.png``.
"""
