"""Helpers for the launch and SLURM tests: tiny hand-written run directories and a one-node cluster."""
