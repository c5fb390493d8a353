"""The classical charged-electrode reference model (a stand-in for DFT, not DFT): its parameters.

A leaf package: build, the reference family and the labeller
(:mod:`elbench.dataset.label`, which runs the model in LAMMPS) read :mod:`.forcefield`.
"""
