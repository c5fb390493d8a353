"""Running campaigns: locally (``elbench run``) and on SLURM (``elbench submit``/``status``).

runner (segments, monitoring, outcomes), deck (segment decks from in.lammps), restart
(alternating restart files), trajectory (segment files joined frame by frame), checks
(blow-up detection), logparse (LAMMPS logs), lock (per-run locks), state (status.json,
launch.json), slurm (job arrays, squeue/sacct), overview (``elbench status``).
"""
