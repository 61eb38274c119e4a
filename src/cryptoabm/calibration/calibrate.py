"""Calibration of the shared behavioural parameters by simulated method of moments.

The criterion of a parameter point is the weighted sum of squared distances of the targets
marked ``calibrate = true``, each distance measured from the observed range in tolerances
(``Target.distance``), and each model value the mean over ``replications`` runs on common
random numbers (the same seeds at every point, so differences between points are not noise
between seeds). The procedure:

1. **global stage**: the first ``budget`` points of a scrambled Sobol' sequence over the
   ranges (a ``sobol_sequence`` design of the batch layer: parallel, resumable, Dask-capable);
2. **local stage**: Nelder-Mead (``scipy.optimize.minimize``, bounded to the ranges) from the
   best global point over the continuous parameters (integer ones stay at the best point's
   value), at most ``refine_evaluations`` evaluations, each a one-point batch;
3. **uncertainty**: ``draws`` more points, a Sobol' design over a box around the fitted point
   (``draw_box`` of each range on either side, clipped to the range; integer parameters kept at
   their fitted values, and simulated with them: each draw runs as a whole point);
   the *accepted draws* are every global point and every such draw whose criterion is within
   ``accept_margin`` of the best one found. By default the margin is the 90% quantile of a
   chi-square with as many degrees of freedom as parameters fitted: were each distance a
   standard normal error (the tolerance one standard deviation), the accepted set would be a
   90% confidence region. Their 5-95% range is each parameter's uncertainty, and later
   experiments can carry parameter uncertainty by running over these draws.

The simulator is injectable (:class:`cryptoabm.calibration.simulate.Simulator`), so the same
code path fits a toy model in the tests.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoabm.calibration.simulate import Simulated, Simulator
from cryptoabm.calibration.targets import Target
from cryptoabm.config import InputError

ACCEPT_QUANTILE = 0.90  # the accepted draws: a 90% region (see the module docstring)


class UnmeasurableTarget(InputError):
    """A calibration target whose metric no run of the global stage could measure (NaN in all):
    no parameter can move it, so nothing is fitted and nothing is written."""

    def __init__(self, target_id: str, points: int):
        self.target_id = target_id
        super().__init__(f"target '{target_id}' cannot be measured: its metric is NaN in every run of the "
                         f"{points} global points (no month of its window gives a value); nothing was fitted "
                         f"or written")


@dataclass
class Evaluation:
    """One evaluated parameter point."""

    stage: str  # "global" or "local"
    index: int  # order of evaluation
    point: dict[str, Any]
    means: dict[str, float]  # target id -> mean over replications
    criterion: float


@dataclass
class CalibrationResult:
    ranges: dict[str, tuple[float, float]]
    targets: list[Target]
    evaluations: list[Evaluation]
    best: Evaluation
    accepted: list[Evaluation]
    seconds: float
    replications: int
    budget: int
    settings: dict[str, Any] = field(default_factory=dict)

    def fitted(self) -> dict[str, Any]:
        return dict(self.best.point)

    def uncertainty(self) -> dict[str, tuple[float, float]]:
        """Each parameter's 5-95% range over the accepted draws."""
        out = {}
        for key in self.ranges:
            values = np.array([e.point[key] for e in self.accepted], dtype=float)
            out[key] = (float(np.percentile(values, 5)), float(np.percentile(values, 95)))
        return out

    def design_table(self) -> pd.DataFrame:
        """Every evaluated point: stage, parameters, criterion, each target's mean, and whether accepted."""
        accepted = {id(e) for e in self.accepted}
        rows = []
        for e in self.evaluations:
            rows.append({"stage": e.stage, "evaluation": e.index, **e.point, "criterion": e.criterion,
                         "accepted": id(e) in accepted, **{f"mean__{k}": v for k, v in e.means.items()}})
        return pd.DataFrame(rows)

    def distances(self) -> pd.DataFrame:
        """Per target at the fitted point: observed, model mean, distance in tolerances, and the
        range of the model's mean over the global design (can the parameters move it at all?)."""
        global_means = pd.DataFrame([e.means for e in self.evaluations if e.stage == "global"])
        rows = []
        for t in self.targets:
            mean = self.best.means.get(t.id, float("nan"))
            column = global_means[t.id] if t.id in global_means else pd.Series(dtype=float)
            rows.append({"target": t.id, "preset": t.preset, "calibrated": t.calibrate, "observed": t.observed_text(),
                         "tolerance": t.tolerance, "model_mean": mean, "distance": t.distance(mean),
                         "design_min": float(column.min()) if len(column) else float("nan"),
                         "design_max": float(column.max()) if len(column) else float("nan")})
        return pd.DataFrame(rows)


