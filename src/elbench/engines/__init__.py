"""How a model meets LAMMPS: the native binary, and the Python bridge."""
