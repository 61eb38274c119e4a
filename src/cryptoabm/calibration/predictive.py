"""Posterior predictive checks (issue 19): per target, the model's predictive interval over
posterior draws x seeds against the observation.

``draws`` rows of the posterior sample (a seeded choice) each run ``replications`` times on
common random numbers; to each run's value an observation error and a model discrepancy are
added (normal, with the target's SDs; seeded), as a new observation of the world would carry
them. The predictive interval is the 2.5-97.5% range of these values; a target is **covered**
when its observed value or range meets that interval. Targets no parameter moves (checks) are
counted apart, so "K of N" counts informative targets only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cryptoabm.calibration.simulate import Simulator
from cryptoabm.calibration.targets import LoadedTargets, Target

PREDICTIVE_STREAM = 0x99C


def predictive_rows(posterior: pd.DataFrame, draws: int, seed: int) -> list[dict]:
    """``draws`` rows of the posterior sample, chosen without replacement (seeded)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, PREDICTIVE_STREAM]))
    chosen = np.sort(rng.choice(len(posterior), size=min(draws, len(posterior)), replace=False))
    return [{k: (int(v) if isinstance(v, (int, np.integer)) else float(v)) for k, v in row.items()}
            for row in posterior.iloc[chosen].to_dict("records")]


def predictive_check(loaded: LoadedTargets, targets: list[Target], posterior: pd.DataFrame, simulate: Simulator,
                     draws: int = 20, replications: int = 5, checks: frozenset[str] = frozenset(),
                     stage: str = "predictive") -> pd.DataFrame:
    """Per target: observed, the predictive mean and 95% interval, covered or not, and whether
    it is a check (see the module docstring)."""
    seed = loaded.targets.base_seed
    simulated = simulate({"kind": "table", "rows": predictive_rows(posterior, draws, seed)}, replications, stage)
    rng = np.random.default_rng(np.random.SeedSequence([seed, PREDICTIVE_STREAM, 1]))
    rows = []
    for target in targets:
        values = simulated.values.loc[simulated.values["target"] == target.id, "value"].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        spread = float(np.hypot(target.observation_error_sd, loaded.discrepancy_sd(target)))
        noisy = values + rng.normal(0.0, spread, values.size)
        low, high = (np.percentile(noisy, [2.5, 97.5]) if values.size else (np.nan, np.nan))
        rows.append({"target": target.id, "preset": target.preset, "observed": target.observed_text(),
                     "observed_low": target.low, "observed_high": target.high,
                     "model_mean": float(values.mean()) if values.size else np.nan,
                     "predictive_low": float(low), "predictive_high": float(high),
                     "covered": bool(values.size and target.high >= low and target.low <= high),
                     "check": target.id in checks, "runs": int(values.size)})
    return pd.DataFrame(rows)


def k_of_n(table: pd.DataFrame) -> str:
    """'K of N' over the informative targets, and the checks apart."""
    informative = table[~table["check"]]
    checks = table[table["check"]]
    text = f"{int(informative['covered'].sum())} of {len(informative)}"
    return text + (f" (checks, counted apart: {int(checks['covered'].sum())} of {len(checks)})" if len(checks) else "")


