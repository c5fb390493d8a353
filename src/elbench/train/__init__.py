"""Training inputs for every MLIP family with a matched number of gradient updates.

* each family spec's ``training`` (:mod:`elbench.families`) — its template, data format,
  commands, hyperparameter presets (``tiny`` for CPU tests, ``paper`` for clusters), log parser;
* :mod:`.render` — converts a split to the family's format and renders the
  Jinja template under ``lammps_inputs/train/``, ``train.json``, ``run.sh``, ``job.sbatch``;
* :mod:`.run` — runs the commands locally in the family's environment;
* :mod:`.curves` — learning curves from each family's log (CSV + PNG).

Gradient updates: GU = epochs × n_train / batch_size. Each family gets the same
GU: DeePMD ``numb_steps`` = GU; MACE/GRACE epochs = round(GU × batch / n_train);
pacemaker's BFGS is full batch (batch = n_train), so ``maxiter`` = GU; fairchem
``max_steps`` = GU. ``train.json`` records the requested and the effective GU.
"""