def criterion(targets: list[Target], means: dict[str, float]) -> float:
    """Weighted sum of squared distances (in tolerances) of the calibration targets; a target
    the model gives no value for (NaN) counts as far off (distance 10)."""
    total = 0.0
    for t in targets:
        if not t.calibrate:
            continue
        d = t.distance(means.get(t.id, float("nan")))
        total += t.weight * (d * d if d == d else 100.0)
    return total


def _means(simulated: Simulated) -> list[dict[str, float]]:
    """Per point, each target's mean over replications."""
    table = simulated.values.groupby(["point", "target"])["value"].mean()
    out: list[dict[str, float]] = [{} for _ in simulated.points]
    for (point, target), value in table.items():
        out[int(point)][str(target)] = float(value)
    return out


def calibrate(
    targets: list[Target],
    ranges: dict[str, tuple[float, float]],
    simulate: Simulator,
    budget: int = 128,
    replications: int = 2,
    refine_evaluations: int = 40,
    draws: int = 32,
    draw_box: float = 0.1,
    accept_margin: float | None = None,
    log: Any = None,
    seed: int = 0,
) -> CalibrationResult:
    """Fit the parameters in ``ranges`` to the calibration targets (see the module docstring).
    ``seed``: the seed of the draws' Sobol' sequence (the target file's base seed)."""
    from scipy.stats import chi2

    from cryptoabm.batch.experiment import sobol_sequence_points

    started = time.perf_counter()
    if accept_margin is None:
        accept_margin = float(chi2.ppf(ACCEPT_QUANTILE, df=len(ranges)))
    say = log or (lambda line: None)
    evaluations: list[Evaluation] = []
    design = {"kind": "sobol_sequence", "ranges": {k: list(v) for k, v in ranges.items()}, "samples": budget}
    say(f"global stage: {budget} Sobol' points x {replications} replications")
    simulated = simulate(design, replications, "global")
    for index, (point, means) in enumerate(zip(simulated.points, _means(simulated), strict=True)):
        evaluations.append(Evaluation("global", index, dict(point), means, criterion(targets, means)))
    unmeasured = [t for t in targets if t.calibrate and not any(math.isfinite(e.means.get(t.id, math.nan))
                                                                 for e in evaluations)]
    if unmeasured:
        raise UnmeasurableTarget(unmeasured[0].id, len(evaluations))
    best_global = min(evaluations, key=lambda e: e.criterion)
    say(f"global stage: best criterion {best_global.criterion:.3f} ({time.perf_counter() - started:.0f} s)")

    continuous = [k for k, (low, high) in ranges.items() if not (isinstance(low, int) and isinstance(high, int))]
    best = best_global
    if refine_evaluations > 0 and continuous:
        best = _refine(targets, ranges, continuous, best_global, simulate, replications, refine_evaluations,
                       evaluations)
        say(f"local stage: best criterion {best.criterion:.3f} ({time.perf_counter() - started:.0f} s)")
    if draws > 0:
        box = {}
        for key, (low, high) in ranges.items():
            if key in continuous:
                half = draw_box * (high - low)
                box[key] = [max(low, best.point[key] - half), min(high, best.point[key] + half)]
        box = {k: v for k, v in box.items() if v[0] < v[1]}
        if box:
            say(f"uncertainty: {draws} draws around the fitted point")
            # every draw is simulated as a whole point: the box's continuous values over the fitted
            # point, so parameters outside the box (the integer ones) run at their fitted values too
            rows = [{**best.point, **point} for point in sobol_sequence_points(box, draws, seed)]
            simulated = simulate({"kind": "table", "rows": rows}, replications, "draws")
            for point, means in zip(simulated.points, _means(simulated), strict=True):
                evaluations.append(Evaluation("draws", len(evaluations), dict(point), means,
                                              criterion(targets, means)))
            best = min([best, *(e for e in evaluations if e.stage == "draws")], key=lambda e: e.criterion)
    accepted = [e for e in evaluations if e.stage in ("global", "draws")
                and e.criterion <= best.criterion + accept_margin]
    if not accepted:
        accepted = [best]
    return CalibrationResult(dict(ranges), list(targets), evaluations, best, accepted, time.perf_counter() - started,
                             replications, budget, {"refine_evaluations": refine_evaluations, "draws": draws,
                                                    "draw_box": draw_box, "accept_margin": accept_margin})


