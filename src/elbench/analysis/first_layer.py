"""The first water layer: first O density peak and the first-layer bound, one definition for all of elbench.

``elbench analyze`` (``summary.json``: ``first_O_peak_position_A``, ``first_O_peak_rho_g_cm3``,
``first_layer_boundary_A``), ``elbench report`` (first O peak position and height, the first layer
of profiles without a summary) and the registry's stability records (``potentials/trained/stability.py``,
through the report) all call :func:`first_layer` on an O (or water mass) density profile ρ(d) on a
uniform grid of distances d from the surface plane.

Definition
----------
1. **Where the extrema are** is decided on ρ smoothed by a centred boxcar of
   :data:`SMOOTHING_A` (0.3 Å, three 0.1 Å bins): at 0.1 Å bins and ~100 ps of
   a 300-water cell a raw profile has single-bin wiggles of a few per cent, which
   can pass for a local maximum or minimum; the structure of interest (peak width
   ~0.3–0.5 Å, layer spacing ~3 Å) is not changed by a 0.3 Å average.
2. **First peak**: the first local maximum of the smoothed ρ at d > 0 that reaches
   :data:`PEAK_FRACTION` of the smoothed maximum (so a small shoulder or an
   adsorbed water close to the metal is not "the layer").
3. **Peak position and height**: the raw bin with the largest ρ within one
   smoothing window of that maximum, refined by the vertex of the parabola through
   it and its two neighbours (:func:`parabola_vertex`). The vertex of a sampled
   Gaussian of σ = 0.3 Å is within 0.005 Å of its centre, where the bin centre
   alone is off by up to dz/2 = 0.05 Å; the height is the vertex's, not the bin's,
   so it does not depend on where the bin edges fall.
4. **First-layer bound**: the first local minimum of the smoothed ρ after the
   peak that is below :data:`MINIMUM_FRACTION` of the smoothed peak (a dip of
   noise on the peak's flank is not the end of the layer); the bound is that
   bin's centre, and the layer is every bin centre below it. This is the
   physical definition (the water between the metal and the first density
   minimum); "the lowest point within 3.5 Å of the peak", which the report used
   before, can jump to the second minimum when that is deeper, and reads a raw,
   noisy profile.
5. **User window** (``elbench analyze --first-layer MIN MAX``, campaign
   ``[analysis] first_layer_A = [MIN, MAX]``): the layer is every bin whose centre
   d has MIN <= d < MAX (the study's WatAnalysis gives its first layer this way,
   e.g. 0–4.5 Å); the bound is MAX, ``boundary_source`` is ``user`` and
   ``lower_A`` is MIN. :meth:`FirstLayer.mask` is the one place the layer's bins
   are chosen, for every first-layer observable.

The definition is the analysis's earlier one with the report's parabola
refinement of the peak: first-layer bounds (and everything integrated over the
first layer) are unchanged; peak positions move by less than half a bin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Boxcar width (Å) of the smoothing used only to find the extrema.
SMOOTHING_A = 0.3
#: The first peak must reach this fraction of the (smoothed) global maximum.
PEAK_FRACTION = 0.5
#: The first-layer minimum must lie below this fraction of the (smoothed) first peak.
MINIMUM_FRACTION = 0.8


@dataclass(frozen=True)
class FirstLayer:
    """First O peak and first-layer bound of one density profile (None where not found).

    ``peak_index`` is the raw bin the parabola was fitted around; ``boundary_source``
    is ``auto`` (found here), ``user`` (given) or ``none`` (not found). ``lower_A``
    is the lower edge of a user window (None: the layer starts at the grid's first bin).
    """

    peak_index: int | None
    peak_position_A: float | None
    peak_height: float | None
    boundary_A: float | None
    boundary_source: str
    lower_A: float | None = None

    @property
    def window_A(self) -> list[float | None] | None:
        """``[lower, upper]`` of the layer in Å (lower None: no lower edge); None where there is no layer."""
        if self.boundary_A is None:
            return None
        return [self.lower_A, self.boundary_A]

    def mask(self, centers: np.ndarray) -> np.ndarray:
        """Boolean mask of the first-layer bins: lower_A <= d < boundary_A at bin centres d."""
        centers = np.asarray(centers)
        if self.boundary_A is None:
            return np.zeros(centers.shape, dtype=bool)
        inside = centers < self.boundary_A
        if self.lower_A is not None:
            inside &= centers >= self.lower_A
        return inside


def smoothing_width(dz: float) -> int:
    """Bins in the :data:`SMOOTHING_A` boxcar at bin width ``dz`` (at least one)."""
    return max(1, int(round(SMOOTHING_A / dz)))


def parabola_vertex(z: np.ndarray, y: np.ndarray, i: int) -> tuple[float, float]:
    """(position, height) of the vertex of the parabola through bins i-1, i, i+1.

    The bin itself where it is at the grid's edge or not a strict maximum of the
    three; the vertex is kept within one bin of z[i].
    """
    if i <= 0 or i >= len(y) - 1:
        return float(z[i]), float(y[i])
    y0, y1, y2 = float(y[i - 1]), float(y[i]), float(y[i + 1])
    denom = y0 - 2.0 * y1 + y2
    if not denom < 0:
        return float(z[i]), y1
    offset = min(1.0, max(-1.0, 0.5 * (y0 - y2) / denom))
    return float(z[i] + offset * (z[i + 1] - z[i])), y1 - 0.25 * (y0 - y2) * offset


def first_layer(
    z: np.ndarray,
    rho: np.ndarray,
    boundary_override_A: float | None = None,
    window_A: tuple[float, float] | None = None,
) -> FirstLayer:
    """First peak and first-layer bound of density ``rho`` at bin centres ``z`` (uniform, increasing).

    ``boundary_override_A`` (a user's choice) replaces the bound found here;
    ``window_A`` = (MIN, MAX) (a user's window) replaces the whole layer: MIN <= d < MAX.
    The first O peak is found the same way in every case.
    """
    z = np.asarray(z, dtype=np.float64)
    rho = np.nan_to_num(np.asarray(rho, dtype=np.float64))
    lower = None
    if window_A is not None:
        lower, boundary_override_A = float(window_A[0]), float(window_A[1])
    user = boundary_override_A is not None
    none = FirstLayer(None, None, None, float(boundary_override_A) if user else None, "user" if user else "none", lower)
    if len(z) < 3:
        return none
    dz = float(np.median(np.diff(z)))
    width = smoothing_width(dz)
    smooth = np.convolve(rho, np.ones(width) / width, mode="same")
    pos = np.flatnonzero(z > 0)
    if len(pos) < 3 or smooth[pos].max() <= 0:
        return none
    s = smooth[pos]
    peak_local = _first_peak(s)
    peak = int(pos[peak_local])
    lo, hi = max(peak - width, int(pos[0])), min(peak + width + 1, len(rho))
    raw = int(lo + np.argmax(rho[lo:hi]))
    position, height = parabola_vertex(z, rho, raw)
    if user:
        return FirstLayer(raw, position, height, float(boundary_override_A), "user", lower)
    j = _first_minimum(s, peak_local)
    if j is None:
        return FirstLayer(raw, position, height, None, "none")
    return FirstLayer(raw, position, height, float(z[pos[j]]), "auto")


def _first_peak(s: np.ndarray) -> int:
    """Index of the first local maximum of ``s`` reaching :data:`PEAK_FRACTION` of its maximum."""
    top = s.max()
    for i in range(len(s)):
        left = s[i - 1] if i > 0 else -np.inf
        right = s[i + 1] if i + 1 < len(s) else -np.inf
        if s[i] >= PEAK_FRACTION * top and s[i] >= left and s[i] >= right:
            return i
    return int(np.argmax(s))  # pragma: no cover - the maximum is always a local maximum


def _first_minimum(s: np.ndarray, peak: int) -> int | None:
    """Index of the first local minimum of ``s`` after ``peak`` below :data:`MINIMUM_FRACTION` of it."""
    for j in range(peak + 1, len(s) - 1):
        if s[j] <= s[j - 1] and s[j] <= s[j + 1] and s[j] < MINIMUM_FRACTION * s[peak]:
            return j
    return None
