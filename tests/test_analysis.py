"""Known-answer tests of the interfacial observables (surface, density, orientation, ions, blocks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.constants import Avogadro

from analysis_cases import Z_TOP, grid_xy, slab, write_case
from elbench.analysis.density import water_molar_mass
from elbench.analysis.interface import InterfaceAnalysis
from elbench.analysis.orientation import HydrogenAssigner, nearest_oxygen
from elbench.analysis.readers import open_trajectory
from elbench.analysis.surface import ProfileGrid, metal_planes

RNG = np.random.default_rng(20260101)


def _run(data, traj, cls=InterfaceAnalysis, **kw):
    opened = open_trajectory(traj, data)
    kw.setdefault("type_map", opened.data.type_map)
    return cls(opened.universe.atoms, **kw).run()


def _bin(z_a: np.ndarray, d: float) -> int:
    return int(np.argmin(np.abs(z_a - d)))


def test_metal_planes_slab_across_boundary_and_unwrapped():
    metal, _, _ = slab()
    lz = 30.0
    z = metal[:, 2]
    for shift in (0.0, 28.0, 29.9, -3.0, 30.0, 61.3):
        planes = metal_planes((z + shift)[None], np.array([lz]))
        top = np.mod(planes.z_top[0] - shift - Z_TOP + lz / 2, lz) - lz / 2
        assert top == pytest.approx(0.0, abs=1e-9)
        assert planes.thickness[0] == pytest.approx(4.5, abs=1e-9)
        assert planes.n_layers[0] == 3


def test_profile_grid_edges_are_multiples_of_dz_from_surface():
    grid = ProfileGrid.for_cell(0.1, 40.0, 4.5)
    assert grid.edge0 == pytest.approx(-2.3)
    assert grid.n_bins == 400
    d = grid.distances(np.array([[Z_TOP + 5.25, Z_TOP - 3.0, Z_TOP + 37.0]]), np.array([Z_TOP]), 1, np.array([40.0]))
    assert d[0] == pytest.approx([5.25, 37.0, -3.0 + 40.0])


def test_fixed_orientation_water_exact_cos_and_bin(tmp_path):
    """One water at d = 5.25 Å with cos θ = 0.6: that bin holds it, ⟨cos θ⟩ = 0.6 exactly."""
    metal, lx, ly = slab()
    cos0 = 0.6
    dipole = np.array([[np.sqrt(1 - cos0**2), 0.0, cos0]])
    oxygen = [np.array([[RNG.uniform(0, lx), RNG.uniform(0, ly), Z_TOP + 5.25]]) for _ in range(10)]
    data, traj, _ = write_case(tmp_path, oxygen, [dipole] * 10, metal=metal, lx=lx, ly=ly)
    res = _run(data, traj).results
    prof = res.profiles["top"]
    k = _bin(prof["z_A"], 5.25)
    assert prof["z_A"][k] == pytest.approx(5.25)
    assert prof["cos_theta"][k] == pytest.approx(cos0, abs=2e-6)
    assert prof["cos_theta_err"][k] == pytest.approx(0.0, abs=1e-6)
    others = np.delete(prof["cos_theta"], k)
    assert np.all(np.isnan(others))
    area = lx * ly
    assert prof["n_O_per_A3"][k] == pytest.approx(1.0 / (area * 0.1), rel=1e-6)
    assert prof["n_O_per_A3"].sum() * area * 0.1 == pytest.approx(1.0, rel=1e-6)
    rho = prof["n_O_per_A3"][k] * water_molar_mass() / Avogadro * 1e24
    assert prof["rho_water_g_cm3"][k] == pytest.approx(rho, rel=1e-12)
    assert prof["rho_cos_theta_g_cm3"][k] == pytest.approx(rho * cos0, rel=1e-5)
    s = res.summary["top"]
    assert s["first_O_peak_position_A"] == pytest.approx(5.25)


def _uniform_slab(n_per_bin_layer=1, d0=3.0, d1=13.0, dz=0.1, frames=5):
    """O at every bin centre between d0 and d1: an exactly flat O density."""
    metal, lx, ly = slab()
    ds = np.arange(d0 + dz / 2, d1, dz)
    xy = grid_xy(len(ds), lx, ly, np.random.default_rng(3))
    o = np.column_stack([xy, Z_TOP + ds])
    dip = np.tile([[0.0, 0.0, 1.0]], (len(ds), 1))
    return metal, lx, ly, [o] * frames, [dip] * frames, len(ds)


def test_uniform_slab_flat_profile_equal_to_it(tmp_path):
    metal, lx, ly, o, dip, n = _uniform_slab()
    data, traj, _ = write_case(tmp_path, o, dip, metal=metal, lx=lx, ly=ly)
    prof = _run(data, traj, geometry="slab").results.profiles["top"]
    inside = (prof["z_A"] > 3.0) & (prof["z_A"] < 13.0)
    expected = 1.0 / (lx * ly * 0.1)
    np.testing.assert_allclose(prof["n_O_per_A3"][inside], expected, rtol=1e-6)
    assert np.all(prof["n_O_per_A3"][~inside] == 0)
    slab_rho = n * water_molar_mass() / Avogadro / (lx * ly * 10.0) * 1e24
    np.testing.assert_allclose(prof["rho_water_g_cm3"][inside], slab_rho, rtol=1e-6)
    assert prof["n_H_per_A3"].sum() * lx * ly * 0.1 == pytest.approx(2 * n, rel=1e-6)


def test_isotropic_waters_cos_consistent_with_zero(tmp_path):
    metal, lx, ly = slab(size=(6, 6, 3))
    rng = np.random.default_rng(7)
    # waters on a 3D grid 3.2 Å apart (intact, unambiguous H→O), random dipoles per frame
    nx, ny = int(lx // 3.2), int(ly // 3.2)
    gx, gy, gz = np.meshgrid(np.arange(nx) * lx / nx, np.arange(ny) * ly / ny, Z_TOP + 3.0 + 3.2 * np.arange(5))
    o = np.column_stack([gx.ravel(), gy.ravel(), gz.ravel()])
    frames = 40
    dips = []
    for _ in range(frames):
        v = rng.normal(size=o.shape)
        dips.append(v / np.linalg.norm(v, axis=1)[:, None])
    data, traj, _ = write_case(tmp_path, [o] * frames, dips, metal=metal, lx=lx, ly=ly, lz=30.0)
    res = _run(data, traj, first_layer_max_A=20.0, n_blocks=8).results
    s = res.summary["top"]
    n = len(o) * frames
    expected_err = np.sqrt(1 / 3) / np.sqrt(n)
    assert abs(s["first_layer_cos_theta"]) < 4 * s["first_layer_cos_theta_err"]
    assert 0.4 * expected_err < s["first_layer_cos_theta_err"] < 2.5 * expected_err
    assert res.info["oxygen_with_n_H_per_frame"]["2"] == len(o)
    # P(cos θ) of isotropic dipoles is flat at 1/2
    dens = np.array(s["first_layer_p_cos_theta"]["density"])
    assert dens.mean() == pytest.approx(0.5, rel=1e-9)
    assert np.all(np.abs(dens - 0.5) < 0.25)


@pytest.mark.parametrize("shift,wrap", [(17.3, True), (33.0, True), (40.0, False), (-12.0, False)])
def test_shift_across_periodic_boundary_same_profiles(tmp_path, shift, wrap):
    metal, lx, ly = slab()
    rng = np.random.default_rng(11)
    o = [np.column_stack([grid_xy(30, lx, ly, rng), Z_TOP + 3.05 + 0.2 * rng.integers(0, 40, 30)]) for _ in range(10)]
    d = [rng.normal(size=(30, 3)) for _ in range(10)]
    c = [np.array([[1.0, 1.0, Z_TOP + 2.55], [4.0, 5.0, Z_TOP + 7.45]])] * 10
    ref = _run(*write_case(tmp_path, o, d, metal=metal, lx=lx, ly=ly, cation_frames=c, name="ref")[:2]).results
    moved = _run(
        *write_case(tmp_path, o, d, metal=metal, lx=lx, ly=ly, cation_frames=c, shift_z=shift, wrap=wrap, name="moved")[:2]
    ).results
    a, b = ref.profiles["top"], moved.profiles["top"]
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=1e-5, atol=2e-5, err_msg=key)  # float32 DCD coordinates
    assert moved.summary["top"]["cation"]["contact_fraction"] == pytest.approx(ref.summary["top"]["cation"]["contact_fraction"])


def test_sandwich_two_interfaces_and_symmetrized(tmp_path):
    """Slab in mid-cell; water above the top face (cos +0.5) and below the bottom face (cos +0.8 along −z)."""
    metal, lx, ly = slab()
    metal = metal.copy()
    metal[:, 2] += 10.0  # layers at 10.5, 12.75, 15.0
    top, bottom = 15.0, 10.5
    n = 6
    xy = grid_xy(n, lx, ly)
    o_top = np.column_stack([xy, np.full(n, top + 4.05)])
    o_bot = np.column_stack([xy, np.full(n, bottom - 6.05)])
    d_top = np.tile([[np.sqrt(0.75), 0.0, 0.5]], (n, 1))
    d_bot = np.tile([[0.6, 0.0, -0.8]], (n, 1))
    o = [np.vstack([o_top, o_bot])] * 10
    d = [np.vstack([d_top, d_bot])] * 10
    data, traj, _ = write_case(tmp_path, o, d, metal=metal, lx=lx, ly=ly, lz=30.0)
    res = _run(data, traj, geometry="sandwich").results
    pt, pb, ps = (res.profiles[k] for k in ("top", "bottom", "symmetrized"))
    kt, kb = _bin(pt["z_A"], 4.05), _bin(pb["z_A"], 6.05)
    assert pt["cos_theta"][kt] == pytest.approx(0.5, abs=2e-6)
    assert pb["cos_theta"][kb] == pytest.approx(0.8, abs=2e-6)
    per = 1.0 / (lx * ly * 0.1)
    assert pt["n_O_per_A3"][kt] == pytest.approx(n * per)
    assert pb["n_O_per_A3"][kb] == pytest.approx(n * per)
    # in the top interface's frame the bottom-face waters sit at d = 30 - 4.5 - 6.05 = 19.45
    assert pt["n_O_per_A3"][_bin(pt["z_A"], 19.45)] == pytest.approx(n * per)
    # symmetrized: each face's waters count half (the other face has none at that distance)
    assert ps["n_O_per_A3"][kt] == pytest.approx(0.5 * n * per)
    assert ps["n_O_per_A3"][kb] == pytest.approx(0.5 * n * per)
    assert ps["cos_theta"][kt] == pytest.approx(0.5, abs=2e-6)
    assert ps["cos_theta"][kb] == pytest.approx(0.8, abs=2e-6)


def test_density_agrees_with_mdanalysis_lineardensity(tmp_path):
    from MDAnalysis.analysis.lineardensity import LinearDensity

    metal, lx, ly = slab()
    rng = np.random.default_rng(5)
    o = [np.column_stack([rng.uniform(0, lx, 80), rng.uniform(0, ly, 80), rng.uniform(7.0, 25.0, 80)]) for _ in range(10)]
    d = [rng.normal(size=(80, 3)) for _ in range(10)]
    data, traj, _ = write_case(tmp_path, o, d, metal=metal, lx=lx, ly=ly, lz=40.0)
    opened = open_trajectory(traj, data)
    mine = InterfaceAnalysis(opened.universe.atoms, type_map=opened.data.type_map).run().results.profiles["top"]
    opened.universe.add_TopologyAttr("charges")  # LinearDensity wants charges; atom_style atomic has none
    ox = opened.universe.select_atoms("element O")
    ld = LinearDensity(ox, grouping="atoms", binsize=0.0999).run()  # 400 bins of 0.1 Å (40 // 0.1 == 399 in floats)
    assert len(ld.results.z.mass_density) == 400
    # LinearDensity gives the O mass density (g cm⁻³) in bins [k·0.1, (k+1)·0.1) of absolute z
    from MDAnalysis.units import constants

    theirs = ld.results.z.mass_density / ox.masses[0] * constants["N_Avogadro"] * 1e-24  # → Å⁻³
    z_abs = mine["z_A"] + Z_TOP
    k = np.floor(z_abs / 0.1 + 1e-9).astype(int) % len(theirs)
    nonzero = theirs[k] > 0
    assert nonzero.sum() > 100
    rel = np.abs(mine["n_O_per_A3"][nonzero] - theirs[k][nonzero]) / theirs[k][nonzero]
    assert rel.max() < 1e-6
    assert mine["n_O_per_A3"].sum() == pytest.approx(theirs.sum(), rel=1e-6)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("seed", [9, 10])
def test_hydrogen_assigner_matches_kd_tree_every_frame(compiled, seed):
    """The cached assignment equals a fresh nearest-O search in every frame, proton hops included."""
    rng = np.random.default_rng(seed)
    box = np.array([15.0, 15.0, 15.0])
    n_o = 60
    o0 = rng.uniform(0, 15, (n_o, 3))
    h0 = o0[np.repeat(np.arange(n_o), 2)] + rng.normal(scale=0.6, size=(2 * n_o, 3))
    frames = 40
    o = np.empty((frames, n_o, 3), np.float32)
    h = np.empty((frames, 2 * n_o, 3), np.float32)
    for f in range(frames):
        o[f] = np.mod(o0 + rng.normal(scale=0.05 * f, size=o0.shape), box)
        h[f] = np.mod(h0 + rng.normal(scale=0.3, size=h0.shape), box)
    lengths = np.tile(box, (frames, 1))
    assigner = HydrogenAssigner(n_o, 2 * n_o, compiled=compiled)
    got = np.vstack([assigner.assign_chunk(o[s : s + 16], h[s : s + 16], lengths[s : s + 16])[0] for s in range(0, frames, 16)])
    for f in range(frames):
        _, ref = nearest_oxygen(o[f], h[f], box)
        assert np.array_equal(got[f], ref), f
    # every path of the bound was taken: cheap bound, listed neighbours, all O, list renewals
    assert assigner.candidate_checks > 0 and assigner.brute_force_h > 0 and assigner.list_builds > 1


def test_cation_contact_fraction_and_coordination(tmp_path):
    metal, lx, ly = slab()
    # cation 1 at d = 2.55 (contact) with 3 O within 3.2 Å, cation 2 at d = 9.45 (solvated) with 6 O
    c1 = np.array([2.0, 2.0, Z_TOP + 2.55])
    c2 = np.array([6.0, 5.0, Z_TOP + 9.45])
    shell = lambda c, vecs: c + 2.4 * np.asarray(vecs, float)  # noqa: E731
    o = np.vstack(
        [
            shell(c1, [[1, 0, 0], [-1, 0, 0], [0, 0, 1]]),
            shell(c2, [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]]),
        ]
    )
    dip = np.tile([[0.0, 0.0, 1.0]], (len(o), 1))
    frames = 10
    data, traj, _ = write_case(
        tmp_path, [o] * frames, [dip] * frames, metal=metal, lx=lx, ly=ly, cation_frames=[np.vstack([c1, c2])] * frames
    )
    res = _run(data, traj, first_layer_max_A=4.0).results.summary["top"]["cation"]
    assert res["contact_fraction"] == pytest.approx(0.5)
    assert res["coordination_contact"] == pytest.approx(3.0)
    assert res["coordination_solvated"] == pytest.approx(6.0)
    assert res["coordination_all"] == pytest.approx(4.5)
    assert sum(res["distance_pdf"]["density_per_A"]) * 0.25 == pytest.approx(1.0)


DATA = Path(__file__).parent / "data" / "analysis"


def test_shipped_reference_trajectory_invariants_and_maicos_density():
    """The 21-frame reference MD (tests/data/analysis): physical invariants, and MAICoS agreement."""
    import maicos

    opened = open_trajectory(DATA / "reference_q1.dcd", DATA / "reference_q1.data")
    assert opened.n_frames == 21 and opened.dropped_partial_frames == 0
    res = InterfaceAnalysis(opened.universe.atoms, type_map=opened.data.type_map).run().results
    prof, top = res.profiles["top"], res.summary["top"]
    n_o = res.info["counts"]["O"]
    assert res.info["oxygen_with_n_H_per_frame"]["2"] == n_o  # every water intact, found without bonds
    assert res.info["h_assignment"]["brute_force_checks"] == 0
    area = n_o / (prof["n_O_per_A3"].sum() * 0.1)
    u = opened.universe
    assert area == pytest.approx(u.dimensions[0] * u.dimensions[1], rel=1e-6)
    assert 2.0 < top["first_O_peak_position_A"] < 4.0
    # MAICoS DensityPlanar of O (number density over absolute z, its own bins of Lz/310 Å):
    # the bins do not coincide with ours, so compare the z-integrated density N_O / A
    ox = u.select_atoms("element O")
    dp = maicos.DensityPlanar(ox, dens="number", bin_width=0.1, unwrap=False).run()
    width = float(dp.results.bin_pos[1] - dp.results.bin_pos[0])
    assert prof["n_O_per_A3"].sum() * 0.1 == pytest.approx(dp.results.profile.sum() * width, rel=1e-5)


def test_compiled_and_numpy_paths_agree(tmp_path):
    metal, lx, ly = slab()
    rng = np.random.default_rng(21)
    o = [np.column_stack([grid_xy(40, lx, ly, rng), Z_TOP + rng.uniform(2.5, 14, 40)]) for _ in range(12)]
    d = [rng.normal(size=(40, 3)) for _ in range(12)]
    data, traj, _ = write_case(tmp_path, o, d, metal=metal, lx=lx, ly=ly)
    c = [np.array([[1.0, 1.0, Z_TOP + 2.55], [4.0, 5.0, Z_TOP + 7.45]])] * 12
    data, traj, _ = write_case(tmp_path, o, d, metal=metal, lx=lx, ly=ly, cation_frames=c, name="ions")
    fast = _run(data, traj, geometry="sandwich").results
    slow = _run(data, traj, geometry="sandwich", compiled=False).results
    for name in ("top", "bottom", "symmetrized"):
        for key, col in fast.profiles[name].items():
            np.testing.assert_allclose(col, slow.profiles[name][key], rtol=1e-9, atol=1e-12, err_msg=f"{name} {key}")
    assert fast.info["oxygen_with_n_H_per_frame"] == slow.info["oxygen_with_n_H_per_frame"]
    assert fast.summary["top"]["first_layer_p_cos_theta"] == slow.summary["top"]["first_layer_p_cos_theta"]
    assert fast.summary["top"]["cation"] == slow.summary["top"]["cation"]
    for name in ("top", "bottom", "symmetrized"):
        for key in ("first_layer_total_dipole_per_nm2", "slab_total_dipole_per_nm2"):
            assert fast.summary[name][key] == pytest.approx(slow.summary[name][key], rel=1e-9, abs=1e-12)
        for fname, table in fast.tables[name].items():
            for key, col in table.items():
                np.testing.assert_allclose(col, slow.tables[name][fname][key], rtol=1e-9, atol=1e-12, err_msg=f"{fname} {key}")


def _tracked_planes(z, lz, layer_gap=1.0):
    """The compiled, layer-following surface search over frames ``z`` (nf, n_metal), fresh state."""
    from elbench.analysis import _kernels

    nf, nm = z.shape
    top, bottom, layers = np.empty(nf), np.empty(nf), np.empty(nf, dtype=np.int64)
    state = (np.zeros(nm, dtype=np.int64), np.zeros(nm), np.zeros(1, dtype=np.int64))
    sorts = _kernels.metal_planes(np.ascontiguousarray(z), lz, layer_gap, *state, top, bottom, layers)
    return top, bottom, layers, sorts


def _same_planes(top, bottom, layers, ref, lz):
    half = lz / 2
    np.testing.assert_allclose(np.mod(top - ref.z_top + half, lz) - half, 0, atol=1e-9)
    np.testing.assert_allclose(top - bottom, ref.thickness, atol=1e-9)
    np.testing.assert_array_equal(layers, ref.n_layers)


def test_compiled_metal_planes_equal_numpy():
    metal, _, _ = slab()
    rng = np.random.default_rng(4)
    lz = np.full(50, 30.0)
    # independent random shifts of the whole slab, across the periodic boundary
    z = (metal[:, 2][None] + rng.uniform(-40, 40, (50, 1)) + rng.normal(scale=0.1, size=(50, len(metal)))).astype(np.float32)
    top, bottom, layers, sorts = _tracked_planes(z, lz)
    _same_planes(top, bottom, layers, metal_planes(z, lz), lz)
    assert np.all(layers == 3)
    assert sorts == 1  # each atom takes the image nearest its last one: rigid shifts keep the layers


def test_compiled_metal_planes_follow_layers_and_notice_changes():
    """Layers kept from frame to frame while valid; re-found when a layer changes or the slab jumps."""
    metal, _, _ = slab()  # three layers
    rng = np.random.default_rng(5)
    nf, lz = 400, np.full(400, 30.0)
    drift = np.cumsum(rng.normal(scale=0.2, size=nf))[:, None]  # the slab walks across the periodic boundary
    z = metal[:, 2][None] + drift + rng.normal(scale=0.08, size=(nf, len(metal)))
    top_atom = int(np.argmax(metal[:, 2]))
    z[150:300, top_atom] += 1.6  # an adatom leaves the top layer: four layers in frames 150-299
    z[250, :] += 7.3  # one frame with the whole slab jumped
    z = z.astype(np.float32)
    top, bottom, layers, sorts = _tracked_planes(z, lz)
    _same_planes(top, bottom, layers, metal_planes(z, lz), lz)
    assert set(layers[:150]) == {3} and set(layers[150:300]) == {4} and set(layers[300:]) == {3}
    assert sorts == 3  # the first frame and the two layer changes; drift and the jump keep the layers


def test_compiled_oxygen_neighbours_equal_brute_force():
    """Cell-list neighbour lists (and the all-pairs fallback in small boxes) equal a brute-force search."""
    from elbench.analysis._kernels import oxygen_neighbours

    rng = np.random.default_rng(8)
    for _ in range(25):
        n = int(rng.integers(2, 300))
        box, radius, k = rng.uniform(5, 30, 3), float(rng.uniform(2, 6)), int(rng.integers(1, 25))
        o = rng.uniform(-5, 35, (n, 3))
        nbr, dist = oxygen_neighbours(o, box, radius, k)
        d = o[None] - o[:, None]
        r = np.sqrt(((d - box * np.rint(d / box)) ** 2).sum(-1))
        np.fill_diagonal(r, np.inf)
        for i in range(n):
            want = [j for j in np.lexsort((np.arange(n), r[i])) if r[i, j] <= radius][:k]
            assert nbr[i, : len(want)].tolist() == want
            np.testing.assert_allclose(dist[i, : len(want)], r[i, want], rtol=1e-12)
            assert np.all(nbr[i, len(want):] == i) and np.all(np.isinf(dist[i, len(want):]))


def _window_case(tmp_path):
    """Three groups of waters at fixed d and cos θ, and three cations; the automatic layer ends near 3.25 Å.

    2 waters at d = 1.05 Å (cos θ = 0.9), 12 at 3.05 Å (the first peak, cos θ = −0.5), 8 at 6.05 Å
    (cos θ = 0.3); cations at 1.55, 6.55 and 6.75 Å.
    """
    metal, lx, ly = slab()
    groups = ((2, 1.05, 0.9, 1), (12, 3.05, -0.5, 2), (8, 6.05, 0.3, 3))
    o = np.vstack([np.column_stack([grid_xy(n, lx, ly, np.random.default_rng(s)), np.full(n, Z_TOP + d)])
                   for n, d, _, s in groups])
    dip = np.vstack([np.tile([np.sqrt(1 - c**2), 0.0, c], (n, 1)) for n, _, c, _ in groups])
    cations = np.array([[1.0, 1.0, Z_TOP + 1.55], [5.0, 5.0, Z_TOP + 6.55], [2.0, 7.0, Z_TOP + 6.75]])
    data, traj, _ = write_case(tmp_path, [o] * 6, [dip] * 6, metal=metal, lx=lx, ly=ly, cation_frames=[cations] * 6)
    return data, traj, lx * ly


@pytest.mark.parametrize(
    ("window", "cos", "n_waters", "contact"),
    [
        (None, (2 * 0.9 - 12 * 0.5) / 14, 14, 1 / 3),  # automatic: d below the first minimum (1.05 and 3.05 Å)
        ((2.0, 4.5), -0.5, 12, 0.0),  # the lower edge leaves out the waters and cation closer to the metal
        ((5.0, 7.0), 0.3, 8, 2 / 3),  # only the second group
        ((0.0, 7.0), (2 * 0.9 - 12 * 0.5 + 8 * 0.3) / 22, 22, 1.0),
    ],
)
def test_first_layer_window_vs_automatic_bound(tmp_path, window, cos, n_waters, contact):
    """The same frames with the automatic layer and with user windows: every first-layer scalar follows the window."""
    data, traj, area = _window_case(tmp_path)
    s = _run(data, traj, geometry="slab", first_layer_A=window).results.summary["top"]
    assert s["first_layer_source"] == ("auto" if window is None else "user")
    assert s["first_layer_boundary_source"] == s["first_layer_source"]
    if window is None:
        assert 3.05 < s["first_layer_boundary_A"] < 6.05
        assert s["first_layer_window_A"] == [None, s["first_layer_boundary_A"]]
    else:
        assert s["first_layer_window_A"] == list(window) and s["first_layer_boundary_A"] == window[1]
    assert s["first_layer_cos_theta"] == pytest.approx(cos, abs=2e-6)
    assert s["first_layer_water_per_nm2"] == pytest.approx(n_waters / area * 100.0, rel=1e-6)
    assert s["cation"]["contact_fraction"] == pytest.approx(contact)
    assert s["cation"]["contact_window_A"] == s["first_layer_window_A"]
    assert s["first_O_peak_position_A"] == pytest.approx(3.05, abs=0.05)  # the peak does not depend on the window
    # H-down / H-up: O–H bonds of the waters in the layer only
    p = s["first_layer_p_cos_theta"]
    mass = np.asarray(p["density"]) * (2.0 / len(p["density"]))
    assert mass.sum() == pytest.approx(1.0)
    if window == (5.0, 7.0):
        assert s["first_layer_h_down_fraction"] == pytest.approx(0.0)
        assert np.asarray(p["cos_theta"])[mass > 0] == pytest.approx([0.3], abs=0.05)
