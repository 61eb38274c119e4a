"""The browser app at widget level: the comparison behind it, and its components rendered with
``solara.render`` and driven by their widgets, without a browser or a server.

Needs the ``viz`` extra; without it these tests are skipped, unless CRYPTOABM_REQUIRE_BROWSER=1
(as in CI), which makes a missing extra a failure.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

if os.environ.get("CRYPTOABM_REQUIRE_BROWSER") != "1":
    pytest.importorskip("solara", reason="the browser app's optional extra (cryptoabm[viz]) is not installed")
    pytest.importorskip("altair", reason="the browser app's optional extra (cryptoabm[viz]) is not installed")

import ipyvuetify as vw
import solara
import solara.routing

from cryptoabm.model import CryptoEconomy
from cryptoabm.viz import layout, offline, server
from cryptoabm.viz.app import Page
from cryptoabm.viz.charts import CHARTS, DIFFERENCE, PAIR, chart_values
from cryptoabm.viz.compare import (
    RUN_A,
    RUN_B,
    Comparison,
    ComparisonRequest,
    build_comparison,
    policy_package,
    request_from_query,
    with_policy,
)
from cryptoabm.viz.headline import FIGURES, headline_figures
from cryptoabm.viz.levers import LEVERS
from cryptoabm.viz.live_chart import LiveChart
from cryptoabm.viz.network_view import (
    A_AHEAD,
    B_AHEAD,
    SAME_NONE,
    SHOW_DIFFERENCE,
    NetworkView,
    citizen_rows,
    difference_codes,
    draws_network,
    group_rows,
    network_view_spec,
    shows_ego_networks,
    wallet_codes,
)
from cryptoabm.viz.app import DEFAULT_B_PACKAGE
from cryptoabm.viz.compare import comparison_sentence
from cryptoabm.viz.levers import CITIZENS_MAX, CITIZENS_MIN
from cryptoabm.viz.presets import CONFIGS_ENV, policy_packages, presets
from tests.conftest import CONFIGS, scenario

COUNTRY, OTHER_POLICY = "turkmenistan_2026", "el_salvador_bitcoin_law"
OTHER_PRESET = "el_salvador_2021"  # the preset whose package is OTHER_POLICY
SMALL = 300  # citizens: quick, and drawn one by one


def scenarios():
    return {name: preset.scenario for name, preset in presets().items()}


def comparison(policy: str = OTHER_POLICY, citizens: int = SMALL, months: int = 0, **levers) -> Comparison:
    built = build_comparison(ComparisonRequest(COUNTRY, policy, levers, citizens, None), presets())
    for _ in range(months):
        built.step()
    return built


# -- helpers for the rendered page ---------------------------------------------------------------
class Browser:
    """The page rendered at an address, as a tab would show it; ``address`` follows Reset."""

    def __init__(self, query: str):
        holder = {}

        @solara.component
        def Routed():
            location = solara.use_reactive(f"/?{query}")
            holder["location"] = location
            solara.routing.router_context.provide(solara.routing.Router(location.value, [], location.set))
            return Page()

        _, self.rc = solara.render(Routed(), handle_error=False)
        self._location = holder["location"]

    @property
    def address(self) -> str:
        return self._location.value

    def button(self, label: str) -> vw.Btn:
        return self.rc.find(vw.Btn, children=[label]).widget

    def click(self, label: str, times: int = 1) -> None:
        for _ in range(times):
            self.button(label).click()

    def text_field(self, label_start: str) -> vw.TextField:
        found = [w for w in self.rc.find(vw.TextField).widgets if (w.label or "").startswith(label_start)]
        assert len(found) == 1, f"expected one text field labelled {label_start!r}"
        return found[0]

    def type_into(self, label_start: str, text: str) -> vw.TextField:
        """What typing and pressing Enter does: set the text, then the commit event."""
        field = self.text_field(label_start)
        field.v_model = text
        field.fire_event("keyup.enter", None)
        return self.text_field(label_start)

    def headline(self) -> dict[str, str]:
        """Every figure and setting in the headline, by test id (text)."""
        pairs = re.findall(r'data-testid="([\w-]+)"(?: data-value="[^"]*")?>([^<]*)<', self._headline_html())
        return {key: html.unescape(value) for key, value in pairs}

    def numbers(self) -> dict[str, float]:
        """The headline's exact numbers (data-value), by test id."""
        return {key: float(value) for key, value in re.findall(r'data-testid="([\w-]+)" data-value="([^"]*)"',
                                                               self._headline_html())}

    def _headline_html(self) -> str:
        found = [w for w in self.rc.find(solara.widgets.HTML).widgets if (w.attributes or {}).get("data-testid") == "headline"]
        assert len(found) == 1
        return found[0].unsafe_innerHTML

    def charts(self) -> dict[str, LiveChart]:
        return {w.spec["title"]["text"]: w for w in self.rc.find(LiveChart).widgets}


