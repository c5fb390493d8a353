"""Helpers for the SLURM tests: the one-node loopback cluster the test session starts."""
