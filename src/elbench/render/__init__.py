"""Deck rendering: one Jinja environment (StrictUndefined), validated values, run directories.

* :mod:`.validate` — what may reach a deck or a script;
* :mod:`.environment` — the Jinja environment over ``lammps_inputs/``;
* :mod:`.system` — reading ``systems/q<n>/system.json``;
* :mod:`.deck` — the NVT MD deck and the pair block of each family;
* :mod:`.command` — argv, KOKKOS switches, ``run.sh``, :func:`~.command.bridge_command`;
* :mod:`.rundir` — ``elbench render``: plan, validate, then write ``runs/<model>/q<n>/s<seed>/``.
"""

from elbench.render.command import bridge_command
from elbench.render.runs import plan_runs, render_campaign, write_runs

__all__ = ["bridge_command", "plan_runs", "render_campaign", "write_runs"]
