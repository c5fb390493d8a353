"""Turn a finished reference run's in.lammps into a continuation deck (stability check to >= 100 ps).

usage: python extend_deck.py RUN_DIR STEPS   -> RUN_DIR/in.extend.lammps
Reads restart.final, re-issues the same potential, groups and production fixes, no minimisation and
no new velocities, writes traj_ext.dcd every 40 steps and restart.ext at the end.
"""

import re
import sys
from pathlib import Path

run_dir, steps = Path(sys.argv[1]), int(sys.argv[2])
out = []
for line in (run_dir / "in.lammps").read_text().splitlines():
    word = line.split()[0] if line.split() else ""
    if word == "read_data":
        line = "read_restart    restart.final"
    elif word in ("min_style", "minimize", "reset_timestep", "velocity"):
        continue
    out.append(line)
text = "\n".join(out) + "\n"
# the equilibration run (before the production dump) is dropped; production is extended
head, sep, prod = text.partition("# elbench:section production")
head = re.sub(r"(?m)^run\s+\d+\s*$", "", head)
prod = re.sub(r"(?m)^dump\s+traj all dcd (\d+) traj\.dcd", r"dump            traj all dcd \1 traj_ext.dcd", prod)
prod = re.sub(r"(?m)^restart\s+(\d+) restart\.a restart\.b", r"restart         \1 restart.ext.a restart.ext.b", prod)
prod = re.sub(r"(?m)^run\s+\d+", f"run             {steps}", prod)
prod = prod.replace("write_restart   restart.final", "write_restart   restart.ext")
(run_dir / "in.extend.lammps").write_text(head + sep + prod)
