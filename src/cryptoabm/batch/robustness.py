"""Robustness of a policy ranking over the sampled uncertainty, and scenario discovery (PRIM).

Over the points of a sampled design (each averaged over its replications):

- :func:`win_shares`: for each arm against the reference and each outcome with a better side
  (``cryptoabm.summary.BETTER``), the share of points where the arm does better, worse, or
  the same (paired: same point, same seeds);
- :func:`regret_table`: at each point, an arm's regret on an outcome is the gap between the
  best arm's value there and its own; the table gives each arm's largest and mean regret;
- :func:`prim_boxes`: where in parameter space an arm fails a threshold the user gives
  ("total_capital_flight_usd>20m"): PRIM (EMA Workbench's ``ema_workbench.analysis.prim``)
  peels the sampled space down to a box of points that mostly fail; the box reported is the
  densest on the peeling trajectory that still holds at least half of the failing points.
"""

from __future__ import annotations

import logging
import math
import operator
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoabm.batch.sensitivity import AnalysisError, point_means
from cryptoabm.summary import OUTCOMES, better_side

PRIM_MIN_COVERAGE = 0.5  # analysis choice: a box must hold at least half the failing points
PRIM_MASS_MIN = 0.05  # EMA Workbench's default: the smallest box holds 5% of the points
PRIM_RESAMPLES = 10  # EMA Workbench's resampling of a box: PRIM rerun on this many half-samples
PRIM_RESAMPLE_SEED = 19  # the resampling is the same every time the analysis is run
COMPARISONS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "bn": 1e9, "%": 0.01}
THRESHOLD_PATTERN = re.compile(r"^\s*([a-z0-9_]+)\s*(>=|<=|>|<)\s*(-?)\$?\s*([0-9][0-9_,]*(?:\.[0-9]+)?|\.[0-9]+)"
                               r"\s*(k|m|bn|%)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Threshold:
    """A failure condition on an outcome: the arm fails at a point where ``outcome op value``."""

    outcome: str
    op: str
    value: float
    text: str

    def fails(self, values: np.ndarray) -> np.ndarray:
        return COMPARISONS[self.op](values, self.value)


def parse_threshold(text: str) -> Threshold:
    """'total_capital_flight_usd>20m' -> Threshold; AnalysisError (one line) if it does not parse.

    The value is in the outcome's units; k, m and bn multiply by a thousand, a million and a
    billion, % by 0.01 (for shares); a leading $ and thousands separators are allowed."""
    match = THRESHOLD_PATTERN.match(text)
    if match is None:
        raise AnalysisError(f"--threshold '{text}' does not parse; write OUTCOME>VALUE or OUTCOME<VALUE "
                            f"(also >=, <=), e.g. 'total_capital_flight_usd>20m' or 'final_wallet_share<5%'")
    outcome, op, sign, number, suffix = match.groups()
    if outcome not in OUTCOMES:
        raise AnalysisError(f"--threshold '{text}': unknown outcome '{outcome}'; outcomes: {', '.join(OUTCOMES)}")
    value = float(number.replace(",", "").replace("_", "")) * SUFFIXES[(suffix or "").lower()]
    if not math.isfinite(value):
        raise AnalysisError(f"--threshold '{text}': the value {number}{suffix or ''} is too large to be a number "
                            f"(it overflows to infinity); give a finite value")
    return Threshold(outcome, op, -value if sign else value, text.strip())


def ranked_outcomes(outcomes: list[str]) -> list[str]:
    """The outcomes that have a better side (the others cannot rank policies)."""
    return [o for o in outcomes if better_side(o) != "neither"]


def win_shares(runs: pd.DataFrame, reference: str, outcomes: list[str], n_points: int) -> pd.DataFrame:
    """Share of points where each arm beats the reference, loses to it, or ties, per outcome."""
    rows = []
    for outcome in ranked_outcomes(outcomes):
        means = point_means(runs, outcome, n_points)
        sign = 1.0 if better_side(outcome) == "higher" else -1.0
        for arm in means.columns:
            if arm == reference:
                continue
            gain = sign * (means[arm] - means[reference]).to_numpy()
            rows.append({"arm": arm, "reference": reference, "outcome": outcome, "better": better_side(outcome),
                         "share_better": float(np.mean(gain > 0)), "share_worse": float(np.mean(gain < 0)),
                         "share_tie": float(np.mean(gain == 0)), "points": len(gain)})
    return pd.DataFrame(rows, columns=["arm", "reference", "outcome", "better", "share_better", "share_worse",
                                       "share_tie", "points"])


def regret_table(runs: pd.DataFrame, outcomes: list[str], n_points: int) -> pd.DataFrame:
    """Each arm's regret per outcome: the best arm's value at a point minus its own (>= 0),
    largest and mean over the points, and the share of points where it is the best arm."""
    rows = []
    for outcome in ranked_outcomes(outcomes):
        means = point_means(runs, outcome, n_points)
        best = means.max(axis=1) if better_side(outcome) == "higher" else means.min(axis=1)
        for arm in means.columns:
            regret = (best - means[arm]).abs().to_numpy()
            rows.append({"arm": arm, "outcome": outcome, "better": better_side(outcome),
                         "max_regret": float(regret.max()), "mean_regret": float(regret.mean()),
                         "share_best": float(np.mean(regret == 0))})
    return pd.DataFrame(rows, columns=["arm", "outcome", "better", "max_regret", "mean_regret", "share_best"])


def _prim_module():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EMA Workbench warns about optional evaluators it does not need here
            from ema_workbench.analysis import prim
    except ImportError:
        raise AnalysisError("--threshold needs EMA Workbench's PRIM: pip install 'cryptoabm[analysis]'") from None
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def find_box(x: pd.DataFrame, failing: np.ndarray) -> dict[str, Any] | None:
    """PRIM's box of points where ``failing`` is true, or None when no point (or every point) fails.

    Returns coverage (share of failing points inside the box), density (share of points in
    the box that fail), mass (share of all points in the box), and the box's bounds per
    parameter (``restricted`` where narrower than the sampled range)."""
    failing = np.asarray(failing, dtype=bool)
    if not failing.any() or failing.all():
        return None
    prim = _prim_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x.reset_index(drop=True).astype(float), failing.astype(int), mass_min=PRIM_MASS_MIN)
        box = finder.find_box()
    trajectory = box.peeling_trajectory
    eligible = trajectory[trajectory["coverage"] >= PRIM_MIN_COVERAGE]
    chosen = int(eligible.sort_values(["density", "coverage"], ascending=False).index[0])
    limits = box.box_lims[chosen]
    full = finder.box_init
    bounds = []
    for name in x.columns:
        low, high = float(limits[name].iloc[0]), float(limits[name].iloc[1])
        bounds.append({"parameter": name, "low": low, "high": high, "range_low": float(full[name].iloc[0]),
                       "range_high": float(full[name].iloc[1]),
                       "restricted": not (math.isclose(low, float(full[name].iloc[0]))
                                          and math.isclose(high, float(full[name].iloc[1])))})
    # stability (EMA Workbench's resampling): in what % of PRIM reruns on random halves of the
    # points each parameter is restricted again, judged by coverage and by density
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stability = box.resample(chosen, iterations=PRIM_RESAMPLES, p=0.5, rng=PRIM_RESAMPLE_SEED)
    for bound in bounds:
        found = bound["parameter"] in stability.index
        bound["reproduce_coverage"] = float(stability.loc[bound["parameter"], "reproduce coverage"]) if found else 0.0
        bound["reproduce_density"] = float(stability.loc[bound["parameter"], "reproduce density"]) if found else 0.0
    row = trajectory.loc[chosen]
    return {"coverage": float(row["coverage"]), "density": float(row["density"]), "mass": float(row["mass"]),
            "bounds": bounds}