def predictive_figure(table: pd.DataFrame, path: Path, title: str) -> None:
    """Each target's predictive interval against its observation, in units of the interval's
    half-width around the observation's centre (so targets of every unit share one axis)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 0.35 * len(table) + 1.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for index, row in enumerate(table.itertuples()):
        centre = (row.observed_low + row.observed_high) / 2
        scale = max((row.predictive_high - row.predictive_low) / 2, 1e-12)
        colour = "grey" if row.check else ("tab:green" if row.covered else "tab:red")
        ax.plot([(row.predictive_low - centre) / scale, (row.predictive_high - centre) / scale], [index, index],
                color=colour, lw=3)
        ax.plot([(row.model_mean - centre) / scale], [index], "o", color="black", ms=3)
        ax.plot([(row.observed_low - centre) / scale, (row.observed_high - centre) / scale], [index, index], "|",
                color="black", ms=10)
    ax.axvline(0, color="black", lw=0.5)
    ax.set_yticks(range(len(table)), table["target"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("distance from the observation, in half-widths of the 95% predictive interval")
    ax.set_title(f"{title}: green covered, red missed, grey checks; | observed, o predictive mean", fontsize=10)
    fig.savefig(path, dpi=100, metadata={"Software": None})


def predictive_section(table: pd.DataFrame, holdouts: list[str], figure: str, draws: int, replications: int,
                       posterior: str, not_fitted: frozenset[str] = frozenset()) -> list[str]:
    """validation/report.md's section on the posterior predictive checks: K of N for the fitted
    targets, for the pre-registered hold-outs and for the other targets never fitted
    (``not_fitted``: calibrate = false; informative targets only, checks apart), the per-target
    table and the figure."""
    held = table[table["target"].isin(holdouts)]
    unfitted = table[table["target"].isin(not_fitted) & ~table["target"].isin(holdouts)]
    fitted = table[~table["target"].isin(holdouts) & ~table["target"].isin(not_fitted)]
    lines = ["## Posterior predictive checks", "",
             f"{draws} draws of the posterior (`{posterior}`) x {replications} seeds each; to every run's value an "
             "observation error and a model discrepancy are added (normal, with the target's SDs), and the 95% "
             "predictive interval is the 2.5-97.5% range of the results. A target is *covered* when its observed "
             "value or range meets that interval. Checks (targets no parameter moves, found by the calibration's "
             "first wave) are counted apart.", "",
             f"**In sample (fitted targets): {k_of_n(fitted)}. Out of sample (pre-registered hold-outs, "
             f"`validation/holdouts.toml`): {k_of_n(held)}.**"
             + (f" Never fitted (calibrate = false in the target file, chosen before this calibration but not "
                f"pre-registered): {k_of_n(unfitted)}." if len(unfitted) else ""), "",
             "| target | observed | predictive mean | 95% predictive interval | covered | role |", "|---|---|---|---|---|---|"]
    for row in table.itertuples():
        role = ("check" if row.check else "") + (" hold-out" if row.target in holdouts else
                                                  " not fitted" if row.target in not_fitted else "")
        lines.append(f"| `{row.target}` | {row.observed} | {row.model_mean:.4g} | {row.predictive_low:.4g} to "
                     f"{row.predictive_high:.4g} | {'yes' if row.covered else '**no**'} | {role.strip() or 'fitted'} |")
    lines += ["", f"![Posterior predictive checks](figures/{figure})", ""]
    return lines


def splits_section(calibration: Path) -> list[str]:
    """validation/report.md's section on the out-of-sample splits: for every split fit committed
    under the calibration folder (a subfolder with summary.toml and predictive.csv, as
    ``cryptoabm calibrate --split ... --out validation/calibration/<name>`` writes it), the
    command, its "K of N" over the informative targets predicted and each target's interval."""
    import tomllib

    found = sorted(folder for folder in Path(calibration).iterdir() if folder.is_dir()
                   and (folder / "summary.toml").is_file() and (folder / "predictive.csv").is_file())
    if not found:
        return []
    lines = ["## Out-of-sample splits", "",
             "Each split fits part of the record by the same history matching and predicts the rest from its "
             "posterior (runs over posterior draws and seeds, observation error and discrepancy added, 95% "
             "intervals).", ""]
    for folder in found:
        summary = tomllib.loads((folder / "summary.toml").read_text())
        table = pd.read_csv(folder / "predictive.csv")
        lines += [f"**{folder.name}** (`{summary.get('command', '')}`, {summary.get('wall_time_seconds', '?')} s): "
                  f"**{k_of_n(table)}** predicted targets within their 95% predictive interval "
                  f"({int(table['runs'].max())} runs a target).", "",
                  "| target | observed | predictive mean | 95% predictive interval | covered |", "|---|---|---|---|---|"]
        for row in table.itertuples():
            lines.append(f"| `{row.target}`{' (check)' if row.check else ''} | {row.observed} | {row.model_mean:.4g} "
                         f"| {row.predictive_low:.4g} to {row.predictive_high:.4g} | {'yes' if row.covered else '**no**'} |")
        lines.append("")
    return lines
