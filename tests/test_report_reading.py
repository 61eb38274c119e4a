"""The report as an analyst reads it: a summary first, arms by their names, differences of
shares in percentage points, calendar dates on time axes, the reference drawn on top, and
figure labels that never collide (checked on the text bounding boxes matplotlib draws)."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from cryptoabm.batch.experiment import load_experiment
from cryptoabm.batch.report import (
    FAN_PANELS,
    _difference_bars,
    _fan_chart,
    difference_text,
    effect_distributions,
    largest_effects,
    paired_differences,
    read_batch,
    with_display_names,
    write_report,
)
from cryptoabm.batch.runner import InProcessExecutor, run_batch
from tests.conftest import CONFIGS

OUTCOMES = ("final_wallet_share", "total_fdi_inflow_usd", "total_capital_flight_usd", "total_state_revenue_usd",
            "total_energy_shadow_cost_usd", "total_current_account_usd")

EXPERIMENT = """
name = "reading"
question = "What does each package do on Turkmenistan's economy?"
reference = "law_2026"
replications = 4
horizon_months = 14
base_seed = 3
report_outcomes = {outcomes}

[[arms]]
name = "law_2026"
display_name = "2026 law"
config = "turkmenistan_2026.toml"
overrides = {{ "population.citizens" = 150 }}

[[arms]]
name = "full_ban"
display_name = "Full ban"
country = "turkmenistan"
policy_package = "full_ban"
overrides = {{ "population.citizens" = 150 }}

[[arms]]
name = "dubai_licensing"
country = "turkmenistan"
policy_package = "dubai_vara"
overrides = {{ "population.citizens" = 150 }}
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reading")
    (folder / "configs").symlink_to(CONFIGS)  # the composed arms look in ../configs/ of the experiment
    experiment_folder = folder / "experiments"
    experiment_folder.mkdir()
    path = experiment_folder / "reading.toml"
    path.write_text(EXPERIMENT.format(outcomes=json.dumps(list(OUTCOMES))))
    out = folder / "out"
    run_batch(load_experiment(path), out, InProcessExecutor, progress=False)
    write_report(out)
    return out


def test_the_report_opens_with_the_question_the_arms_and_the_largest_effects(batch):
    text = (batch / "report.md").read_text()
    summary = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert text.index("## Summary") < text.index("## Paired differences") < text.index("## Outcomes by arm")
    assert "What does each package do on Turkmenistan's economy?" in summary
    assert "**2026 law** (the reference)" in summary and "**Full ban**" in summary
    assert "**Dubai licensing**" in summary  # no display name given: the id in words
    effects = re.findall(r"^\d\. (.+?), (.+?): .*above zero in (\d+)% of 4 replicates, below in (\d+)%", summary,
                         flags=re.MULTILINE)
    assert len(effects) == 3
    manifest, runs, _ = read_batch(batch)
    shown = with_display_names(runs, manifest)
    distributions = effect_distributions(shown, "law_2026", None, OUTCOMES)
    top = largest_effects(distributions)
    for (label, outcome_label, above, below), row in zip(effects, top.to_dict("records"), strict=True):
        assert label == row["label"]
        paired = shown[shown["label"] == label].merge(shown[shown["arm"] == "law_2026"], on="replicate")
        difference = paired[f"{row['outcome']}_x"] - paired[f"{row['outcome']}_y"]
        assert int(above) == round(100 * (difference > 0).mean()) and int(below) == round(100 * (difference < 0).mean())
    # the scores are ordered: no effect left out scores higher than one shown
    side = np.where(distributions["mean"] > 0, distributions["above_zero"], distributions["below_zero"])
    score = distributions["size"] * side
    assert score[top.index].min() >= score.drop(top.index).max()


def test_differences_of_shares_are_in_percentage_points_and_arms_by_display_name(batch):
    text = (batch / "report.md").read_text()
    table = text.split("## Paired differences from the reference", 1)[1].split("\n## ", 1)[0]
    header = next(line for line in table.splitlines() if line.startswith("| outcome"))
    assert header == "| outcome | Full ban | Dubai licensing |"
    wallet = next(line for line in table.splitlines() if line.startswith("| Citizens holding a wallet"))
    assert wallet.count(" pp") == 6 and "%" not in wallet
    assert difference_text("final_wallet_share", 0.012) == "+1.2 pp"
    assert difference_text("final_wallet_share", -0.0005) == "-0.1 pp"  # rounded: never a bare "%"


