"""Validation of every preset against the targets: ``validation/report.md`` and ``validation/figures/``.

Every preset runs ``replications`` times (common random numbers: the same seeds in every
preset) through the batch layer with the shared behavioural parameters as
``configs/behaviour.toml`` holds them. Per target: the model's mean and 95% interval (2.5-97.5
percentiles over replications) against the observed value or range, and pass (the mean within
the accepted band, ``Target.distance`` at most 1) or miss. Per preset: a figure of the model's
5-95% band over replications on calendar dates, with the observed points. A summary line:
"K of N targets pass".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cryptoabm.calibration.metrics import METRICS
from cryptoabm.calibration.simulate import FIGURE_COLUMNS, Simulated, Simulator
from cryptoabm.calibration.targets import LoadedTargets, Target

PASS_DISTANCE = 1.0


@dataclass(frozen=True)
class TargetResult:
    target: Target
    mean: float
    low: float  # 2.5th percentile over replications
    high: float  # 97.5th percentile
    replications: int

    @property
    def distance(self) -> float:
        return self.target.distance(self.mean)

    @property
    def passed(self) -> bool:
        return bool(abs(self.distance) <= PASS_DISTANCE)


def target_results(loaded: LoadedTargets, simulated: Simulated) -> list[TargetResult]:
    """Each target's mean and 95% interval over replications (design point 0)."""
    values = simulated.values[simulated.values["point"] == 0]
    results = []
    for target in loaded.targets.targets:
        v = values.loc[values["target"] == target.id, "value"].to_numpy(dtype=float)
        finite = v[np.isfinite(v)]
        if finite.size == 0:
            results.append(TargetResult(target, float("nan"), float("nan"), float("nan"), 0))
            continue
        results.append(TargetResult(target, float(finite.mean()), float(np.percentile(finite, 2.5)),
                                    float(np.percentile(finite, 97.5)), int(finite.size)))
    return results


def summary_line(results: list[TargetResult]) -> str:
    passed = sum(r.passed for r in results)
    return f"{passed} of {len(results)} targets pass"


def validate(loaded: LoadedTargets, simulate: Simulator, presets: dict[str, Path], replications: int,
             out_dir: Path, command: str, holdouts: frozenset[str] = frozenset()) -> tuple[list[TargetResult], Path]:
    """Run every preset, then write the report and figures into ``out_dir``; returns the per-target
    results and the report's path. ``holdouts``: the pre-registered hold-outs, reported apart."""
    simulated = simulate({"kind": "none"}, replications, "validate")
    results = target_results(loaded, simulated)
    figures = out_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    for old in figures.glob("*.png"):
        old.unlink()  # figures of presets since removed do not linger
    figure_paths = {}
    for name, path in presets.items():
        figure_paths[name] = preset_figure(name, path, loaded, results, simulated.runs, figures / f"{name}.png")
    report = write_report(loaded, results, presets, figure_paths, replications, out_dir / "report.md", command,
                          holdouts)
    return results, report


def _quantity(value: float, unit: str) -> str:
    if value != value:
        return "n/a"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "change":
        return f"{value:+.1%}"
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def _observed(target: Target, unit: str) -> str:
    if isinstance(target.observed, list):
        return f"{_quantity(target.low, unit)} to {_quantity(target.high, unit)}"
    return _quantity(target.observed, unit)


def role(target: Target, holdouts: frozenset[str]) -> str:
    """A target's part in the calibration: a pre-registered hold-out (never fitted, whatever its
    flag), fitted, or not fitted (calibrate = false)."""
    return "hold-out" if target.id in holdouts else "fitted" if target.calibrate else "not fitted"


