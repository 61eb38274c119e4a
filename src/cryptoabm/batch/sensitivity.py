"""Sensitivity of outcomes and of policy effects to the parameters nobody knows (SALib).

A batch whose experiment declares a ``morris`` or ``sobol`` design (see
:class:`cryptoabm.batch.experiment.Design`) holds, for every arm, R replications at each
sampled point. :func:`sensitivity_indices` averages each point over its replications and
hands the averages to SALib, for two kinds of target:

- the **level** of an outcome under each arm;
- the **paired policy effect** of each arm: arm minus reference at the same point and on the
  same seed, averaged over the replications.

Morris gives mu* (mean absolute elementary effect: the change in the outcome, in its own
units, for a step across the parameter's whole range), sigma and mu*'s 95% bootstrap
interval; Sobol' gives S1 and ST (and S2) with their 95% intervals.

The dummy parameter the design adds carries the seeds (see
:func:`cryptoabm.batch.experiment.run_seed`), so its index is what seed noise alone scores.
:func:`dummy_check` says, for each target, whether the real parameters stand clear of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoabm.batch.experiment import (
    DUMMY,
    Design,
    scaled_points,
    morris_unit_sample,
    salib_problem,
    sobol_unit_sample,
)
from cryptoabm.config.errors import InputError

CONFIDENCE = 0.95
RESAMPLES = 1000  # bootstrap resamples SALib draws for the indices' intervals
ANALYSIS_STREAM = 0xA11  # the analysis' own seed stream (SALib's bootstrap), apart from the samplers'
DUMMY_COMPARABLE = 0.5  # analysis choice: a dummy whose index (upper end) reaches half the largest real index
#                         is "comparable": the design cannot tell the drivers from seed noise
MAIN_INDEX = {"morris": "mu_star", "sobol": "ST"}  # the index that ranks parameters and is checked against the dummy
INDEX_WORDS = {
    "mu_star": "mu* (mean absolute elementary effect over the parameter's range, in the outcome's units)",
    "sigma": "sigma (spread of the elementary effects: interactions or non-linearity)",
    "mu": "mu (mean signed elementary effect)",
    "S1": "S1 (first-order share of variance)",
    "ST": "ST (total-order share of variance, interactions included)",
    "S2": "S2 (second-order share of variance of a pair)",
}


class AnalysisError(InputError):
    """A batch that cannot be analysed as asked (one plain line)."""


@dataclass(frozen=True)
class SensitivityDesign:
    """What the analysis needs of a batch's design: its kind, settings and base seed."""

    design: Design
    base_seed: int

    @property
    def names(self) -> list[str]:
        return list(self.design.sampled_ranges)

    @property
    def real_names(self) -> list[str]:
        return [name for name in self.names if name != DUMMY]

    def unit_sample(self) -> np.ndarray:
        """The design's points in the unit cube, in run order (regenerated, deterministic)."""
        if self.design.kind == "morris":
            return morris_unit_sample(self.design, self.base_seed)
        return sobol_unit_sample(self.design, self.base_seed)

    def points(self) -> list[dict[str, Any]]:
        return scaled_points(self.design.sampled_ranges, self.unit_sample())


def design_from_manifest(manifest: dict[str, Any], where: str) -> SensitivityDesign:
    """The sensitivity design a batch was run with; AnalysisError if it has none."""
    spec = manifest.get("design_spec")
    if not isinstance(spec, dict) or spec.get("kind") not in ("morris", "sobol"):
        kind = spec.get("kind") if isinstance(spec, dict) else "unrecorded"
        raise AnalysisError(f"{where} was not run with a morris or sobol design (its design is {kind}); "
                            f"declare one under [design] (see experiments/README.md)")
    return SensitivityDesign(Design.model_validate(spec), int(manifest["base_seed"]))


# -- aggregation over replications ------------------------------------------------------
def point_means(runs: pd.DataFrame, outcome: str, n_points: int) -> pd.DataFrame:
    """Each arm's outcome at each point, averaged over its replications: index point, a column per arm."""
    table = runs.pivot_table(index="point", columns="arm", values=outcome, aggfunc="mean", sort=False)
    _require_every_point(table, n_points, outcome)
    return table


def paired_effects(runs: pd.DataFrame, outcome: str, reference: str, n_points: int) -> pd.DataFrame:
    """Each arm's effect (arm minus reference, same point and seed) averaged over replications.

    Index point, a column per non-reference arm. A replication is paired only where both
    runs finished."""
    wide = runs.pivot_table(index=["point", "replicate"], columns="arm", values=outcome, aggfunc="first", sort=False)
    others = [arm for arm in wide.columns if arm != reference]
    effects = wide[others].sub(wide[reference], axis=0).groupby(level="point").mean()
    _require_every_point(effects, n_points, outcome)
    return effects


def _require_every_point(table: pd.DataFrame, n_points: int, outcome: str) -> None:
    missing = sorted(set(range(n_points)) - set(table.index[table.notna().all(axis=1)]))
    if missing:
        raise AnalysisError(f"design point {missing[0]} has no finished (paired) run for {outcome} "
                            f"({len(missing)} points lack one): the indices need every point; finish the batch "
                            f"with --resume, or rerun the failed runs")