# -- the comparison ------------------------------------------------------------------------------
def test_a_policy_package_is_a_presets_policy_and_measures_and_nothing_else():
    available = scenarios()
    country, other = available[COUNTRY], available[OTHER_PRESET]
    same = with_policy(country, policy_package(country))
    assert same == country  # a preset under its own package is itself
    moved = with_policy(country, policy_package(other))
    assert moved.policy == other.policy and moved.events == other.events
    assert moved.model_dump(exclude={"policy", "events"}) == country.model_dump(exclude={"policy", "events"})
    # the world's events stay A's: Kazakhstan's relocation wave and internet shutdown are not its policy,
    # nor is its state capacity (the pursuit of illegal sites from Feb 2022)
    kazakhstan = available["kazakhstan_2021"]
    under_law = with_policy(kazakhstan, policy_package(country))
    assert [e.kind for e in under_law.events] == ["relocation_wave", "internet_shutdown", "state_capacity"]
    assert under_law.state_capacity == kazakhstan.state_capacity
    turkmenistan_under_kazakh_record = with_policy(country, policy_package(kazakhstan))
    assert {e.kind for e in turkmenistan_under_kazakh_record.events} == {"policy", "mining_power_cut"}


def test_a_and_b_share_the_world_and_differ_by_the_policy():
    pair = comparison(months=12)
    a, b = pair.rows[RUN_A], pair.rows[RUN_B]
    assert [row["btc_price_usd"] for row in a] == [row["btc_price_usd"] for row in b]  # the same price path
    assert (pair.a.population.adjacency != pair.b.population.adjacency).nnz == 0  # the same network
    assert np.array_equal(pair.a.population.income_usd_per_month, pair.b.population.income_usd_per_month)
    assert pair.a.seed == pair.b.seed
    assert {row["payment_regime"] for row in a} == {"ban"} and {row["payment_regime"] for row in b} == {"legal_tender"}
    assert [row["wallet_share"] for row in a] != [row["wallet_share"] for row in b]


def test_b_under_its_own_policy_is_a_exactly():
    pair = comparison(policy="turkmenistan_2026_law", months=6)
    assert pd.DataFrame(pair.rows[RUN_A]).equals(pd.DataFrame(pair.rows[RUN_B]))  # NaN where NaN


def test_each_run_is_what_a_direct_model_run_gives():
    pair = comparison(months=8)
    available = scenarios()
    direct_b = CryptoEconomy(with_policy(available[COUNTRY], policy_package(available[OTHER_PRESET]),
                                         {"population.citizens": SMALL}), seed=available[COUNTRY].seed).run(8)
    assert [row["state_revenue_usd"] for row in pair.rows[RUN_B]] == direct_b["state_revenue_usd"].tolist()
    assert [row["wallet_share"] for row in pair.rows[RUN_B]] == direct_b["wallet_share"].tolist()


def test_the_difference_view_is_b_minus_a_month_by_month():
    pair = comparison(months=5)
    for spec in CHARTS:
        difference = chart_values(spec, pair, DIFFERENCE)
        assert [row["month"] for row in difference] == [1, 2, 3, 4, 5]
        for row, a, b in zip(difference, pair.rows[RUN_A], pair.rows[RUN_B], strict=True):
            for column in spec.columns:
                assert row[column] == pytest.approx(b[column] - a[column], abs=0), (spec.title, column)


