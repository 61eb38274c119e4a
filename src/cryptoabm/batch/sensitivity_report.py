"""``cryptoabm sensitivity DIR``: indices, robustness and PRIM boxes of a sampled batch, as
tables, figures and a section of its report.

Writes, replacing any earlier analysis of the same folder:

    DIR/sensitivity/indices.parquet|csv      every index (levels and paired effects)
    DIR/sensitivity/dummy_check.parquet|csv  each target's dummy index against the real parameters'
    DIR/sensitivity/win_shares.parquet|csv   share of points where each arm beats the reference
    DIR/sensitivity/regret.parquet|csv       each arm's largest and mean regret
    DIR/sensitivity/prim_boxes.parquet|csv   PRIM's boxes (with --threshold)
    DIR/sensitivity/figures/*.png
    DIR/sections/sensitivity.md              the report's section; report.md is rewritten with it

Everything is checked (the folder, the design, the outcomes, the thresholds, every point
finished) before anything is written.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cryptoabm.batch.experiment import DUMMY  # noqa: E402
from cryptoabm.batch.report import (  # noqa: E402
    FIGURE_DPI,
    LABEL_POINTS,
    REPORT,
    SECTIONS,
    _fmt,
    axis_formatter,
    outcome_unit,
    read_batch,
    write_report,
)
from cryptoabm.batch.robustness import (  # noqa: E402
    PRIM_RESAMPLES,
    Threshold,
    parse_threshold,
    prim_boxes,
    regret_table,
    win_shares,
)
from cryptoabm.batch.sensitivity import (  # noqa: E402
    DUMMY_COMPARABLE,
    INDEX_WORDS,
    MAIN_INDEX,
    AnalysisError,
    SensitivityDesign,
    design_from_manifest,
    dummy_check,
    sensitivity_indices,
    targets,
)
from cryptoabm.batch.store import MANIFEST, write_atomically  # noqa: E402
from cryptoabm.folder_lock import folder_lock  # noqa: E402
from cryptoabm.summary import OUTCOMES, better_side  # noqa: E402

FOLDER = "sensitivity"
SECTION_FILE = "sensitivity.md"
POINT_TOLERANCE = 1e-9  # stored design values against the regenerated design


@dataclass(frozen=True)
class Analysis:
    """What ``cryptoabm sensitivity`` computed, for printing."""

    folder: Path
    indices: pd.DataFrame
    checks: pd.DataFrame
    wins: pd.DataFrame
    regret: pd.DataFrame
    boxes: pd.DataFrame
    design: SensitivityDesign
    outcomes: list[str]
    report: Path


def analyse(folder: Path, outcomes: list[str] | None = None, thresholds: list[str] | tuple[str, ...] = ()) -> Analysis:
    """Analyse the sampled batch in ``folder`` and write its tables, figures and report section.

    The folder's lock is held throughout (:mod:`cryptoabm.folder_lock`): a second analysis, or a
    batch resuming into the folder, is refused rather than mixing its files with this one's."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():  # no batch: refused with one line, and nothing written there
        return _analyse(folder, outcomes, thresholds)
    with folder_lock(folder, "batch or sensitivity analysis", "folder"):
        return _analyse(folder, outcomes, thresholds)