# -- SALib ------------------------------------------------------------------------------
def indices_of(design: SensitivityDesign, unit: np.ndarray, values: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """SALib's indices of one target (one value per point), as rows: parameter, index, value, conf."""
    names = design.names
    if np.ptp(values) == 0:
        return []  # constant across the design: no parameter moves it, and Sobol' would divide by zero
    problem = salib_problem(design.design.sampled_ranges)
    rows: list[dict[str, Any]] = []
    if design.design.kind == "morris":
        from SALib.analyze import morris

        found = morris.analyze(problem, unit, values, num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                               num_levels=design.design.levels, seed=seed)
        for i, name in enumerate(names):
            rows.append(_row(name, "mu_star", found["mu_star"][i], found["mu_star_conf"][i]))
            rows.append(_row(name, "mu", found["mu"][i], math.nan))
            rows.append(_row(name, "sigma", found["sigma"][i], math.nan))
        return rows
    from SALib.analyze import sobol

    found = sobol.analyze(problem, values, calc_second_order=design.design.second_order, num_resamples=RESAMPLES,
                          conf_level=CONFIDENCE, seed=seed)
    for i, name in enumerate(names):
        rows.append(_row(name, "S1", found["S1"][i], found["S1_conf"][i]))
        rows.append(_row(name, "ST", found["ST"][i], found["ST_conf"][i]))
    if design.design.second_order:
        for i, first in enumerate(names):
            for j in range(i + 1, len(names)):
                rows.append(_row(first, "S2", found["S2"][i, j], found["S2_conf"][i, j], names[j]))
    return rows


def _row(parameter: str, index: str, value: float, conf: float, parameter_2: str = "") -> dict[str, Any]:
    return {"parameter": parameter, "parameter_2": parameter_2, "index": index, "value": float(value),
            "conf": float(conf)}


def sensitivity_indices(runs: pd.DataFrame, design: SensitivityDesign, reference: str,
                        outcomes: list[str]) -> pd.DataFrame:
    """The indices of every outcome's level under each arm and of each arm's paired effect.

    Columns: quantity ("level" or "effect"), arm, reference (for effects), outcome, method,
    parameter, parameter_2 (S2 only), index, value, conf (half-width of the 95% interval)."""
    unit = design.unit_sample()
    n_points = len(unit)
    seed = int(np.random.SeedSequence([design.base_seed, ANALYSIS_STREAM]).generate_state(1)[0])
    rows = []
    for outcome in outcomes:
        targets = [("level", arm, "", values) for arm, values in point_means(runs, outcome, n_points).items()]
        targets += [("effect", arm, reference, values)
                    for arm, values in paired_effects(runs, outcome, reference, n_points).items()]
        for quantity, arm, against, values in targets:
            ordered = values.reindex(range(n_points)).to_numpy(dtype=float)
            for row in indices_of(design, unit, ordered, seed):
                rows.append({"quantity": quantity, "arm": arm, "reference": against, "outcome": outcome,
                             "method": design.design.kind, **row, "spread": float(np.ptp(ordered))})
    columns = ["quantity", "arm", "reference", "outcome", "method", "parameter", "parameter_2", "index", "value",
               "conf", "spread"]
    return pd.DataFrame(rows, columns=columns)


def targets(runs: pd.DataFrame, reference: str, outcomes: list[str]) -> list[tuple[str, str, str]]:
    """Every (quantity, arm, outcome) analysed, in report order."""
    arms = list(dict.fromkeys(runs["arm"]))
    return ([("level", arm, outcome) for outcome in outcomes for arm in arms]
            + [("effect", arm, outcome) for outcome in outcomes for arm in arms if arm != reference])


def dummy_check(indices: pd.DataFrame, all_targets: list[tuple[str, str, str]], method: str) -> pd.DataFrame:
    """For each target: the dummy's main index (upper end of its interval), the largest real
    parameter's, the parameters not clear of the dummy, and a verdict:

    - ``ok``: the largest real index is more than twice the dummy's upper end;
    - ``too small``: the dummy's index is comparable to the real parameters' (the design has
      too few points or replications to tell drivers from seed noise);
    - ``constant``: the target is the same at every point (no index);
    - ``no dummy``: the design was run without one.
    """
    main = MAIN_INDEX[method]
    rows = []
    for quantity, arm, outcome in all_targets:
        part = indices[(indices["quantity"] == quantity) & (indices["arm"] == arm) & (indices["outcome"] == outcome)
                       & (indices["index"] == main)]
        base = {"quantity": quantity, "arm": arm, "outcome": outcome, "index": main}
        if part.empty:
            rows.append({**base, "dummy_high": math.nan, "top_parameter": "", "top_value": math.nan,
                         "within_noise": "", "verdict": "constant"})
            continue
        real = part[part["parameter"] != DUMMY].sort_values("value", ascending=False)
        top = real.iloc[0]
        dummy = part[part["parameter"] == DUMMY]
        if dummy.empty:
            rows.append({**base, "dummy_high": math.nan, "top_parameter": top["parameter"],
                         "top_value": top["value"], "within_noise": "", "verdict": "no dummy"})
            continue
        high = float(dummy["value"].iloc[0] + np.nan_to_num(dummy["conf"].iloc[0]))
        within = real[real["value"] <= high]["parameter"].tolist()
        verdict = "too small" if high >= DUMMY_COMPARABLE * top["value"] else "ok"
        rows.append({**base, "dummy_high": high, "top_parameter": top["parameter"], "top_value": float(top["value"]),
                     "within_noise": ", ".join(within), "verdict": verdict})
    return pd.DataFrame(rows)