def test_chart_rows_grow_by_the_new_months_only():
    pair = comparison(months=2)
    first = chart_values(CHARTS[0], pair, PAIR)
    pair.step()
    second = chart_values(CHARTS[0], pair, PAIR)
    assert second[:len(first)] == first and len(second) == len(first) + 2  # A and B of month 3 added
    assert [row["run"] for row in second[-2:]] == [RUN_A, RUN_B]


def test_headline_figures_are_a_b_and_their_difference():
    pair = comparison(months=6)
    figures = headline_figures(pair)
    assert {figure.key for figure in FIGURES} == {"wallets", "hashrate", "revenue", "fdi"}
    assert {"national-gain", "fiscal-net"} <= set(figures)  # every run's table has the accounts' columns
    revenue_a = sum(row["state_revenue_usd"] for row in pair.rows[RUN_A])
    assert figures["revenue"][0] == revenue_a
    for a, b, difference in figures.values():
        assert difference == b - a


def parse_address(query: str):
    return request_from_query(query, presets(), set(policy_packages()), COUNTRY, DEFAULT_B_PACKAGE)


@pytest.mark.parametrize("request_", [
    ComparisonRequest(COUNTRY, OTHER_POLICY),
    ComparisonRequest("baseline", "", {"license_cap": "3", "payment_regime": "ban"}, 700, 42),
    ComparisonRequest(COUNTRY, "turkmenistan_2026_law", {"crypto_outflow_limit_usd_per_month": "none"}, 100, 0),
])
def test_a_comparison_round_trips_through_its_address(request_):
    back, problems = parse_address(request_.to_query())
    assert problems == [] and back == request_


def test_an_empty_address_opens_the_law_against_another_package_and_old_links_still_work():
    opened, problems = parse_address("")
    assert problems == [] and opened == ComparisonRequest(COUNTRY, DEFAULT_B_PACKAGE)
    assert DEFAULT_B_PACKAGE != presets()[COUNTRY].package
    itself, _ = parse_address(f"preset={COUNTRY}")  # a preset named alone: against itself
    assert itself.policy == presets()[COUNTRY].package
    old, problems = parse_address(f"preset={COUNTRY}&policy={OTHER_PRESET}")  # a preset as B's source
    assert problems == [] and old.policy == OTHER_POLICY


def test_a_bad_address_is_reported_and_falls_back():
    back, problems = parse_address("preset=atlantis&b.license_cap=-3&b.warp=9&citizens=lots&seed=x")
    assert back == ComparisonRequest(COUNTRY, presets()[COUNTRY].package)
    text = " | ".join(problems)
    for words in ("no preset named 'atlantis'", "must be at least 0", "no lever named 'warp'",
                  f"citizens must be a whole number from {CITIZENS_MIN:,} to {CITIZENS_MAX:,}",
                  "seed must be a whole number"):
        assert words in text


def test_names_come_from_the_files_own_descriptions():
    law = presets()[COUNTRY]
    assert (law.country_title, law.package_title) == ("Turkmenistan (2026)", "Law No. 298")
    assert law.title == "Turkmenistan (2026): Law No. 298"
    packages = policy_packages()
    assert packages["dubai_vara"].title == "VARA licensing"
    assert "turkmenistan_2026_law" in packages and "full_ban" in packages
    for package in packages.values():  # each describes the policy, not a country's story
        assert package.description and package.title
    request = ComparisonRequest(COUNTRY, "dubai_vara", {}, 2_000, None)
    assert comparison_sentence(request, presets(), packages, 1) == (
        "Turkmenistan (2026): Law No. 298 (A) against VARA licensing (B), seed 1, 2,000 citizens.")


# -- the network -------------------------------------------------------------------------------
def test_a_networks_layout_and_communities_are_computed_once_and_reused():
    first = comparison(policy="turkmenistan_2026_law").a.population.adjacency
    again = comparison(policy="turkmenistan_2026_law").b.population.adjacency
    drawing = layout.network_drawing(first)
    assert layout.is_cached(again) and layout.network_drawing(again) is drawing
    assert (layout.force_layout(first, seed=layout.LAYOUT_SEED) == drawing.positions).all()  # seeded
    groups = layout.communities(first)
    assert layout.communities(again) is groups
    sizes = np.bincount(groups)
    assert (np.diff(sizes) <= 0).all() and sizes.sum() == SMALL  # numbered from the largest


