"""The ``elbench`` command line: one module per verb, registered in :mod:`elbench.cli.main`."""