def test_time_axes_are_calendar_dates_and_the_reference_is_drawn_on_top(batch, tmp_path):
    manifest, runs, timeseries = read_batch(batch)
    timeseries = with_display_names(timeseries, manifest)
    figure = _fan_chart(timeseries, FAN_PANELS["money_flows"], tmp_path / "fan.png", "Money flows",
                        frozenset({"2026 law"}))
    for ax in figure.axes:
        if not ax.get_visible():
            continue
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert lines["2026 law"].get_zorder() > max(line.get_zorder() for name, line in lines.items()
                                                    if name != "2026 law")
        assert ax.get_xlabel().startswith("calendar month")
        figure.canvas.draw()
        ticks = [label.get_text() for label in ax.get_xticklabels() if label.get_text()]
        assert ticks and all(re.search(r"20\d\d|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec", t) for t in ticks)


def drawn_texts(figure) -> list[Text]:
    """Every text matplotlib draws on the figure: titles, axis labels, tick labels in view,
    offset texts, legend entries."""
    figure.canvas.draw()
    texts: list[Text] = [t for t in figure.texts if t.get_text()]  # suptitle, figure legends are below
    for legend in figure.legends:
        texts += list(legend.get_texts())
    for ax in figure.axes:
        if not ax.get_visible():
            continue
        texts += [t for t in (ax.title, ax.xaxis.label, ax.yaxis.label) if t.get_text()]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick, location in zip(axis.get_major_ticks(), axis.get_majorticklocs(), strict=False):
                if low - 1e-9 * abs(high - low) <= location <= high + 1e-9 * abs(high - low) and tick.label1.get_text():
                    texts.append(tick.label1)
            if axis.get_offset_text().get_text():
                texts.append(axis.get_offset_text())
    return texts


def assert_no_text_collides(figure) -> None:
    renderer = figure.canvas.get_renderer()
    boxes = [(text.get_text(), text.get_window_extent(renderer).shrunk(0.98, 0.9)) for text in drawn_texts(figure)]
    width, height = figure.canvas.get_width_height()
    for text, box in boxes:
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, f"{text!r} is cut off"
    clashes = [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]
    assert not clashes, f"labels overlap: {clashes[:5]}"


def test_no_label_of_the_differences_figure_collides(batch, tmp_path):
    manifest, runs, _ = read_batch(batch)
    runs = with_display_names(runs, manifest)
    differences = paired_differences(runs, "law_2026", None, OUTCOMES)
    assert_no_text_collides(_difference_bars(differences, OUTCOMES, "2026 law", tmp_path / "differences.png"))


def test_no_label_of_a_money_difference_collides_even_for_large_uneven_values(tmp_path):
    # the money panels whose tick labels used to collide: wide "-$185.70m"-style labels on both sides of 0
    rows = []
    for outcome, scale in (("total_fdi_inflow_usd", 1.5e8), ("total_capital_flight_usd", 3e7),
                           ("total_current_account_usd", 1.2e9)):
        for label, sign in (("Kazakhstan package", 0.4), ("Legal tender + bonus", 1.0), ("Full ban", -1.2)):
            mean = sign * scale
            rows.append({"label": label, "outcome": outcome, "mean": mean, "low": mean - 0.3 * scale,
                         "high": mean + 0.3 * scale, "sd": 0.1 * scale, "n": 30, "method": "t", "reference": "2026 law"})
    differences = pd.DataFrame(rows)
    outcomes = tuple(differences["outcome"].unique())
    assert_no_text_collides(_difference_bars(differences, outcomes, "2026 law", tmp_path / "d.png"))


def test_no_label_of_a_fan_chart_collides(batch, tmp_path):
    manifest, _, timeseries = read_batch(batch)
    timeseries = with_display_names(timeseries, manifest)
    for name, panels in FAN_PANELS.items():
        assert_no_text_collides(_fan_chart(timeseries, panels, tmp_path / f"{name}.png", name,
                                           frozenset({"2026 law"})))


def test_effect_distributions_are_the_paired_differences(batch):
    manifest, runs, _ = read_batch(batch)
    found = effect_distributions(runs, "law_2026", None, ("total_fdi_inflow_usd",)).set_index("label")
    ban = runs[runs["arm"] == "full_ban"].set_index("replicate")["total_fdi_inflow_usd"]
    law = runs[runs["arm"] == "law_2026"].set_index("replicate")["total_fdi_inflow_usd"]
    difference = (ban - law).to_numpy()
    row = found.loc["full_ban"]
    assert row["median"] == pytest.approx(np.median(difference))
    assert row["low"] == pytest.approx(np.quantile(difference, 0.05))
    assert row["above_zero"] == pytest.approx((difference > 0).mean())
