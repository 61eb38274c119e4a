"""The browser app at widget level: rendered with ``solara.render`` (as Mesa tests SolaraViz),
driven by clicking its widgets, without a browser or a server.

Needs the ``viz`` extra; without it these tests are skipped, unless CRYPTOABM_REQUIRE_BROWSER=1
(as in CI), which makes a missing extra a failure.
"""

from __future__ import annotations

import html
import inspect
import os
import re

import pytest

if os.environ.get("CRYPTOABM_REQUIRE_BROWSER") != "1":
    pytest.importorskip("solara", reason="the browser app's optional extra (cryptoabm[viz]) is not installed")
    pytest.importorskip("altair", reason="the browser app's optional extra (cryptoabm[viz]) is not installed")

import ipyvuetify as vw
import solara
from mesa.visualization.solara_viz import _check_model_params

from cryptoabm.model import CryptoEconomy
from cryptoabm.viz import layout, offline, server
from cryptoabm.viz.app import Page
from cryptoabm.viz.charts import CHARTS
from cryptoabm.viz.economy import VizEconomy
from cryptoabm.viz.levers import DEFAULT_CITIZENS, LEVERS, SEED_PARAM, lever_values, model_params
from cryptoabm.viz.network_view import (
    MERCHANT,
    WAFFLE_CELLS,
    NetworkView,
    citizen_table,
    draws_network,
    state_counts,
)
from cryptoabm.viz.presets import CONFIGS_ENV, presets
from tests.conftest import CONFIGS, scenario

BRIEF_LEVERS = {"payment_regime", "license_cap", "wallet_bonus_usd", "miner_tariff_usd_per_kwh",
                "surcharge_usd_per_kwh", "domestic_sale_share", "crypto_outflow_limit_usd_per_month",
                "information_control", "enforcement_detection_probability", "citizens"}


# -- helpers ----------------------------------------------------------------------------------
def render_page():
    """The page as the server shows it (it brings its own AppLayout, which hosts the side panel)."""
    _, rc = solara.render(Page(), handle_error=False)
    return rc


def button(rc, label: str) -> vw.Btn:
    return rc.find(vw.Btn, children=[label]).widget


def text_field(rc, label_start: str) -> vw.TextField:
    fields = [w for w in rc.find(vw.TextField).widgets if (w.label or "").startswith(label_start)]
    assert len(fields) == 1, f"expected one text field labelled {label_start!r}"
    return fields[0]


def slider(rc, label_start: str) -> vw.Slider:
    found = [w for w in rc.find(vw.Slider).widgets if (w.label or "").startswith(label_start)]
    assert len(found) == 1, f"expected one slider labelled {label_start!r}"
    return found[0]


def type_into(field: vw.TextField, text: str) -> None:
    """What typing and pressing Enter does: set the text, then the commit event."""
    field.v_model = text
    field.fire_event("keyup.enter", None)


def headline(rc) -> dict[str, str]:
    """The headline numbers and settings in force, by test id."""
    htmls = [w for w in rc.find(solara.widgets.HTML).widgets if (w.attributes or {}).get("data-testid") == "headline"]
    assert len(htmls) == 1
    pairs = re.findall(r'data-testid="([\w-]+)">([^<]*)<', htmls[0].unsafe_innerHTML)
    return {key: html.unescape(value) for key, value in pairs}


def chart_specs(rc) -> dict[str, dict]:
    """Every Vega-Lite chart on the page, by title."""
    specs = {}
    for widget in rc.find(solara.widgets.VegaLite).widgets:
        title = widget.spec["title"]
        specs[title["text"] if isinstance(title, dict) else title] = widget.spec
    return specs


def rows(spec: dict) -> list[dict]:
    return [row for dataset in spec.get("datasets", {}).values() for row in dataset]


# -- the model behind the controls ---------------------------------------------------------------
def test_the_controls_are_the_model_keywords_and_cover_the_levers():
    keywords = set(inspect.signature(VizEconomy.__init__).parameters) - {"self"}
    assert keywords == {"preset", SEED_PARAM, *(lever.name for lever in LEVERS)}
    assert BRIEF_LEVERS <= {lever.name for lever in LEVERS}
    for name, preset in presets().items():  # what SolaraViz checks before it builds a model
        _check_model_params(VizEconomy.__init__, model_params(name, preset.scenario, preset.scenario.seed))


def test_every_presets_values_sit_on_their_sliders():
    # a slider snaps its value to min + k x step: a preset's value off that grid would be
    # shown, and sent back on Reset, as something else
    for name, preset in presets().items():
        for param in model_params(name, preset.scenario, preset.scenario.seed).values():
            if isinstance(param, dict) and param["type"] in ("SliderFloat", "SliderInt"):
                steps = (param["value"] - param["min"]) / param["step"]
                assert param["min"] <= param["value"] <= param["max"], (name, param)
                assert steps == pytest.approx(round(steps)), (name, param)