def test_the_network_colours_where_a_and_b_differ():
    pair = comparison(months=6)
    codes = difference_codes(pair.a.population, pair.b.population)
    state_a, state_b = wallet_codes(pair.a.population), wallet_codes(pair.b.population)
    assert ((codes == 2) == (state_b > state_a)).all() and ((codes == 3) == (state_a > state_b)).all()
    rows = [row for row in citizen_rows(pair, SHOW_DIFFERENCE, ego=False) if row["kind"] == "citizen"]
    assert len(rows) == SMALL
    assert sum(row["category"] == B_AHEAD for row in rows) == int((state_b > state_a).sum()) > 0
    assert sum(row["category"] == A_AHEAD for row in rows) == int((state_a > state_b).sum())
    adopters = [i for i, row in enumerate(rows) if row["state_a"] != "No wallet" or row["state_b"] != "No wallet"]
    households = [i for i, row in enumerate(rows) if row["category"] == SAME_NONE and not row["merchant"]]
    assert max(households) < min(adopters)  # adopters drawn after (on top of) the rest
    assert all(row["size"] > min(r["size"] for r in rows) for i, row in enumerate(rows) if i in adopters)


def test_at_low_adoption_only_the_adopters_contacts_are_drawn():
    pair = comparison(months=3)  # the payment ban against legal tender with a bonus: little adoption
    assert shows_ego_networks(pair)
    rows = citizen_rows(pair, SHOW_DIFFERENCE, ego=True)
    holding = pair.a.population.has_wallet | pair.b.population.has_wallet
    edges = [row for row in rows if row["kind"] == "edge"]
    contacts_of_adopters = sum(int(pair.a.population.degree[i]) for i in np.flatnonzero(holding))
    assert 0 < len(edges) <= contacts_of_adopters
    spec, _ = network_view_spec(pair, SHOW_DIFFERENCE)
    assert "adopters' contacts" in " ".join(spec["title"]["subtitle"])


def test_large_populations_show_communities_coloured_by_the_adopting_share():
    pair = comparison(citizens=layout.MAX_DRAWN_CITIZENS + 500, months=3)
    assert not draws_network(pair.a.population)
    spec, rows = network_view_spec(pair, SHOW_DIFFERENCE)
    assert spec["title"]["text"] == "Citizens by community (aggregate view)"
    assert sum(row["citizens"] for row in rows) == pair.a.population.size
    assert len(rows) <= layout.MAX_COMMUNITIES
    held = sum(row["share_b"] * row["citizens"] for row in rows)
    assert held == pytest.approx(pair.b.population.has_wallet.sum())
    assert spec["encoding"]["color"]["legend"]["title"] == ["B - A: share", "holding a wallet"]
    spec_a, _ = network_view_spec(pair, "A")
    assert spec_a["encoding"]["color"]["field"] == "share_a"


def test_a_well_mixed_population_is_shown_by_income_decile():
    model_scenario = scenario(**{"population.network": "well_mixed", "population.citizens": 200})
    pair = Comparison(model_scenario, model_scenario, seed=3)
    rows = group_rows(pair)
    assert len(rows) == 10 and sum(row["citizens"] for row in rows) == 200


def test_the_network_component_renders_both_views():
    pair = comparison(months=2)
    _, rc = solara.render(NetworkView(pair, 0), handle_error=False)
    chart = rc.find(LiveChart).widget
    assert chart.spec["title"]["text"] == "Citizens' network"
    assert sum(row["kind"] == "citizen" for row in chart.values) == SMALL
    rc.find(vw.BtnToggle).widget.v_model = 1  # "A"
    assert rc.find(LiveChart).widget.spec["layer"][1]["encoding"]["color"]["legend"]["title"] == "Run A"