def prim_boxes(runs: pd.DataFrame, threshold: Threshold, ranges: dict[str, list[int | float]],
               n_points: int) -> pd.DataFrame:
    """For each arm, PRIM's box of the parameters (``ranges``: name -> sampled [low, high]) in
    which it fails the threshold.

    One row per (arm, parameter) of a box, with the box's coverage, density and mass and the
    arm's share of failing points; an arm that fails nowhere or everywhere gets one row
    saying so (parameter empty)."""
    parameters = list(ranges)
    means = point_means(runs, threshold.outcome, n_points)
    x = runs.drop_duplicates("point").set_index("point").loc[range(n_points), parameters]
    rows = []
    for arm in means.columns:
        failing = threshold.fails(means[arm].to_numpy())
        base = {"arm": arm, "threshold": threshold.text, "failing_share": float(failing.mean())}
        box = find_box(x, failing)
        if box is None:
            rows.append({**base, "coverage": math.nan, "density": math.nan, "mass": math.nan, "parameter": "",
                         "low": math.nan, "high": math.nan, "range_low": math.nan, "range_high": math.nan,
                         "restricted": False, "reproduce_coverage": math.nan, "reproduce_density": math.nan})
            continue
        for bound in box["bounds"]:
            declared = {"range_low": float(ranges[bound["parameter"]][0]),
                        "range_high": float(ranges[bound["parameter"]][1])}
            rows.append({**base, "coverage": box["coverage"], "density": box["density"], "mass": box["mass"],
                         **bound, **declared})
    return pd.DataFrame(rows)