@pytest.mark.parametrize("name", sorted(presets()))
def test_a_presets_control_values_rebuild_that_preset(name):
    preset = presets()[name]
    model = VizEconomy(preset=name, **lever_values(preset.scenario), seed=str(preset.scenario.seed))
    assert model.input_errors == ()
    assert model.config.policy == preset.scenario.policy
    assert model.population.size == DEFAULT_CITIZENS and model.seed == preset.scenario.seed


def test_levers_and_seed_reach_the_model():
    model = VizEconomy(preset="baseline", license_cap="3", payment_regime="ban", miner_tariff_usd_per_kwh=0.07,
                       crypto_outflow_limit_usd_per_month="250", citizens=300, seed="42")
    policy = model.state.policy
    assert (policy.license_cap, policy.payment_regime, policy.miner_tariff_usd_per_kwh) == (3, "ban", 0.07)
    assert policy.crypto_outflow_limit_usd_per_month == 250.0
    assert model.population.size == 300 and model.seed == 42
    assert VizEconomy(preset="turkmenistan_2026", license_cap="none").state.policy.license_cap is None


@pytest.mark.parametrize(("keywords", "message"), [
    ({"seed": "abc"}, "Seed: must be a whole number (got 'abc')"),
    ({"seed": "-1"}, "Seed: must be between 0"),
    ({"license_cap": "2.5"}, 'must be a whole number or "none"'),
    ({"license_cap": "-3"}, "must be at least 0"),
    ({"crypto_outflow_limit_usd_per_month": "lots"}, 'must be a number or "none"'),
    ({"payment_regime": "barter"}, "must be one of ban, voluntary"),
    ({"information_control": 1.5}, "must be at most 1"),  # the lever's bound
    ({"preset": "atlantis"}, "no preset named 'atlantis'"),
])
def test_invalid_input_is_reported_and_nothing_runs(keywords, message):
    model = VizEconomy(**keywords)
    assert any(message in error for error in model.input_errors), model.input_errors
    assert not model.running
    model.step()
    assert model.month == 0


# -- the network -------------------------------------------------------------------------------
def test_a_networks_layout_is_seeded_computed_once_and_reused():
    first = VizEconomy(preset="baseline", citizens=200, seed="5").population.adjacency
    again = VizEconomy(preset="baseline", citizens=200, seed="5").population.adjacency
    other = VizEconomy(preset="baseline", citizens=200, seed="6").population.adjacency
    drawing = layout.network_drawing(first)
    assert layout.is_cached(again) and layout.network_drawing(again) is drawing  # the same network: cached
    assert layout.fingerprint(other) != layout.fingerprint(first)
    fresh = layout.force_layout(first, seed=layout.LAYOUT_SEED)
    assert (fresh == drawing.positions).all()  # seeded: recomputing gives the same picture
    assert drawing.positions.min() >= 0 and drawing.positions.max() <= 1
    assert drawing.edges_png.startswith("data:image/png;base64,")


def test_the_network_shows_every_citizen_with_state_role_and_tooltip():
    model = VizEconomy(preset="el_salvador_2021", citizens=300)
    for _ in range(4):
        model.step()
    _, rc = solara.render(NetworkView(model), handle_error=False)
    spec = rc.find(solara.widgets.VegaLite).widget.spec
    citizens = [row for row in rows(spec) if "citizen" in row]
    assert len(citizens) == 300
    assert {row["state"] for row in citizens} >= {"No wallet", "Active wallet user"}
    assert sum(row["role"] == MERCHANT for row in citizens) == int(model.population.is_merchant.sum())
    tooltips = [layer["encoding"].get("tooltip") for layer in spec["layer"]]
    assert any(tooltips)
    table = citizen_table(model.population, layout.network_layout(model.population.adjacency))
    assert (table["state"] == "Active wallet user").sum() == int(model.population.is_active.sum())


def test_large_and_well_mixed_populations_get_the_aggregate_view():
    large = VizEconomy(preset="baseline", citizens=layout.MAX_DRAWN_CITIZENS + 500)
    mixed = CryptoEconomy(scenario(**{"population.network": "well_mixed", "population.citizens": 100}))
    for model in (large, mixed):
        assert not draws_network(model.population)
        counts = state_counts(model.population)
        assert sum(c.squares for c in counts) == WAFFLE_CELLS
        assert sum(c.citizens for c in counts) == model.population.size
        _, rc = solara.render(NetworkView(model), handle_error=False)
        spec = rc.find(solara.widgets.VegaLite).widget.spec
        assert spec["title"]["text"] == "Citizens (aggregate view)"
        squares = spec["data"]["values"]  # one mark per 1%, not per citizen
        assert len(squares) == WAFFLE_CELLS
        assert len({(square["column"], square["row"]) for square in squares}) == WAFFLE_CELLS
    assert not layout.is_cached(large.population.adjacency)  # never laid out