def write_report(loaded: LoadedTargets, results: list[TargetResult], presets: dict[str, Path],
                 figures: dict[str, Path], replications: int, path: Path, command: str,
                 holdouts: frozenset[str] = frozenset()) -> Path:
    """validation/report.md: the summary line, the per-target table, the misses, the presets."""
    targeted = {r.target.preset for r in results}
    calibrated = [r for r in results if role(r.target, holdouts) == "fitted"]
    held_out = [r for r in results if role(r.target, holdouts) == "hold-out"]
    unfitted = [r for r in results if role(r.target, holdouts) == "not fitted"]
    lines = [
        "# Validation: every preset against the public record",
        "",
        f"Written by `{command}` ({replications} replications of every preset, common random numbers, "
        f"seeds from base seed {loaded.targets.base_seed}; the shared behavioural parameters as "
        f"`configs/behaviour.toml` holds them). Targets: `{loaded.path.as_posix()}`, each a row of the facts sheet.",
        "",
        f"**{summary_line(results)}** ({sum(r.passed for r in calibrated)} of {len(calibrated)} fitted by "
        f"`cryptoabm calibrate`; {sum(r.passed for r in held_out)} of {len(held_out)} pre-registered hold-outs; "
        f"{sum(r.passed for r in unfitted)} of {len(unfitted)} never fitted). The model here runs with the point "
        f"values of `configs/behaviour.toml`; the posterior predictive checks below run it on the posterior.",
        "",
        "A target passes when the model's mean over replications lies within the observed value or range "
        "widened by the target's tolerance; *distance* is how far the mean lies outside the observed range, "
        "in tolerances (0 inside it, 1 at the edge of the accepted band). The 95% interval is the 2.5-97.5 "
        "percentiles of the replications: the spread of single runs, not the uncertainty of the mean.",
        "",
        "| target | preset | window | observed | tolerance | model mean | 95% interval | distance | result | fit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        t = r.target
        unit = METRICS[t.metric].unit
        window = t.window[0] if t.window[0] == t.window[1] else f"{t.window[0]} to {t.window[1]}"
        lines.append(
            f"| `{t.id}` | {t.preset} | {window} | {_observed(t, unit)} | {_quantity(t.tolerance, unit if unit != 'change' else 'share')} "
            f"| {_quantity(r.mean, unit)} | {_quantity(r.low, unit)} to {_quantity(r.high, unit)} "
            f"| {r.distance:+.2f} | {'pass' if r.passed else '**miss**'} | {role(t, holdouts)} |")
    lines += ["", "## What each target measures", ""]
    for r in results:
        t = r.target
        lines.append(f"- `{t.id}` ({t.metric}): {METRICS[t.metric].description} {t.note + '.' if t.note else ''} "
                     f"Source: {t.source}.")
    misses = [r for r in results if not r.passed]
    lines += ["", "## Misses, and what would close them", ""]
    if not misses:
        lines.append("None.")
    for r in misses:
        t = r.target
        unit = METRICS[t.metric].unit
        closing = t.if_missed or "not yet analysed."
        lines.append(f"- `{t.id}`: the model gives {_quantity(r.mean, unit)} against {_observed(t, unit)}. {closing}")
    untargeted = [name for name in presets if name not in targeted]
    lines += ["", "## Presets", ""]
    lines.append("Presets with no quantitative target yet: "
                 + (", ".join(f"`{n}`" for n in untargeted) if untargeted else "none") + ". Their figures show "
                 "the model's bands only; the facts sheet has no observed outcome for them yet (their regimes "
                 "are recent or still to come).")
    lines.append("")
    for name, figure in figures.items():
        count = sum(1 for r in results if r.target.preset == name)
        lines += [f"### {name} ({count} targets)", "", f"![{name}](figures/{figure.name})", ""]
    lines += ["Regenerate this report and its figures with:", "", "    " + command, ""]
    path.write_text("\n".join(lines))
    return path


def preset_figure(name: str, preset_path: Path, loaded: LoadedTargets, results: list[TargetResult],
                  runs: pd.DataFrame | None, path: Path) -> Path:
    """The model's 5-95% band (and median) over replications for each column the preset's targets
    read, on calendar dates, with each target's window shaded and its observed value or range
    drawn where it is on the column's scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from cryptoabm.config import load_scenario

    scenario = load_scenario(preset_path)
    own = [r for r in results if r.target.preset == name]
    columns: list[str] = []
    for r in own:
        column = METRICS[r.target.metric].column
        if column not in columns:
            columns.append(column)
    if not columns:
        columns = list(FIGURE_COLUMNS)
    arms = {name} | {r.target.arm for r in own}
    width = 2 if len(columns) > 1 else 1
    rows = int(np.ceil(len(columns) / width))
    fig, axes = plt.subplots(rows, width, figsize=(6.2 * width, 2.8 * rows), squeeze=False)
    for ax in axes.flat[len(columns):]:
        ax.set_visible(False)
    for ax, column in zip(axes.flat, columns, strict=False):
        labelled = 0
        for arm in sorted(arms):
            if runs is None or arm not in set(runs["arm"]):
                continue
            data = runs[(runs["arm"] == arm) & (runs["month"] <= scenario.months)]
            wide = data.pivot_table(index="date", columns="replicate", values=column, aggfunc="first")
            dates = pd.to_datetime(wide.index)
            label = "model" if arm == name else f"model, {arm.split('__', 1)[-1]}"
            colour = "tab:blue" if arm == name else "tab:purple"
            ax.fill_between(dates, wide.quantile(0.05, axis=1), wide.quantile(0.95, axis=1), color=colour, alpha=0.25,
                            lw=0, label=f"{label}: 5-95% over {wide.shape[1]} runs")
            ax.plot(dates, wide.median(axis=1), color=colour, lw=1.2, label=f"{label}: median")
        for r in own:
            t = r.target
            metric = METRICS[t.metric]
            if metric.column != column:
                continue
            start, end = pd.Timestamp(t.window[0]), pd.Timestamp(t.window[1]) + pd.offsets.MonthEnd(0)
            colour = "tab:green" if r.passed else "tab:red"
            ax.axvspan(start, end, color=colour, alpha=0.08)
            if metric.on_column_scale:
                if t.low == t.high:
                    ax.plot([start, end], [t.low, t.low], color=colour, lw=2.5)
                    ax.plot([start + (end - start) / 2], [t.low], "o", color=colour, ms=5)
                else:
                    ax.fill_between([start, end], [t.low] * 2, [t.high] * 2, color=colour, alpha=0.45)
            verdict = "pass" if r.passed else "miss"
            ax.annotate(f"{t.id}: {verdict}", (start, 0.98 - 0.09 * labelled), xycoords=("data", "axes fraction"),
                        fontsize=6.5, va="top", color=colour)
            labelled += 1
        ax.set_title(column, fontsize=9)
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.tick_params(labelsize=7)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(handles)), fontsize=7, frameon=False)
    fig.suptitle(f"{name}: model bands and observed targets (green: pass, red: miss; "
                 f"shaded: each target's window)", fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
