"""The page: Mesa's SolaraViz around a model of this browser session's own.

Mesa 3.5's usual app module builds one model at import and hands it to ``SolaraViz``, so every
browser tab steps the same model. Here the model is built inside a component (``Dashboard``),
once per session (``use_memo``), and kept in a reactive variable of that session: two tabs are
two sessions, two models, two runs.

Above Mesa's side panel a scenario picker lists the presets in ``configs/``. Picking one
rebuilds the whole page below the choice (Solara's AppLayout keyed by the preset): a fresh
model of that preset and fresh Mesa controls that show its values. Re-mounting SolaraViz
alone is not enough, because its side panel lives in the AppLayout and would keep the old
preset's parameters. Reset then builds a fresh model from the controls
(``VizEconomy(**params)``), as in every Mesa app.
"""

from __future__ import annotations

import altair as alt
import solara
from mesa.visualization import SolaraViz

from cryptoabm.viz.charts import CHARTS, plot_component
from cryptoabm.viz.economy import VizEconomy
from cryptoabm.viz.headline import Headline
from cryptoabm.viz.levers import model_params
from cryptoabm.viz.network_view import NetworkView
from cryptoabm.viz.presets import Preset, default_preset, presets

APP_NAME = "cryptoabm: crypto policy meets the economy"
PLAY_INTERVAL_MS = 301  # Play: a month every 0.3 s, slow enough to watch (Mesa's slider runs 1, 11, 21, ...)

# Long runs (up to 1,200 months x 5 series) exceed Altair's default 5,000-row guard.
alt.data_transformers.disable_max_rows()

COMPONENTS = [(Headline, 0), (NetworkView, 0), *(plot_component(spec) for spec in CHARTS)]

CSS = """
.cryptoabm-panel { width: 100%; }
.cryptoabm-headline .tiles { display: grid; grid-template-columns: repeat(3, 1fr); gap: 10px; }
.cryptoabm-headline .tile { background: #f4f6f8; border-radius: 8px; padding: 10px 12px; }
.cryptoabm-headline .label { font-size: 0.78rem; color: #5c6b7a; text-transform: uppercase; letter-spacing: .03em; }
.cryptoabm-headline .value { font-size: 1.45rem; font-weight: 600; color: #1d2a36; white-space: nowrap; }
.cryptoabm-headline .in-force { margin-top: 14px; font-size: 0.9rem; color: #33414e; line-height: 1.6; }
.cryptoabm-headline .description { margin-top: 8px; font-size: 0.85rem; color: #5c6b7a; }
.cryptoabm-scenario .description { font-size: 0.85rem; color: #5c6b7a; margin-top: 4px; }
/* sliders: the label on its own line, the value always shown above the thumb */
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label { flex: 1 0 100%; white-space: normal; height: auto;
  line-height: 1.3; font-size: 0.92rem; margin-bottom: 34px; }
.v-input__slider .v-slider { flex: 1 0 100%; margin-left: 6px; margin-right: 6px; }
.v-slider__thumb-container .v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label { font-size: 0.72rem; }
/* one page of components: Mesa's "Page 0" tab adds nothing */
.v-tabs { display: none; }
"""


@solara.component
def ScenarioPicker(available: dict[str, Preset], current: Preset, on_pick):
    """The presets in configs/; picking one loads its parameters and starts a fresh run."""
    with solara.Card("Scenario", margin=0, classes=["cryptoabm-scenario"]):
        solara.Select(label="Preset", value=current.name, values=list(available), on_value=on_pick)
        solara.Text(current.description, classes=["description"])


@solara.component
def Layout(children=[]):  # noqa: B006  (Solara's signature)
    """No layout around the page: Page brings its own AppLayout (so that it can rebuild it)."""
    return solara.Div(children=children)


@solara.component
def Page():
    """The app. Picking a preset rebuilds everything below the preset choice from scratch
    (the AppLayout is keyed by it): a fresh model, Mesa's controls showing the preset's values."""
    available = presets()
    preset = solara.use_reactive(default_preset(available))  # this session's choice
    with solara.AppLayout(title=APP_NAME).key(f"preset-{preset.value}") as layout:
        Dashboard(available[preset.value], available, preset.set)
    return layout


@solara.component
def Dashboard(preset: Preset, available: dict[str, Preset], pick):
    """One session's run of one preset: the scenario picker and Mesa's SolaraViz."""
    first = solara.use_memo(lambda: VizEconomy(preset=preset.name), [])
    model = solara.use_reactive(first)  # this session's model; Reset replaces it
    solara.Style(CSS)
    with solara.Sidebar():
        ScenarioPicker(available, preset, pick)
    params = model_params(preset.name, preset.scenario, seed=preset.scenario.seed)
    SolaraViz(model, components=COMPONENTS, model_params=params, name=APP_NAME, play_interval=PLAY_INTERVAL_MS)
