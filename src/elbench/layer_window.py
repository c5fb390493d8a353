"""The rule for a user-set first-layer window [MIN, MAX] (Å from the surface plane).

One owner for ``elbench analyze --first-layer MIN MAX`` (checked in
:mod:`elbench.analysis.first_layer`) and the campaign key ``[analysis] first_layer_A``
(checked in :mod:`elbench.config`). A leaf module with no imports, so the analyze command
does not load pydantic and the schema does not load the analysis package.
"""

from __future__ import annotations

import math

#: what a window may be, for error messages
WINDOW_ALLOWED = "[MIN, MAX] in Å from the surface plane with 0 <= MIN < MAX"


def window_problem(window) -> str | None:
    """Why ``window`` is not a first-layer window (MIN, MAX), or None when it is one."""
    try:
        lo, hi = (float(x) for x in window)
    except (TypeError, ValueError):
        return f"{window!r} is not two numbers"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"[{lo:g}, {hi:g}] is not finite"
    if lo < 0:
        return f"MIN {lo:g} Å is negative"
    if lo >= hi:
        return f"MIN {lo:g} Å is not below MAX {hi:g} Å"
    return None