# -- the page ----------------------------------------------------------------------------------
def test_the_page_has_mesas_controls_the_picker_and_the_levers():
    rc = render_page()
    for label in ("Reset", "▶", "Step"):
        button(rc, label)
    picker = [w for w in rc.find(vw.Select).widgets if w.label == "Preset"]
    assert len(picker) == 1 and set(picker[0].items) == set(presets())
    assert picker[0].v_model == "turkmenistan_2026"
    for lever in LEVERS:
        controls = [*rc.find(vw.Select).widgets, *rc.find(vw.TextField).widgets, *rc.find(vw.Slider).widgets]
        found = [w for w in controls if w.label == lever.label]
        assert len(found) == 1, lever.label
    assert text_field(rc, "Seed").v_model == "1"
    assert headline(rc)["month"] == "0 of 60"


def test_step_advances_the_month_and_every_chart_gets_data():
    rc = render_page()
    for _ in range(3):
        button(rc, "Step").click()
    numbers = headline(rc)
    assert numbers["month"] == "3 of 60" and numbers["date"] == "2026-03"
    specs = chart_specs(rc)
    assert {spec.title for spec in CHARTS} <= set(specs)
    for chart in CHARTS:
        data = rows(specs[chart.title])
        for series in chart.series:
            months = sorted(row["month"] for row in data if row["Measure"] == series.column)
            assert months == [1, 2, 3], (chart.title, series.column)
    assert "Citizens' network" in specs


def test_reset_applies_a_changed_lever():
    rc = render_page()
    button(rc, "Step").click()
    type_into(text_field(rc, "Licence cap"), "3")
    button(rc, "Reset").click()
    numbers = headline(rc)
    assert numbers["month"] == "0 of 60" and numbers["in-force-licence-cap"] == "3"
    for _ in range(4):
        button(rc, "Step").click()
    licences = int(headline(rc)["licences"].split()[0])
    assert licences <= 3 and "(cap 3)" in headline(rc)["licences"]


def test_an_invalid_seed_is_shown_not_raised():
    rc = render_page()
    type_into(text_field(rc, "Seed"), "twelve")
    button(rc, "Reset").click()
    alerts = [w for w in rc.find(vw.Alert).widgets if "Seed: must be a whole number" in str(w.children)]
    assert len(alerts) == 1
    button(rc, "Step").click()
    assert headline(rc)["month"] == "0 of 60"
    type_into(text_field(rc, "Seed"), "12")
    button(rc, "Reset").click()
    button(rc, "Step").click()
    assert headline(rc)["month"] == "1 of 60" and headline(rc)["in-force-seed"] == "12"
    assert not [w for w in rc.find(vw.Alert).widgets if "Seed" in str(w.children)]


def test_picking_a_preset_loads_its_parameters_and_a_fresh_run():
    rc = render_page()
    button(rc, "Step").click()
    slider(rc, "Mining power surcharge").v_model = 0.02  # a change the next preset must undo
    picker = [w for w in rc.find(vw.Select).widgets if w.label == "Preset"][0]
    picker.v_model = "el_salvador_2021"
    numbers = headline(rc)
    assert numbers["in-force-preset"] == "el_salvador_2021" and numbers["month"] == "0 of 48"
    assert slider(rc, "Wallet bonus").v_model == 30.0
    assert slider(rc, "Miners' power tariff").v_model == pytest.approx(0.15)
    assert slider(rc, "Mining power surcharge").v_model == 0.0
    regime = [w for w in rc.find(vw.Select).widgets if w.label == "Payment regime"][0]
    assert regime.v_model == "legal_tender"
    assert text_field(rc, "Licence cap").v_model == "none"
    button(rc, "Reset").click()  # Reset keeps the picked preset and its values
    numbers = headline(rc)
    assert (numbers["in-force-preset"], numbers["in-force-regime"]) == ("el_salvador_2021", "legal_tender")
    button(rc, "Step").click()
    assert headline(rc)["month"] == "1 of 48"


def test_each_session_gets_its_own_model():
    first, second = render_page(), render_page()
    button(first, "Step").click()
    button(first, "Step").click()
    assert headline(first)["month"] == "2 of 60"
    assert headline(second)["month"] == "0 of 60"
    type_into(text_field(second, "Licence cap"), "7")
    button(second, "Reset").click()
    assert headline(first)["in-force-licence-cap"] == "20"
    assert headline(second)["in-force-licence-cap"] == "7"


def test_the_vue_widgets_are_the_majors_solaraviz_draws_with():
    # Mesa issue 3806: with ipyvue/ipyvuetify 3 the SolaraViz main panel stays blank (and the
    # Vue 3 front end is not among the shipped assets)
    from importlib.metadata import version

    assert int(version("ipyvue").split(".")[0]) == 1
    assert int(version("ipyvuetify").split(".")[0]) == 1


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