def _refine(targets: list[Target], ranges: dict[str, tuple[float, float]], continuous: list[str], start: Evaluation,
            simulate: Simulator, replications: int, max_evaluations: int, evaluations: list[Evaluation]) -> Evaluation:
    """Nelder-Mead over the continuous parameters, in unit-cube coordinates, from ``start``."""
    from scipy.optimize import minimize

    lows = np.array([ranges[k][0] for k in continuous], dtype=float)
    highs = np.array([ranges[k][1] for k in continuous], dtype=float)
    cache: dict[tuple[float, ...], Evaluation] = {}
    local: list[Evaluation] = []

    def point_at(x: np.ndarray) -> dict[str, Any]:
        point = dict(start.point)
        for key, value in zip(continuous, lows + np.clip(x, 0.0, 1.0) * (highs - lows), strict=True):
            point[key] = float(value)
        return point

    def objective(x: np.ndarray) -> float:
        key = tuple(np.round(np.clip(x, 0.0, 1.0), 12))
        if key in cache:
            return cache[key].criterion
        if len(local) >= max_evaluations:
            return math.inf  # budget spent: the optimiser is stopped by maxfev, this is a guard
        point = point_at(np.asarray(key))
        simulated = simulate({"kind": "table", "rows": [point]}, replications, f"local-{len(local):03d}")
        means = _means(simulated)[0]
        evaluation = Evaluation("local", len(evaluations), point, means, criterion(targets, means))
        evaluations.append(evaluation)
        local.append(evaluation)
        cache[key] = evaluation
        return evaluation.criterion

    x0 = (np.array([start.point[k] for k in continuous], dtype=float) - lows) / (highs - lows)
    # a first simplex of a tenth of each range: the global stage already found the basin
    simplex = [x0] + [np.clip(x0 + 0.1 * np.eye(len(x0))[i] * (1 if x0[i] < 0.9 else -1), 0, 1)
                      for i in range(len(x0))]
    minimize(objective, x0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(x0),
             options={"maxfev": max_evaluations, "initial_simplex": np.array(simplex), "xatol": 1e-3, "fatol": 1e-3})
    candidates = [start, *local]
    return min(candidates, key=lambda e: e.criterion)


