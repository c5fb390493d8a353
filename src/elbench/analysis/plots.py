"""PNG figures of one analysis: density and water orientation vs distance from the surface."""

from __future__ import annotations

import numpy as np


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(6.0, 4.0), layout="constrained")


def _band(ax, x, y, err, **kw):
    (line,) = ax.plot(x, y, **kw)
    if err is not None:
        ax.fill_between(x, y - err, y + err, color=line.get_color(), alpha=0.25, linewidth=0)
    return line


def _region(cols: dict, pad_A: float = 1.0) -> np.ndarray:
    """Bins from just below the surface to the last bin holding water."""
    z = cols["z_A"]
    has = np.flatnonzero(cols["n_O_per_A3"] > 0)
    hi = z[has[-1]] + pad_A if len(has) else z[-1]
    return (z >= -pad_A) & (z <= hi)


def density_figure(cols: dict, cation: str, title: str = ""):
    """Water mass density (left axis) and cation number density (right axis) vs d."""
    fig = _figure()
    ax = fig.add_subplot()
    m = _region(cols)
    z = cols["z_A"][m]
    _band(ax, z, cols["rho_water_g_cm3"][m], cols["rho_water_g_cm3_err"][m], color="C0", label="water (O)")
    ax.set_xlabel("distance from surface d (Å)")
    ax.set_ylabel("ρ water (g cm⁻³)")
    key = f"n_{cation}_per_A3"
    if np.any(cols[key] > 0):
        ax2 = ax.twinx()
        _band(ax2, z, cols[key][m], cols[key + "_err"][m], color="C3", label=cation)
        ax2.set_ylabel(f"n {cation} (Å⁻³)", color="C3")
    ax.set_title(title)
    ax.legend(loc="upper right")
    return fig


def orientation_figure(cols: dict, title: str = ""):
    """⟨cos θ⟩(d) and ρ(d)·⟨cos θ⟩(d) of the water dipole."""
    fig = _figure()
    axes = fig.subplots(2, 1, sharex=True)
    m = _region(cols)
    z = cols["z_A"][m]
    _band(axes[0], z, cols["cos_theta"][m], cols["cos_theta_err"][m], color="C2")
    axes[0].axhline(0.0, color="0.6", lw=0.8)
    axes[0].set_ylabel("⟨cos θ⟩")
    _band(axes[1], z, cols["rho_cos_theta_g_cm3"][m], cols["rho_cos_theta_g_cm3_err"][m], color="C4")
    axes[1].axhline(0.0, color="0.6", lw=0.8)
    axes[1].set_ylabel("ρ⟨cos θ⟩ (g cm⁻³)")
    axes[1].set_xlabel("distance from surface d (Å)")
    axes[0].set_title(title)
    return fig
