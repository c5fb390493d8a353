"""Train/valid/test splits for mixed and single-charge training sets.

Splits are drawn per charge state with ``numpy.random.default_rng(seed)``, so a
given dataset, seed and fractions always give the same frames, and the mixed set
contains every charge state in each split in proportion (stratified). The
single-charge set ``q<n>`` of charge state n uses the same frames for n as the
mixed set, so mixed and single models are tested on identical frames.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from ase import Atoms

from elbench.dataset.frames import group_by_charge_state, write_frames
from elbench.errors import InputError
from elbench.io import atomic_write_json

SPLIT_NAMES = ("train", "valid", "test")


def split_counts(n: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    """Frames in (train, valid, test); valid and test get at least one frame each when n >= 3."""
    n_valid = max(1, math.floor(n * fractions[1] + 0.5)) if fractions[1] > 0 else 0
    n_test = max(1, math.floor(n * fractions[2] + 0.5)) if fractions[2] > 0 else 0
    return n - n_valid - n_test, n_valid, n_test


def check_fractions(fractions: tuple[float, float, float], keys: tuple[str, str, str] = SPLIT_NAMES) -> None:
    """Every split gets a positive fraction and they sum to 1: an empty valid or test split is refused,
    because training (valid) and the RMSE report (test) read both. ``keys`` name the fractions in errors
    (the CLI passes its option names)."""
    if len(fractions) != 3:
        raise InputError(f"split fractions {fractions} must be three numbers (train, valid, test)", key="fractions")
    allowed = f"each of {', '.join(keys)} > 0 and < 1, summing to 1"
    for key, value in zip(keys, fractions):
        if not value > 0 or not value < 1:
            what = "empty" if value == 0 else "impossible"
            raise InputError(f"{value:g} would make the {SPLIT_NAMES[keys.index(key)]} split {what}",
                             key=key, allowed=allowed)
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise InputError(f"split fractions {' + '.join(f'{f:g}' for f in fractions)} = {sum(fractions):g}, not 1",
                         key="/".join(keys), allowed=allowed)


def split_indices(frames: list[Atoms], seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                  keys: tuple[str, str, str] = SPLIT_NAMES) -> dict[int, dict[str, list[int]]]:
    """{charge_state: {"train": [...], "valid": [...], "test": [...]}} of frame indices; no part is empty."""
    check_fractions(fractions, keys)
    out: dict[int, dict[str, list[int]]] = {}
    for n, indices in group_by_charge_state(frames).items():
        counts = split_counts(len(indices), fractions)
        if counts[0] < 1 or any(c < 1 for c, f in zip(counts, fractions) if f > 0):
            raise InputError(
                f"charge state {n} has {len(indices)} frames: too few for a train/valid/test split "
                f"with fractions {fractions} (an empty split)",
                key="/".join(keys), allowed="at least 3 frames per charge state, and a train fraction that leaves one",
            )
        rng = np.random.default_rng([seed, n])
        order = rng.permutation(np.asarray(indices))
        a, b = counts[0], counts[0] + counts[1]
        out[n] = {"train": sorted(order[:a].tolist()), "valid": sorted(order[a:b].tolist()), "test": sorted(order[b:].tolist())}
    return out


def set_names(charge_states: list[int]) -> list[str]:
    """'mixed' plus one 'q<n>' per charge state."""
    return ["mixed", *[f"q{n}" for n in charge_states]]


def members(split: dict[int, dict[str, list[int]]], set_name: str, part: str) -> list[int]:
    """Frame indices of one part of one training set."""
    if set_name == "mixed":
        return sorted(i for parts in split.values() for i in parts[part])
    n = int(set_name[1:])
    if n not in split:
        raise InputError(f"no frames with charge state {n}", key="set", allowed=", ".join(set_names(sorted(split))))
    return list(split[n][part])


def write_splits(frames: list[Atoms], out_dir: str | Path, seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                 source: str | None = None, keys: tuple[str, str, str] = SPLIT_NAMES) -> dict:
    """Write out_dir/<set>/{train,valid,test}.extxyz and out_dir/splits.json; returns the JSON.

    Every split is computed and checked before the first file is written, so a refused split writes nothing.
    """
    out_dir = Path(out_dir)
    split = split_indices(frames, seed, fractions, keys)
    record = {"seed": seed, "fractions": list(fractions), "source": source, "sets": {}}
    for name in set_names(sorted(split)):
        record["sets"][name] = {part: members(split, name, part) for part in SPLIT_NAMES}
        for part, idx in record["sets"][name].items():
            if not idx:
                raise InputError(f"split {name}/{part} is empty", key="/".join(keys))
    for name, parts in record["sets"].items():
        for part, idx in parts.items():
            write_frames(out_dir / name / f"{part}.extxyz", [frames[i] for i in idx])
    atomic_write_json(out_dir / "splits.json", record)
    return record