# -- the page ----------------------------------------------------------------------------------
def test_the_page_opens_the_comparison_its_address_names():
    tab = Browser(f"preset={COUNTRY}&policy={OTHER_POLICY}&citizens={SMALL}")
    shown = tab.headline()
    assert shown["month"] == "0 of 60" and shown["citizens"] == f"{SMALL}"
    assert (shown["in-force-a-regime"], shown["in-force-b-regime"]) == ("ban", "legal_tender")
    assert set(tab.charts()) >= {spec.title for spec in CHARTS} | {"Citizens' network"}
    for label in ("Step", "Play", "Reset"):
        tab.button(label)
    assert not [w for w in tab.rc.find(vw.Checkbox).widgets if "Thread" in (w.label or "")]  # no Mesa extras


def test_every_control_is_explained():
    tab = Browser(f"preset={COUNTRY}&citizens={SMALL}")
    tooltips = [w for w in tab.rc.find(vw.Tooltip).widgets]
    assert all(lever.help for lever in LEVERS)
    assert len(tooltips) >= len(LEVERS) + 1 + 2  # every lever, the seed, both preset pickers


def test_step_advances_both_runs_and_every_chart():
    tab = Browser(f"preset={COUNTRY}&policy={OTHER_POLICY}&citizens={SMALL}")
    tab.click("Step", 3)
    assert tab.headline()["month"] == "3 of 60" and tab.headline()["date"] == "2026-03"
    for spec in CHARTS:
        values = tab.charts()[spec.title].values
        assert [(row["month"], row["run"]) for row in values] == [(m, r) for m in (1, 2, 3) for r in (RUN_A, RUN_B)]
    numbers = tab.numbers()
    assert numbers["headline-wallets-diff"] == numbers["headline-wallets-b"] - numbers["headline-wallets-a"]


def test_an_invalid_value_keeps_the_run_and_disables_reset_until_fixed():
    tab = Browser(f"preset={COUNTRY}&citizens={SMALL}")
    tab.click("Step", 2)
    before = tab.headline()
    field = tab.type_into("Licence cap", "-3")
    assert field.error and any("must be at least 0" in message for message in field.messages)
    assert tab.button("Reset").disabled
    assert tab.headline() == before  # the run and the settings in force as they were
    tab.click("Step")
    assert tab.headline()["month"] == "3 of 60" and tab.headline()["in-force-b-licence-cap"] == "20"
    field = tab.type_into("Licence cap", "4")
    assert not field.error and not tab.button("Reset").disabled
    tab.click("Reset")
    shown = tab.headline()
    assert shown["month"] == "0 of 60" and shown["in-force-b-licence-cap"] == "4"
    assert shown["in-force-a-licence-cap"] == "20"
    assert "b.license_cap=4" in tab.address  # the address names the comparison now in effect
    tab.click("Step")
    assert tab.headline()["month"] == "1 of 60"


def test_reset_with_unchanged_values_starts_again():
    tab = Browser(f"preset={COUNTRY}&citizens={SMALL}")
    tab.click("Step", 2)
    tab.click("Reset")
    assert tab.headline()["month"] == "0 of 60"


def test_picking_b_s_policy_loads_its_levers_and_a_fresh_pair():
    tab = Browser(f"preset={COUNTRY}&citizens={SMALL}")
    tab.click("Step")
    picker = [w for w in tab.rc.find(vw.Select).widgets if w.label == "B: policy package"][0]
    picker.v_model = OTHER_POLICY
    assert f"policy={OTHER_POLICY}" in tab.address
    shown = tab.headline()
    assert shown["month"] == "0 of 60" and shown["in-force-b-regime"] == "legal_tender"
    assert tab.text_field("Licence cap").v_model == "none"
    regime = [w for w in tab.rc.find(vw.Select).widgets if w.label == "Payment regime"][0]
    assert regime.v_model == "legal_tender"


def pending(tab: Browser) -> bool:
    return any((w.attributes or {}).get("data-testid") == "pending" for w in tab.rc.find(solara.widgets.HTML).widgets)


def test_an_edit_is_pending_until_reset_and_the_header_says_what_runs():
    tab = Browser(f"preset={COUNTRY}&policy=dubai_vara&citizens={SMALL}")
    assert tab.headline()["header"] == f"Turkmenistan (2026): Law No. 298 (A) against VARA licensing (B), seed 1, {SMALL} citizens."
    assert not pending(tab)
    tab.type_into("Licence cap", "7")
    assert pending(tab)
    tab.type_into("Licence cap", "none")  # back to the package's value: nothing pending
    assert not pending(tab)
    tab.type_into("Licence cap", "7")
    tab.click("Reset")
    assert not pending(tab) and tab.headline()["in-force-b-licence-cap"] == "7"
    assert "VARA licensing with levers changed (B)" in tab.headline()["header"]