def _analyse(folder: Path, outcomes: list[str] | None, thresholds: list[str] | tuple[str, ...]) -> Analysis:
    manifest, runs, _ = read_batch(folder, timeseries=False)
    design = design_from_manifest(manifest, str(folder))
    chosen = list(dict.fromkeys(outcomes or manifest.get("report_outcomes") or []))
    unknown = [o for o in chosen if o not in OUTCOMES]
    if unknown:
        raise AnalysisError(f"--outcome: unknown outcome '{unknown[0]}'; outcomes: {', '.join(OUTCOMES)}")
    if not chosen:
        raise AnalysisError("--outcome: name at least one outcome to analyse")
    parsed = [parse_threshold(text) for text in thresholds]
    _require_salib()
    points = _check_points(runs, design, folder)
    reference = manifest["reference"]
    if reference not in set(runs["arm"]):
        raise AnalysisError(f"{folder}: the reference arm '{reference}' has no finished run")

    analysed = chosen + [t.outcome for t in parsed if t.outcome not in chosen]  # a box is checked against indices
    indices = sensitivity_indices(runs, design, reference, analysed)
    checks = dummy_check(indices, targets(runs, reference, analysed), design.design.kind)
    wins = win_shares(runs, reference, chosen, len(points))
    regret = regret_table(runs, chosen, len(points))
    real_ranges = {k: v for k, v in design.design.sampled_ranges.items() if k != DUMMY}
    boxes = pd.concat([prim_boxes(runs, t, real_ranges, len(points)) for t in parsed], ignore_index=True) \
        if parsed else pd.DataFrame()

    staging = folder / f".{FOLDER}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        (staging / "figures").mkdir(parents=True)
        tables = {"indices": indices, "dummy_check": checks, "win_shares": wins, "regret": regret}
        if parsed:
            tables["prim_boxes"] = boxes
        for name, table in tables.items():
            table.to_parquet(staging / f"{name}.parquet", index=False)
            table.to_csv(staging / f"{name}.csv", index=False)
        figures = _figures(staging / "figures", indices, checks, wins, boxes, parsed, design, chosen, reference)
        if design.design.kind == "sobol":  # do the effects' total indices settle as the sample grows?
            convergence = effect_convergence(runs, design, reference, chosen, staging / "figures")
            convergence.to_csv(staging / "sobol_convergence.csv", index=False)
            figures.update({f"convergence_{o}": f"convergence_{o}.png" for o in dict.fromkeys(convergence["outcome"])})
        section = _section(folder, manifest, runs, design, analysed, reference, indices, checks, wins, regret, boxes,
                           parsed, figures, thresholds)
        if design.design.kind == "sobol":
            section += "\n".join(["", "## Do the indices settle?", "",
                                   "Each arm's effect's total index ST with its 95% bootstrap interval, recomputed on the "
                                   "first 1/8, 1/4, 1/2 and all of the base samples (`sensitivity/sobol_convergence.csv`). "
                                   "An index still moving between the last two sizes, or not clear of the dummy's, "
                                   "supports no statement.", ""]
                                  + [f"![convergence]({FOLDER}/figures/{name})" for key, name in figures.items()
                                     if key.startswith("convergence_")]) + "\n"
        final = folder / FOLDER
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    (folder / SECTIONS).mkdir(exist_ok=True)
    write_atomically(folder / SECTIONS / SECTION_FILE, lambda p: p.write_text(section))
    report = write_report(folder)
    return Analysis(folder, indices, checks, wins, regret, boxes, design, analysed, report)


def _require_salib() -> None:
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise AnalysisError("the sensitivity analysis needs SALib: pip install 'cryptoabm[analysis]'") from None


def _check_points(runs: pd.DataFrame, design: SensitivityDesign, folder: Path) -> list[dict]:
    """The regenerated design, checked against the design values the runs recorded."""
    points = design.points()
    stored = runs.drop_duplicates("point").set_index("point")
    for name in design.names:
        if name not in stored.columns:
            raise AnalysisError(f"{folder}: the runs do not record the design parameter '{name}'")
    for index, point in enumerate(points):
        if index not in stored.index:
            continue  # a point with no finished run: reported by the analysis that needs it
        for name, value in point.items():
            if abs(float(stored.at[index, name]) - float(value)) > POINT_TOLERANCE * max(1.0, abs(float(value))):
                raise AnalysisError(f"{folder}: point {index} of the runs does not match the recorded design "
                                    f"({name} = {stored.at[index, name]} against {value})")
    extra = sorted(set(stored.index) - set(range(len(points))))
    if extra:
        raise AnalysisError(f"{folder}: the runs hold point {extra[0]}, beyond the design's {len(points)} points")
    return points