# -- outputs ------------------------------------------------------------------------------
def write_outputs(result: CalibrationResult, out_dir: Path, command: str) -> list[Path]:
    """fitted.toml, distances.csv, design.parquet and convergence.png into ``out_dir``."""
    import tomli_w

    out_dir.mkdir(parents=True, exist_ok=True)
    uncertainty = result.uncertainty()
    fitted = {
        "command": command,
        "wall_time_seconds": round(result.seconds, 1),
        "global_points": result.budget,
        "replications": result.replications,
        "local_evaluations": sum(1 for e in result.evaluations if e.stage == "local"),
        "draws_around_fit": sum(1 for e in result.evaluations if e.stage == "draws"),
        "criterion": round(result.best.criterion, 4),
        "accepted_draws": len(result.accepted),
        "accept_margin": round(float(result.settings["accept_margin"]), 3),
        "parameters": {key: {"value": _rounded(result.best.point[key]),
                             "accepted_5pct": _rounded(uncertainty[key][0]),
                             "accepted_95pct": _rounded(uncertainty[key][1]),
                             "range_searched": [_rounded(v) for v in result.ranges[key]]}
                       for key in result.ranges},
    }
    paths = [out_dir / "fitted.toml", out_dir / "distances.csv", out_dir / "design.parquet",
             out_dir / "accepted_draws.csv", out_dir / "convergence.png"]
    paths[0].write_text("# written by: " + command + "\n" + tomli_w.dumps(fitted))
    result.distances().to_csv(paths[1], index=False, float_format="%.6g")
    result.design_table().to_parquet(paths[2], index=False)
    pd.DataFrame([e.point for e in result.accepted]).to_csv(paths[3], index=False, float_format="%.6g")
    convergence_figure(result, paths[4])
    return paths


def _rounded(value: Any) -> Any:
    return int(value) if isinstance(value, (int, np.integer)) else float(f"{float(value):.4g}")


def convergence_figure(result: CalibrationResult, path: Path) -> None:
    """The criterion of every evaluation and the best so far, global stage then local."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = np.array([e.criterion for e in result.evaluations])
    stages = [e.stage for e in result.evaluations]
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(1, len(values) + 1)
    is_global = np.array([s == "global" for s in stages])
    ax.scatter(x[is_global], values[is_global], s=8, color="tab:blue", alpha=0.5, label="global stage (Sobol' points)")
    is_local = np.array([s == "local" for s in stages])
    is_draw = np.array([s == "draws" for s in stages])
    ax.scatter(x[is_local], values[is_local], s=8, color="tab:orange", alpha=0.7, label="local stage (Nelder-Mead)")
    ax.scatter(x[is_draw], values[is_draw], s=8, color="tab:green", alpha=0.7, label="draws around the fitted point")
    ax.plot(x, np.minimum.accumulate(values), color="black", lw=1.5, label="best so far")
    ax.axhline(result.best.criterion + float(result.settings["accept_margin"]), color="grey",
               ls=":", lw=1, label="acceptance threshold")
    ax.set_yscale("log")
    ax.set_xlabel("evaluation")
    ax.set_ylabel("criterion: sum of squared distances (tolerances)")
    ax.set_title(f"Calibration: {len(values)} evaluated points x {result.replications} replications")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def update_behaviour_file(path: Path, fitted: dict[str, Any], uncertainty: dict[str, tuple[float, float]],
                          command: str, spread_label: str = "accepted draws") -> None:
    """Write fitted values into the shared behaviour file, in place, through tomlkit: each
    fitted key gets its value and a comment saying it was fitted (with its accepted range and
    the command); every other key, comment and blank line is kept as it is."""
    import tomlkit

    document = tomlkit.parse(path.read_text())
    missing = [key for key in fitted if key.partition(".")[2] not in document.get(key.partition(".")[0], {})]
    if missing:
        raise ValueError(f"{path} has no line for {', '.join(sorted(missing))}")
    for key, value in fitted.items():
        section, _, name = key.partition(".")
        low, high = uncertainty[key]
        rounded = _rounded(value)
        spread = f"{_rounded(low)}-{_rounded(high)}" if not isinstance(rounded, int) else f"{low:.0f}-{high:.0f}"
        item = tomlkit.item(rounded)
        item.comment(f"fitted: {command} ({spread_label} {spread})")
        document[section][name] = item
    path.write_text(tomlkit.dumps(document))