def test_a_package_that_cannot_run_falls_back_and_the_panel_shows_the_fallback():
    # El Salvador's package makes acceptance voluntary in month 42, after the CAR preset's 36 months
    tab = Browser(f"preset=car_2022&policy={OTHER_POLICY}&citizens={SMALL}")
    shown = tab.headline()
    assert "Bitcoin legal tender without a bonus (A) against Bitcoin legal tender without a bonus (B)" in shown["header"]
    picker = [w for w in tab.rc.find(vw.Select).widgets if w.label == "B: policy package"][0]
    assert picker.v_model == presets()["car_2022"].package  # the picker shows what runs
    notices = [w for w in tab.rc.find(vw.Alert).widgets]
    assert any("B cannot run The Bitcoin Law on this economy" in str(w.children) for w in notices)
    assert not pending(tab)


def test_a_bonus_without_a_budget_is_flagged():
    tab = Browser(f"preset={COUNTRY}&citizens={SMALL}")
    warned = lambda: any("zero budget pays nothing" in str(w.children)  # noqa: E731
                         for w in tab.rc.find(vw.Alert).widgets)
    assert not warned()
    slider = [w for w in tab.rc.find(vw.Slider).widgets if w.label.startswith("Wallet bonus")][0]
    slider.v_model = 15.0
    assert warned()


def test_every_card_has_a_definition_and_the_accounts_show_when_the_table_has_them():
    from cryptoabm.viz.charts import ACCOUNTS, charts_for
    from cryptoabm.viz.headline import ACCOUNT_FIGURES, figures_for

    basic = ["wallet_share", "hashrate_ehs", "state_revenue_usd", "fdi_inflow_usd"]
    assert [figure.key for figure in figures_for(basic)] == [figure.key for figure in FIGURES]
    stub = basic + [figure.column for figure in ACCOUNT_FIGURES]  # a table with the accounts' columns
    assert [figure.key for figure in figures_for(stub)][-4:] == [figure.key for figure in ACCOUNT_FIGURES]
    assert ACCOUNTS in charts_for(stub) and ACCOUNTS not in charts_for(basic)
    for figure in (*FIGURES, *ACCOUNT_FIGURES):
        assert "B - A" in figure.definition and "USD" in figure.definition or figure.unit != "USD"
    rows = [{figure.column: 2.0 for figure in ACCOUNT_FIGURES}, {figure.column: 3.0 for figure in ACCOUNT_FIGURES}]
    assert all(figure.read(rows) == 5.0 for figure in ACCOUNT_FIGURES)  # summed to date


def test_event_markers_are_the_runs_events_and_the_halvings():
    from cryptoabm.viz.charts import chart_spec, comparison_markers

    pair = build_comparison(ComparisonRequest(COUNTRY, "kazakhstan_2021_record", {}, SMALL, None), presets())
    markers = comparison_markers(pair)
    halving = presets()[COUNTRY].scenario.market.months_to_next_halving
    assert (halving, "halving") in {(m.month, m.label) for m in markers}
    b_only = [event.month for event in pair.b.config.events if event not in pair.a.config.events]
    assert b_only and set(b_only) <= {m.month for m in markers if m.label.startswith("B: ")}
    spec = chart_spec(CHARTS[1], pair.months, PAIR, pair.labels, False, markers)
    ruled = [layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "rule"]
    assert sorted(row["month"] for row in ruled[0]["data"]["values"]) == sorted(m.month for m in markers)