def effect_convergence(runs: pd.DataFrame, design: SensitivityDesign, reference: str, outcomes: list[str],
                       figures: Path) -> pd.DataFrame:
    """ST of each arm's paired effect on growing prefixes of the Saltelli sample, and one
    figure per outcome (:mod:`cryptoabm.batch.sensitivity_convergence`)."""
    from cryptoabm.batch.sensitivity import ANALYSIS_STREAM, paired_effects
    from cryptoabm.batch.sensitivity_convergence import convergence_figure, sobol_convergence

    n_points = len(design.unit_sample())
    seed = int(np.random.SeedSequence([design.base_seed, ANALYSIS_STREAM]).generate_state(1)[0])
    frames = []
    for outcome in outcomes:
        per_outcome = []
        for arm, values in paired_effects(runs, outcome, reference, n_points).items():
            table = sobol_convergence(design, values.reindex(range(n_points)).to_numpy(dtype=float), seed)
            per_outcome.append(table.assign(arm=arm, outcome=outcome))
        if per_outcome:
            joined = pd.concat(per_outcome, ignore_index=True)
            frames.append(joined)
            shown = joined.assign(parameter=joined["arm"] + ": " + joined["parameter"])
            convergence_figure(shown, figures / f"convergence_{outcome}.png",
                               f"ST of each arm's effect on {OUTCOMES[outcome][2]} against sample size")
    columns = ["base_samples", "parameter", "value", "conf", "arm", "outcome"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


# -- figures ------------------------------------------------------------------------------
def _target_title(quantity: str, arm: str, reference: str) -> str:
    return f"level: {arm}" if quantity == "level" else f"effect: {arm} - {reference}"


def _figures(folder: Path, indices: pd.DataFrame, checks: pd.DataFrame, wins: pd.DataFrame, boxes: pd.DataFrame,
             thresholds: list[Threshold], design: SensitivityDesign, outcomes: list[str], reference: str) -> dict:
    made: dict[str, str] = {}
    main = MAIN_INDEX[design.design.kind]
    for outcome in outcomes:
        part = indices[(indices["outcome"] == outcome) & (indices["index"] == main)]
        if part.empty:
            continue
        keys = list(dict.fromkeys(zip(part["quantity"], part["arm"], strict=True)))
        columns = min(3, len(keys))
        rows = math.ceil(len(keys) / columns)
        fig, axes = plt.subplots(rows, columns, figsize=(5.6 * columns, (0.9 + 0.32 * len(design.names)) * rows + 0.8),
                                 layout="constrained", squeeze=False)
        for ax in list(axes.flat)[len(keys):]:
            ax.set_visible(False)
        for ax, (quantity, arm) in zip(axes.flat, keys, strict=False):
            target = part[(part["quantity"] == quantity) & (part["arm"] == arm)].set_index("parameter")
            target = target.reindex(design.names)
            colours = ["tab:grey" if name == DUMMY else "tab:blue" for name in design.names]
            ax.barh(design.names, target["value"], xerr=np.nan_to_num(target["conf"]), color=colours, alpha=0.8,
                    capsize=3)
            dummy = checks[(checks["quantity"] == quantity) & (checks["arm"] == arm) & (checks["outcome"] == outcome)]
            if not dummy.empty and math.isfinite(dummy["dummy_high"].iloc[0]):
                ax.axvline(dummy["dummy_high"].iloc[0], color="tab:red", linestyle="--", linewidth=1)
            ax.set_title(_target_title(quantity, arm, reference), fontsize=LABEL_POINTS + 1)
            if design.design.kind == "morris":
                ax.xaxis.set_major_formatter(axis_formatter(outcome_unit(outcome)))
            ax.tick_params(labelsize=LABEL_POINTS)
            ax.invert_yaxis()
        label = "mu*" if main == "mu_star" else "ST"
        fig.suptitle(f"{OUTCOMES[outcome][2]}: {label} with 95% interval; grey = dummy (seed noise), "
                     f"red line = its upper end", fontsize=LABEL_POINTS + 2)
        name = f"indices_{outcome}.png"
        fig.savefig(folder / name, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
        plt.close(fig)
        made[outcome] = name
    if not wins.empty:
        labels = [f"{r.arm}: {OUTCOMES[r.outcome][2].split(' (')[0]}" for r in wins.itertuples()]
        fig, ax = plt.subplots(figsize=(9, 0.9 + 0.3 * len(labels)), layout="constrained")
        left = np.zeros(len(wins))
        for column, colour, word in (("share_better", "tab:green", "better"), ("share_tie", "tab:grey", "same"),
                                     ("share_worse", "tab:red", "worse")):
            ax.barh(labels, wins[column], left=left, color=colour, label=word, alpha=0.8)
            left += wins[column].to_numpy()
        ax.xaxis.set_major_formatter(axis_formatter("pct"))
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.tick_params(labelsize=LABEL_POINTS)
        fig.legend(loc="outside lower center", ncols=3, fontsize=LABEL_POINTS)
        ax.set_title(f"Share of sampled points where each arm does better than {reference}", fontsize=LABEL_POINTS + 1)
        fig.savefig(folder / "win_shares.png", format="png", dpi=FIGURE_DPI, metadata={"Software": None})
        plt.close(fig)
        made["win_shares"] = "win_shares.png"
    for number, threshold in enumerate(thresholds):
        part = boxes[(boxes["threshold"] == threshold.text) & (boxes["parameter"] != "")]
        if part.empty:
            continue
        arms = list(dict.fromkeys(part["arm"]))
        parameters = list(dict.fromkeys(part["parameter"]))
        columns = min(3, len(arms))
        rows = math.ceil(len(arms) / columns)
        fig, axes = plt.subplots(rows, columns, figsize=(5.6 * columns, (1.2 + 0.4 * len(parameters)) * rows),
                                 layout="constrained", squeeze=False)
        for ax in list(axes.flat)[len(arms):]:
            ax.set_visible(False)
        for ax, arm in zip(axes.flat, arms, strict=False):
            box = part[part["arm"] == arm].set_index("parameter").reindex(parameters)
            span = box["range_high"] - box["range_low"]
            low = (box["low"] - box["range_low"]) / span
            high = (box["high"] - box["range_low"]) / span
            ax.barh(parameters, [1.0] * len(parameters), color="lightgrey")
            ax.barh(parameters, high - low, left=low, color=np.where(box["restricted"], "tab:orange", "tab:blue"))
            first = box.iloc[0]
            ax.set_title(f"{arm}\ncoverage {first['coverage']:.0%}, density {first['density']:.0%}",
                         fontsize=LABEL_POINTS + 1)
            ax.set_xlim(0, 1)
            ax.set_xlabel("share of the sampled range", fontsize=LABEL_POINTS)
            ax.tick_params(labelsize=LABEL_POINTS)
            ax.invert_yaxis()
        fig.suptitle(f"PRIM boxes where {threshold.text} (orange: restricted)", fontsize=LABEL_POINTS + 2)
        name = f"prim_{number + 1}.png"
        fig.savefig(folder / name, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
        plt.close(fig)
        made[f"prim_{number}"] = name
    return made


# -- the report's section -------------------------------------------------------------------
def _index_cell(outcome: str, method: str, rows: pd.DataFrame) -> str:
    by_index = rows.set_index("index")
    if method == "morris":
        mu = by_index.loc["mu_star"]
        return (f"{_fmt(outcome, mu['value'])} \u00b1{_fmt(outcome, mu['conf'])} "
                f"(\u03c3 {_fmt(outcome, by_index.loc['sigma', 'value'])})")
    st, s1 = by_index.loc["ST"], by_index.loc["S1"]
    return f"{st['value']:.2f} \u00b1{st['conf']:.2f} (S1 {s1['value']:.2f})"


def _section(folder: Path, manifest: dict, runs: pd.DataFrame, design: SensitivityDesign, outcomes: list[str],
             reference: str, indices: pd.DataFrame, checks: pd.DataFrame, wins: pd.DataFrame, regret: pd.DataFrame,
             boxes: pd.DataFrame, thresholds: list[Threshold], figures: dict, threshold_texts) -> str:
    spec = design.design
    replications = runs.groupby(["arm", "point"]).size()
    n_points = len(design.unit_sample())
    command = f"cryptoabm sensitivity {folder} " + " ".join(f"--outcome {o}" for o in outcomes) \
        + "".join(f" --threshold '{t}'" for t in threshold_texts)
    lines = ["<!-- written by cryptoabm sensitivity; rewritten each time it runs -->",
             "## Sensitivity of outcomes and policy effects", "",
             f"Generated by `{command}` (tables in `{FOLDER}/`)."]
    if spec.kind == "morris":
        what = (f"Morris design: {spec.trajectories} trajectories on {spec.levels} levels over "
                f"{len(design.real_names)} parameters and the dummy ({n_points} points)")
        meaning = (f"Cells: {INDEX_WORDS['mu_star']}, \u00b1 the half-width of its 95% bootstrap interval, and "
                   f"(\u03c3: {INDEX_WORDS['sigma'].split('(')[1]}.")
    else:
        what = (f"Sobol' design (Saltelli's scheme): {spec.samples} base samples over {len(design.real_names)} "
                f"parameters and the dummy ({n_points} points"
                + (", second-order indices sampled)" if spec.second_order else ")"))
        meaning = (f"Cells: {INDEX_WORDS['ST']} \u00b1 the half-width of its 95% interval, and "
                   f"({INDEX_WORDS['S1']}).")
    lines += ["", f"{what}, {replications.min()}{'' if replications.min() == replications.max() else f'-{replications.max()}'} "
              f"replications at each point, in each arm. Each point is averaged over its replications. A **level** is an "
              f"arm's outcome; an **effect** is the arm minus the reference (**{reference}**) at the same point on the "
              f"same seeds. {meaning}", "", "| parameter | sampled range |", "|---|---|"]
    for name, (low, high) in spec.sampled_ranges.items():
        note = " (the dummy: read by no model, it picks the seeds)" if name == DUMMY else ""
        lines.append(f"| `{name}`{note} | [{low}, {high}] |")
    lines.append("")

    lines += ["### The dummy check", ""]
    main = MAIN_INDEX[spec.kind]
    judged = checks[checks["verdict"].isin(["ok", "too small"])]
    small = judged[judged["verdict"] == "too small"]
    if not spec.dummy:
        lines += ["This design was run without the dummy, so nothing says how much seed noise is in the indices.", ""]
    elif small.empty and not judged.empty:
        lines += [f"**Passes** for all {len(judged)} targets that vary: in each, the largest real parameter's "
                  f"{main} is more than {1 / DUMMY_COMPARABLE:.0f} times the dummy's (the upper end of its interval), "
                  f"so the leading drivers stand clear of seed noise.", ""]
    elif not judged.empty:
        lines += [f"**The design is too small for {len(small)} of {len(judged)} targets**: there the dummy's {main} "
                  f"(seed noise alone; upper end of its interval) is comparable to the real parameters' (at least "
                  f"{DUMMY_COMPARABLE:.0%} of the largest), so the ranking of parameters there cannot be told from "
                  f"noise. Use more {'trajectories' if spec.kind == 'morris' else 'samples'} or more replications. "
                  f"Targets: " + "; ".join(f"{_target_title(r.quantity, r.arm, reference)} on "
                                         f"{OUTCOMES[r.outcome][2]}" for r in small.itertuples()) + ".", ""]
    constant = checks[checks["verdict"] == "constant"]
    if not constant.empty:
        lines += ["The same at every point, so without indices: " + "; ".join(
            f"{_target_title(r.quantity, r.arm, reference)} on {OUTCOMES[r.outcome][2]}" for r in constant.itertuples())
            + ".", ""]
    lines += ["| target | outcome | dummy (upper end) | strongest parameter | parameters not clear of the dummy | verdict |",
              "|---|---|---|---|---|---|"]
    for r in checks.itertuples():
        fmt = (lambda v, o=r.outcome: _fmt(o, v)) if spec.kind == "morris" else (lambda v: f"{v:.2f}")
        dummy = "n/a" if not math.isfinite(r.dummy_high) else fmt(r.dummy_high)
        top = f"`{r.top_parameter}` {fmt(r.top_value)}" if r.top_parameter else "n/a"
        lines.append(f"| {_target_title(r.quantity, r.arm, reference)} | {OUTCOMES[r.outcome][2]} | {dummy} | {top} | "
                     f"{r.within_noise or '-'} | {r.verdict} |")
    lines.append("")

    for outcome in outcomes:
        part = indices[indices["outcome"] == outcome]
        lines += [f"### {OUTCOMES[outcome][2]}", ""]
        if part.empty:
            lines += ["The same at every point under every arm: no index.", ""]
            continue
        keys = list(dict.fromkeys(zip(part["quantity"], part["arm"], strict=True)))
        strength = part[part["index"] == main].groupby("parameter")["value"].max().sort_values(ascending=False)
        lines += ["| parameter | " + " | ".join(_target_title(q, a, reference) for q, a in keys) + " |",
                  "|---" * (len(keys) + 1) + "|"]
        for parameter in strength.index:
            cells = []
            for quantity, arm in keys:
                rows = part[(part["quantity"] == quantity) & (part["arm"] == arm) & (part["parameter"] == parameter)
                            & (part["parameter_2"] == "")]
                cells.append(_index_cell(outcome, spec.kind, rows) if not rows.empty else "constant")
            lines.append(f"| `{parameter}` | " + " | ".join(cells) + " |")
        lines.append("")
        second = part[part["index"] == "S2"]
        if not second.empty:
            top = second.reindex(second["value"].abs().sort_values(ascending=False).index).head(5)
            lines += ["Largest second-order indices: " + "; ".join(
                f"`{r.parameter}` x `{r.parameter_2}` {r.value:.2f} \u00b1{r.conf:.2f} ({_target_title(r.quantity, r.arm, reference)})"
                for r in top.itertuples()) + ".", ""]
        if outcome in figures:
            lines += [f"![{outcome}]({FOLDER}/figures/{figures[outcome]})", ""]

    lines += ["## Robustness over the sampled parameters", "",
              f"Over the {n_points} sampled points (each averaged over its replications): the share of points where "
              f"each arm does better than **{reference}**, worse, or the same (paired on the same seeds), on each "
              f"outcome with a better side (declared in `cryptoabm.summary.BETTER`; outcomes with none are left out)."]
    if wins.empty:
        lines += ["", "None of the outcomes analysed has a better side.", ""]
    else:
        arms = list(dict.fromkeys(wins["arm"]))
        lines += ["", "| outcome (better) | " + " | ".join(arms) + " |", "|---" * (len(arms) + 1) + "|"]
        for outcome in dict.fromkeys(wins["outcome"]):
            cells = []
            for arm in arms:
                r = wins[(wins["arm"] == arm) & (wins["outcome"] == outcome)].iloc[0]
                cells.append(f"better {r['share_better']:.0%}, worse {r['share_worse']:.0%}"
                             + (f", same {r['share_tie']:.0%}" if r["share_tie"] > 0 else ""))
            lines.append(f"| {OUTCOMES[outcome][2]} ({better_side(outcome)}) | " + " | ".join(cells) + " |")
        lines += ["", f"![Win shares]({FOLDER}/figures/{figures['win_shares']})", "",
                  "**Regret.** At each point an arm's regret on an outcome is how far it falls short of the best arm "
                  "there; the cells give its largest and mean regret over the points, and the share of points "
                  "where it is the best arm.", ""]
        regret_outcomes = list(dict.fromkeys(regret["outcome"]))
        lines += ["| arm | " + " | ".join(OUTCOMES[o][2] for o in regret_outcomes) + " |",
                  "|---" * (len(regret_outcomes) + 1) + "|"]
        for arm in dict.fromkeys(regret["arm"]):
            cells = []
            for outcome in regret_outcomes:
                r = regret[(regret["arm"] == arm) & (regret["outcome"] == outcome)].iloc[0]
                cells.append(f"max {_fmt(outcome, r['max_regret'])}, mean {_fmt(outcome, r['mean_regret'])}; "
                             f"best at {r['share_best']:.0%}")
            lines.append(f"| {arm} | " + " | ".join(cells) + " |")
        lines.append("")

    for number, threshold in enumerate(thresholds):
        part = boxes[boxes["threshold"] == threshold.text]
        lines += [f"## Scenario discovery: where `{threshold.text}`", "",
                  f"PRIM (EMA Workbench) over the sampled parameters (the dummy left out), on the point averages: "
                  f"the box reported is the densest on PRIM's peeling trajectory that still holds at least half of "
                  f"an arm's failing points. Coverage: share of the failing points inside the box; density: share of "
                  f"the points inside the box that fail; mass: share of all points inside the box. A bound marked "
                  f"\u2021 is on a parameter not clear of the dummy in the indices of this outcome's level under "
                  f"that arm: the box there follows seed noise or the design's few distinct values, not a driver. "
                  f"Stability: EMA Workbench's resampling reruns PRIM on {PRIM_RESAMPLES} random halves of the points; "
                  f"'found again in X%' is how often a parameter is restricted again (reproduce coverage): a box "
                  f"found in few resamples is not a finding."
                  + (f" On a Morris design the points lie on a grid of {spec.levels} levels along "
                     f"{spec.trajectories} trajectories, so boxes are coarse; a sobol design samples the space "
                     f"more evenly." if spec.kind == "morris" else ""), "",
                  "| arm | points failing | coverage | density | mass | box (restricted parameters) |",
                  "|---|---|---|---|---|---|"]
        for arm in dict.fromkeys(part["arm"]):
            rows = part[part["arm"] == arm]
            first = rows.iloc[0]
            if first["parameter"] == "":
                where = "fails nowhere" if first["failing_share"] == 0 else "fails everywhere"
                lines.append(f"| {arm} | {first['failing_share']:.0%} | - | - | - | {where} |")
                continue
            restricted = rows[rows["restricted"]]
            check = checks[(checks["quantity"] == "level") & (checks["arm"] == arm)
                           & (checks["outcome"] == threshold.outcome)]
            noise = set(check["within_noise"].iloc[0].split(", ")) if not check.empty else set()
            box = "; ".join(f"`{r.parameter}` in [{r.low:.4g}, {r.high:.4g}] of "
                            f"[{r.range_low:.4g}, {r.range_high:.4g}] (found again in {r.reproduce_coverage:.0f}% of "
                            f"resamples)" + (" \u2021" if r.parameter in noise else "")
                            for r in restricted.itertuples()) or "the whole space"
            lines.append(f"| {arm} | {first['failing_share']:.0%} | {first['coverage']:.0%} | {first['density']:.0%} | "
                         f"{first['mass']:.0%} | {box} |")
        lines.append("")
        if f"prim_{number}" in figures:
            lines += [f"![PRIM boxes]({FOLDER}/figures/{figures[f'prim_{number}']})", ""]
    return "\n".join(lines) + "\n"


def summary_lines(analysis: Analysis) -> list[str]:
    """What the command prints: the dummy verdicts and each target's strongest parameter."""
    checks = analysis.checks
    judged = checks[checks["verdict"].isin(["ok", "too small"])]
    small = judged[judged["verdict"] == "too small"]
    lines = [f"dummy check: {'passes' if small.empty else 'TOO SMALL'} "
             f"({len(judged) - len(small)} of {len(judged)} targets clear of seed noise"
             + (f"; {len(checks) - len(judged)} constant" if len(checks) > len(judged) else "") + ")"]
    main = MAIN_INDEX[analysis.design.design.kind]
    for r in checks[checks["quantity"] == "effect"].itertuples():
        if not r.top_parameter:
            continue
        value = _fmt(r.outcome, r.top_value) if main == "mu_star" else f"{r.top_value:.2f}"
        lines.append(f"  effect {r.arm}: {r.outcome}: strongest {r.top_parameter} ({main} {value}); {r.verdict}")
    for r in analysis.wins.itertuples():
        lines.append(f"  {r.arm} beats {r.reference} on {r.outcome} ({r.better} is better) at {r.share_better:.0%} "
                     f"of points, loses at {r.share_worse:.0%}")
    for r in analysis.boxes.drop_duplicates(["threshold", "arm"]).itertuples() if not analysis.boxes.empty else []:
        if r.parameter == "":
            lines.append(f"  PRIM {r.threshold}: {r.arm} fails at {r.failing_share:.0%} of points (no box)")
        else:
            restricted = analysis.boxes[(analysis.boxes["threshold"] == r.threshold) & (analysis.boxes["arm"] == r.arm)
                                        & analysis.boxes["restricted"]]
            where = ", ".join(f"{b.parameter} in [{b.low:.3g}, {b.high:.3g}]" for b in restricted.itertuples())
            lines.append(f"  PRIM {r.threshold}: {r.arm} fails at {r.failing_share:.0%} of points; box {where} "
                         f"(coverage {r.coverage:.0%}, density {r.density:.0%})")
    lines.append(f"tables and figures: {analysis.folder / FOLDER}/; report: {analysis.report}")
    return lines
