"""Paired policy effects as distributions across replicates, and where their spread comes from.

A paired effect of an arm is, replicate by replicate, the arm's outcome minus the reference's
on the same random numbers (the same price path and population) and the same behavioural draw.
Its *mean* has a confidence interval that shrinks as replicates are added: it says how well the
average effect is known, not how often the policy helps. So each effect is reported four ways,
each labelled for what it is:

- **median** of the per-replicate effects, and their **5-95% range** (where nine in ten
  replicates fall: the spread of outcomes one economy could see, which does not shrink);
- **P(effect > 0)**: the share of replicates in which the effect is positive;
- **mean** with the 95% **confidence interval of the mean** (t-interval across replicates).

**Where the spread comes from** (:func:`variance_decomposition`). Each replicate differs from
the others in three ways: the behaviour drawn for it (the posterior or uncertainty draw, the
same in every arm), the world price path its seed gives, and everything else its seed decides
(who adopts, which farm is caught, ...: "other luck"). The effect across replicates is
regressed, by ordinary least squares, on the drawn parameters (behaviour), on features of the
price path (price), and on both; the shares are the two-group Shapley split of the adjusted
R-squared (each group's share is its average gain over the two orders of entry), and other luck
is what neither explains. It is a linear, additive account: what behaviour or prices do through
interactions or non-linearly is counted as other luck, so that share is an upper bound and the
other two lower bounds. It needs more replicates than regressors (else n/a).

The price path's features are read from the reference arm's monthly BTC price: the log of its
mean over the run, the log of its change from first to last month, and the standard deviation
of its monthly log returns. A price that follows the record (the same in every replicate) has
no variance to explain, and gets a share of zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

CONFIDENCE = 0.95  # of the confidence interval of the mean
RANGE = (0.05, 0.95)  # the range across replicates reported beside the median
PRICE_COLUMN = "btc_price_usd"
PRICE_FEATURES = ("log_mean_price", "log_price_change", "price_volatility")
SHARES = ("behaviour", "price_path", "other_luck")


def paired_replicates(runs: pd.DataFrame, reference_arm: str,
                      reference_point: int | None) -> Iterator[tuple[str, pd.DataFrame, str]]:
    """Each non-reference (label, its runs merged with the reference's by replicate, the
    reference's label). The reference is the same design point, or ``reference_point``."""
    reference = runs[runs["arm"] == reference_arm]
    if reference_point is not None:
        reference = reference[reference["point"] == reference_point]
    for label, group in runs.groupby("label", sort=False):
        matched = reference if reference_point is not None else reference[reference["point"] == group["point"].iloc[0]]
        if group["run_id"].isin(matched["run_id"]).all():
            continue  # the reference itself
        yield label, group.merge(matched, on="replicate", suffixes=("", "_ref")), (
            matched["label"].iloc[0] if len(matched) else reference_arm)


def replicate_effects(runs: pd.DataFrame, reference_arm: str, reference_point: int | None,
                      outcomes: tuple[str, ...]) -> pd.DataFrame:
    """One row per (label, outcome, replicate): the paired effect (arm - reference)."""
    frames = []
    for label, paired, reference in paired_replicates(runs, reference_arm, reference_point):
        for outcome in outcomes:
            frames.append(pd.DataFrame({"label": label, "outcome": outcome, "reference": reference,
                                        "replicate": paired["replicate"].to_numpy(),
                                        "effect": paired[outcome].to_numpy() - paired[f"{outcome}_ref"].to_numpy()}))
    columns = ["label", "outcome", "reference", "replicate", "effect"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def effect_distribution(effects: np.ndarray) -> dict[str, float]:
    """The four views of one paired effect across replicates (see the module docstring)."""
    from scipy.special import stdtrit

    values = np.asarray(effects, dtype=float)
    values = values[np.isfinite(values)]
    n = values.size
    if n == 0:
        return {"n": 0, **{k: math.nan for k in ("median", "q05", "q95", "p_positive", "mean", "ci_low", "ci_high")}}
    mean = float(values.mean())
    half = float(stdtrit(n - 1, 0.5 + CONFIDENCE / 2)) * float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return {"n": n, "median": float(np.median(values)), "q05": float(np.quantile(values, RANGE[0])),
            "q95": float(np.quantile(values, RANGE[1])), "p_positive": float((values > 0).mean()),
            "mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def effect_distributions(effects: pd.DataFrame) -> pd.DataFrame:
    """:func:`effect_distribution` of every (label, outcome) in a :func:`replicate_effects` table."""
    rows = [{"label": label, "outcome": outcome, **effect_distribution(group["effect"].to_numpy())}
            for (label, outcome), group in effects.groupby(["label", "outcome"], sort=False)]
    return pd.DataFrame(rows)


# -- where the spread comes from ----------------------------------------------------------
def price_path_features(timeseries: pd.DataFrame, reference_arm: str) -> pd.DataFrame:
    """Per (point, replicate) of the reference arm: the price path's features (module docstring).
    Empty when the batch did not keep the monthly BTC price."""
    if timeseries is None or PRICE_COLUMN not in timeseries.columns:
        return pd.DataFrame(columns=["point", "replicate", *PRICE_FEATURES])
    rows = []
    reference = timeseries[timeseries["arm"] == reference_arm]
    for (point, replicate), run in reference.groupby(["point", "replicate"], sort=True):
        price = run.sort_values("month")[PRICE_COLUMN].to_numpy(dtype=float)
        returns = np.diff(np.log(price)) if len(price) > 1 else np.zeros(1)
        rows.append({"point": int(point), "replicate": int(replicate), "log_mean_price": float(np.log(price.mean())),
                     "log_price_change": float(np.log(price[-1] / price[0])),
                     "price_volatility": float(returns.std()) if len(returns) > 1 else 0.0})
    return pd.DataFrame(rows)


def adjusted_r_squared(y: np.ndarray, x: np.ndarray) -> float:
    """Adjusted R-squared of an OLS fit of y on x (with an intercept), clipped to [0, 1]; 0
    without regressors; NaN with no more observations than parameters or a constant y."""
    y = np.asarray(y, dtype=float)
    n = y.size
    x = np.asarray(x, dtype=float).reshape(n, -1)
    x = x[:, np.ptp(x, axis=0) > 0] if x.size else x  # a regressor that never varies explains nothing
    k = x.shape[1]
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0 or n <= k + 1:
        return math.nan
    if k == 0:
        return 0.0
    design = np.column_stack([np.ones(n), (x - x.mean(axis=0)) / x.std(axis=0)])
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = float(((y - design @ coefficients) ** 2).sum())
    r2 = 1.0 - residual / total
    return float(min(1.0, max(0.0, 1.0 - (1.0 - r2) * (n - 1) / (n - k - 1))))


def shapley_shares(behaviour: float, price: float, both: float) -> dict[str, float]:
    """The two-group Shapley split of explained variance: each group's share is the mean of
    what it explains alone and what it adds to the other; other luck is 1 - both. Inputs are
    adjusted R-squared values; the two shares are rescaled to sum to ``both``."""
    if any(math.isnan(v) for v in (behaviour, price, both)):
        return {name: math.nan for name in SHARES}
    b = (behaviour + max(both - price, 0.0)) / 2
    p = (price + max(both - behaviour, 0.0)) / 2
    scale = both / (b + p) if b + p > 0 else 0.0
    return {"behaviour": b * scale, "price_path": p * scale, "other_luck": 1.0 - both}


def variance_decomposition(effects: pd.DataFrame, runs: pd.DataFrame, behaviour_keys: list[str],
                           prices: pd.DataFrame) -> pd.DataFrame:
    """Per (label, outcome): the shares of the effect's variance across replicates due to the
    drawn behaviour, the price path and other luck (module docstring), and ``n``."""
    keys = [k for k in behaviour_keys if k in runs.columns]
    per_replicate = runs.drop_duplicates(["label", "replicate"])[["label", "point", "replicate", *keys]]
    rows = []
    for (label, outcome), group in effects.groupby(["label", "outcome"], sort=False):
        merged = group.merge(per_replicate[per_replicate["label"] == label], on="replicate")
        merged = merged.merge(prices, on=["point", "replicate"], how="left") if len(prices) else merged
        merged = merged[np.isfinite(merged["effect"].to_numpy(dtype=float))]
        y = merged["effect"].to_numpy(dtype=float)
        b = merged[keys].to_numpy(dtype=float) if keys else np.zeros((len(y), 0))
        p = merged[list(PRICE_FEATURES)].to_numpy(dtype=float) if len(prices) else np.zeros((len(y), 0))
        if len(prices) and not np.isfinite(p).all():
            p = np.zeros((len(y), 0))
        shares = shapley_shares(adjusted_r_squared(y, b), adjusted_r_squared(y, p),
                                adjusted_r_squared(y, np.column_stack([b, p])))
        if not len(prices):
            shares = {name: math.nan for name in SHARES}  # the price path was not kept: cannot tell
        rows.append({"label": label, "outcome": outcome, **shares, "n": len(y)})
    return pd.DataFrame(rows)


# -- the report's section -----------------------------------------------------------------
def headline_cell(row: dict, fmt) -> str:
    """One effect in the headline format: 'median [5-95%] · P(>0) · mean (95% CI of the mean)'."""
    return (f"{fmt(row['median'])} [{fmt(row['q05'])}, {fmt(row['q95'])}] · P(>0) {row['p_positive']:.0%} · "
            f"mean {fmt(row['mean'])} ({fmt(row['ci_low'])}, {fmt(row['ci_high'])})")


def effects_section(effects: pd.DataFrame, decomposition: pd.DataFrame, outcome_names: dict[str, str],
                    fmt_of, behaviour_keys: list[str]) -> list[str]:
    """Markdown lines: the effect distributions and their variance decomposition.
    ``fmt_of(outcome)`` returns a formatter of that outcome's values."""
    if effects.empty:
        return []
    table = effect_distributions(effects)
    lines = ["## Effects across replicates", "",
             "Each cell: the **median** effect over replicates with, in brackets, the **5-95% range across "
             "replicates** (nine in ten replicates fall inside; it does not shrink with more replicates); "
             "**P(>0)**, the share of replicates in which the effect is positive; and the **mean** with its "
             f"**{int(CONFIDENCE * 100)}% confidence interval of the mean** (t-interval; it shrinks as replicates "
             "are added and says how well the average is known, not how often the policy helps).", ""]
    labels = list(dict.fromkeys(table["label"]))
    lines += ["| outcome | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    cells = {(r["label"], r["outcome"]): r for r in table.to_dict("records")}
    for outcome in dict.fromkeys(table["outcome"]):
        fmt = fmt_of(outcome)
        lines.append(f"| {outcome_names.get(outcome, outcome)} | "
                     + " | ".join(headline_cell(cells[label, outcome], fmt) if (label, outcome) in cells else ""
                                  for label in labels) + " |")
    lines.append("")
    if decomposition.empty:
        return lines
    drawn = ", ".join(f"`{k}`" for k in behaviour_keys) or "none (behaviour is fixed)"
    lines += ["### Where the spread of an effect comes from", "",
              "Share of each effect's variance across replicates explained by the drawn **behaviour** "
              f"(parameters drawn per replicate: {drawn}), by the **price path** (log mean BTC price, its log "
              "change and its volatility over the run), and left to **other luck** (everything else the seed "
              "decides). Two-group Shapley split of adjusted R-squared from least-squares regressions of the effect "
              "on each group and on both; linear and additive, so other luck is an upper bound. n/a: too few "
              "replicates for the regressors, an effect that never varies, or no monthly BTC price kept.", ""]
    lines += ["| arm | outcome | behaviour | price path | other luck | replicates |", "|---|---|---|---|---|---|"]
    for row in decomposition.to_dict("records"):
        shares = " | ".join("n/a" if math.isnan(row[s]) else f"{row[s]:.0%}" for s in SHARES)
        lines.append(f"| {row['label']} | {outcome_names.get(row['outcome'], row['outcome'])} | {shares} | {row['n']} |")
    lines.append("")
    return lines
