"""A posterior sample of the behavioural parameters, as experiments read it.

``cryptoabm calibrate`` writes ``validation/calibration/posterior.parquet``: one row a draw,
one column a behavioural parameter (dotted config key, e.g. ``adoption.imitation_q``), and an
optional ``weight`` column (non-negative; equal weights without it). An experiment names it in
``[uncertainty] posterior = "posterior.parquet"``; replicate r then runs with draw number
``posterior_rows(...)[r]`` in **every** arm and design point, so a paired effect compares policies
on the same behaviour (and, through the seed, the same price path).

The file is looked for next to the experiment, then in ``../validation/calibration/``: only a
bare file name is accepted, so nothing an experiment names escapes those folders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

WEIGHT_COLUMN = "weight"
POSTERIOR_STREAM = 0x9057  # the replicates' posterior rows draw from (base seed, this)
FILE_NAME_PATTERN = r"^[A-Za-z0-9_.-]+\.parquet$"
SEARCHED = (".", "../validation/calibration")  # relative to the experiment's folder


class PosteriorError(ValueError):
    """A posterior file that cannot be used (one plain line)."""


@dataclass(frozen=True)
class Posterior:
    path: Path
    keys: tuple[str, ...]  # dotted config keys, the file's columns
    values: np.ndarray  # draws x keys
    weights: np.ndarray  # draws, summing to 1

    def row(self, index: int) -> dict[str, Any]:
        return {key: float(value) for key, value in zip(self.keys, self.values[index], strict=True)}

    def corners(self) -> list[dict[str, Any]]:
        """The lowest and highest value of each parameter over the draws: what load-time validation tries."""
        return [dict(zip(self.keys, map(float, self.values.min(axis=0)), strict=True)),
                dict(zip(self.keys, map(float, self.values.max(axis=0)), strict=True))]


def find_posterior(experiment_path: Path, name: str) -> Path | None:
    """Where an experiment's posterior file is (see the module docstring), or None."""
    if not re.match(FILE_NAME_PATTERN, name):
        raise PosteriorError(f"'{name}' is not a bare file name ending in .parquet")
    for folder in SEARCHED:
        candidate = experiment_path.parent / folder / name
        if candidate.is_file():
            return candidate.resolve()
    return None


def read_posterior(path: Path) -> Posterior:
    """Read and check a posterior file: numeric finite columns, at least one draw, weights >= 0
    with a positive sum."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises several kinds for a file that is not parquet
        raise PosteriorError(f"cannot read {path.name}: {str(exc).splitlines()[0]}") from None
    if table.empty:
        raise PosteriorError(f"{path.name} holds no draws")
    weights = table.pop(WEIGHT_COLUMN).to_numpy(dtype=float) if WEIGHT_COLUMN in table else np.ones(len(table))
    keys = tuple(str(column) for column in table.columns)
    bad = [k for k in keys if "." not in k]
    if bad or not keys:
        raise PosteriorError(f"{path.name}: column '{bad[0] if bad else ''}' is not a dotted config key "
                             f"(section.field) and not '{WEIGHT_COLUMN}'")
    try:
        values = table.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise PosteriorError(f"{path.name}: every parameter column must be numeric") from None
    if not np.isfinite(values).all() or not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise PosteriorError(f"{path.name}: values must be finite and weights non-negative with a positive sum")
    return Posterior(path, keys, values, weights / weights.sum())


def posterior_rows(posterior: Posterior, replications: int, base_seed: int) -> np.ndarray:
    """The draw each replicate runs with: ``replications`` rows drawn with replacement in
    proportion to the weights, seeded from the base seed (the same in every arm)."""
    rng = np.random.default_rng(np.random.SeedSequence([base_seed, POSTERIOR_STREAM]))
    return rng.choice(len(posterior.weights), size=replications, replace=True, p=posterior.weights)