def test_the_over_seeds_summary_is_the_median_of_paired_runs():
    from cryptoabm.viz.seeds import SeedsRun, paired_differences, seeds_for

    pair = comparison()
    figures = FIGURES[:3]
    seeds = seeds_for(5, 3)
    run = SeedsRun(pair.a.config, pair.b.config, seeds, figures)

    class Here:  # runs each seed at once, in this process
        def submit(self, fn, *args):
            from concurrent.futures import Future
            future = Future()
            future.set_result(fn(*args))
            return future

    run.start(executor=Here())
    assert run.complete and seeds == [5, 6, 7]
    summary = run.summary()
    direct = []
    for seed in seeds:
        a = CryptoEconomy(pair.a.config, seed=seed).run()
        b = CryptoEconomy(pair.b.config, seed=seed).run()
        direct.append(float(b["state_revenue_usd"].sum() - a["state_revenue_usd"].sum()))
    assert summary["revenue"]["median"][-1] == pytest.approx(float(np.median(direct)), rel=1e-12)
    assert summary["revenue"]["p_b_above_a"] == np.mean(np.array(direct) > 0)
    one = paired_differences(pair.a.config.model_dump(mode="json"), pair.b.config.model_dump(mode="json"), 5,
                             ("wallets",))
    assert len(one["wallets"]) == pair.months


def test_the_difference_colour_scale_is_symmetric_around_zero():
    from cryptoabm.viz.network_view import difference_extent

    pair = comparison(citizens=layout.MAX_DRAWN_CITIZENS + 500, months=6)
    spec, rows = network_view_spec(pair, SHOW_DIFFERENCE)
    low, high = spec["encoding"]["color"]["scale"]["domain"]
    assert low == -high and high == difference_extent(rows) >= max(abs(row["difference"]) for row in rows)


def test_each_session_has_its_own_runs():
    first, second = Browser(f"preset={COUNTRY}&citizens={SMALL}"), Browser(f"preset={COUNTRY}&citizens={SMALL}")
    first.click("Step", 2)
    assert (first.headline()["month"], second.headline()["month"]) == ("2 of 60", "0 of 60")
    second.type_into("Licence cap", "7")
    second.click("Reset")
    assert first.headline()["in-force-b-licence-cap"] == "20" and second.headline()["in-force-b-licence-cap"] == "7"


# -- serving -------------------------------------------------------------------------------------
def test_the_shipped_assets_cover_what_the_page_loads(tmp_path):
    folder = offline.build_asset_folder(tmp_path / "cdn", offline.shipped_assets_dir())
    assert offline.missing_assets(folder) == []
    assert (folder / f"vega-lite@{offline.VEGA_LITE_VERSION}").is_dir()  # the version charts declare


def test_serve_refuses_bad_input_before_starting(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(CONFIGS_ENV, str(CONFIGS))  # serve() points the app at --configs; undone after the test
    assert server.serve("127.0.0.1", 70_000) == server.EXIT_BAD_INPUT
    assert server.serve("127.0.0.1", 0, configs=tmp_path) == server.EXIT_BAD_INPUT
    assert "no scenario presets" in capsys.readouterr().err
    monkeypatch.setenv(CONFIGS_ENV, str(CONFIGS))
    assert server.serve("127.0.0.1", 0, configs=CONFIGS, results=tmp_path) == server.EXIT_BAD_INPUT
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "holds no batch" in error


def test_every_presets_values_sit_on_their_sliders():
    # a slider snaps its value to min + k x step: a preset's value off that grid would be
    # shown, and put into effect on Reset, as something else
    for name, preset in presets().items():
        for lever in LEVERS:
            if lever.control not in ("SliderFloat", "SliderInt"):
                continue
            value = lever.read(preset.scenario)
            entry = lever.model_param(value)
            steps = (value - entry["min"]) / entry["step"]
            assert entry["min"] <= value <= entry["max"], (name, lever.name, entry)
            assert steps == pytest.approx(round(steps)), (name, lever.name, entry)


def test_a_process_that_rendered_the_page_exits_when_its_work_is_done():
    """The seeds view's watcher (a Solara task thread, not a daemon) must not keep the interpreter
    alive: a script that renders the page and returns ends, as a test session or a notebook does."""
    script = ("import solara, threading\n"
              "from cryptoabm.viz.app import Page\n"
              "solara.render(Page(), handle_error=False)\n"
              "assert any(t.name.startswith('Thread') and not t.daemon for t in threading.enumerate())\n"
              "print('rendered')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "rendered" in done.stdout, done.stderr[-2000:]
