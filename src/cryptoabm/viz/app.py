"""The page: two policies side by side on the same world (compare mode), and, with
``--results DIR``, a finished batch to explore.

What is compared comes from the page's address: ``?preset=turkmenistan_2026&policy=el_salvador_2021
&b.license_cap=3&citizens=500&seed=7`` (:class:`~cryptoabm.viz.compare.ComparisonRequest`), so a
comparison is a link that can be shared. Picking presets and pressing Reset write a new address;
the page builds the two runs from it. Replaying a batch run writes ``?replay=<run_id>``.

State belongs to the browser tab (Solara's session): each tab builds its own pair of models in
its own components, and nothing the page renders goes through a process-wide setting (the
charts are plain Vega-Lite specifications, see :mod:`cryptoabm.viz.live_chart`).

Step advances both runs a month; Play steps them every :data:`PLAY_PAUSE_S` seconds until Pause
or the horizon. The side panel holds B's levers: a value that is not valid shows its error beside
the field and disables Reset; the runs and the "in force" lines stay as they are until Reset
with valid values.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import solara
import solara.lab

from cryptoabm.config import ConfigError
from cryptoabm.viz.batch_view import BatchExplorer, ResultsError, open_results, replay_comparison, results_folder
from cryptoabm.viz.charts import CHARTS, PAIR, VIEWS, CompareChart
from cryptoabm.viz.compare import (
    Comparison,
    ComparisonRequest,
    build_comparison,
    config_error_text,
    request_from_query,
)
from cryptoabm.viz.headline import Headline
from cryptoabm.viz.levers import LEVERS, SEED_HELP, SEED_PARAM, SELECT, SLIDER_INT, TEXT, lever_values, parse_seed
from cryptoabm.viz.network_view import NetworkView
from cryptoabm.viz.presets import Preset, default_preset, presets

APP_NAME = "cryptoabm: crypto policy meets the economy"
PLAY_PAUSE_S = 0.05  # Play: the pause between months (the page's own work comes on top)
REPLAY_KEY = "replay"
COMPARE_TAB, BATCH_TAB = 0, 1

CSS = """
.cryptoabm-panel { width: 100%; }
.cryptoabm-headline .month { font-size: 0.95rem; color: #33414e; margin-bottom: 8px; }
.cryptoabm-headline .tiles { display: grid; grid-template-columns: repeat(5, 1fr); gap: 8px; }
.cryptoabm-headline .tile { background: #f4f6f8; border-radius: 8px; padding: 8px 10px; }
.cryptoabm-headline .label { font-size: 0.74rem; color: #5c6b7a; text-transform: uppercase; letter-spacing: .03em;
  min-height: 2.2em; }
.cryptoabm-headline .pair { display: flex; gap: 6px; align-items: baseline; white-space: nowrap; }
.cryptoabm-headline .run { font-size: 0.72rem; color: #5c6b7a; width: 3.2em; }
.cryptoabm-headline .value { font-size: 1.05rem; font-weight: 600; color: #1d2a36; }
.cryptoabm-headline .difference .value { color: #0072b2; }
.cryptoabm-headline .in-force { margin-top: 6px; font-size: 0.85rem; color: #33414e; line-height: 1.5; }
.cryptoabm-headline .run-name { font-weight: 600; }
.cryptoabm-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(430px, 1fr)); gap: 14px; }
.cryptoabm-levers .v-label { white-space: normal; font-size: 0.9rem; }
.cryptoabm-levers .lever { margin-bottom: 4px; }
.cryptoabm-levers .v-input__slider .v-input__slot { flex-wrap: wrap; }
.cryptoabm-levers .v-input__slider .v-input__slot > .v-label { flex: 1 0 100%; height: auto; line-height: 1.3;
  margin-bottom: 30px; }
.cryptoabm-levers .v-slider__thumb-container .v-slider__thumb-label-container { display: block !important; }
.cryptoabm-levers .v-slider__thumb-label { font-size: 0.7rem; }
.cryptoabm-scenario .description { font-size: 0.82rem; color: #5c6b7a; margin: 2px 0 8px; }
.cryptoabm-table table { border-collapse: collapse; font-size: 0.88rem; }
.cryptoabm-table td, .cryptoabm-table th { padding: 3px 10px; border-bottom: 1px solid #e1e6eb; text-align: left; }
.cryptoabm-run-row { display: flex; gap: 10px; align-items: center; margin: 2px 0; font-size: 0.88rem; }
"""


def current_request(search: str | None, available: dict[str, Preset]) -> tuple[ComparisonRequest, list[str]]:
    """The comparison the address asks for, and what in it was unusable."""
    return request_from_query(search or "", set(available), default_preset(available))


def make_comparison(search: str | None, available: dict[str, Preset]) -> tuple[Comparison, list[str]]:
    """The two runs for the address, and any problems; a request that cannot be built (B's
    policy schedules an event after A's horizon, say) falls back to A against itself."""
    query = dict(_pairs(search))
    folder = results_folder()
    if REPLAY_KEY in query and folder is not None:
        try:
            return replay_comparison(open_results(folder.resolve()), query[REPLAY_KEY]), []
        except ResultsError as exc:
            problems = [str(exc)]
    else:
        problems = []
    request, found = current_request(search, available)
    problems += found
    scenarios = {name: preset.scenario for name, preset in available.items()}
    try:
        return build_comparison(request, scenarios), problems
    except (ConfigError, ValueError) as exc:
        text = config_error_text(exc) if isinstance(exc, ConfigError) else str(exc)
        problems.append(f"B cannot run {request.policy}'s policy here: {text}; B runs A's policy instead")
        fallback = ComparisonRequest(request.preset, request.preset, {}, request.citizens, request.seed)
        return build_comparison(fallback, scenarios), problems


def _pairs(search: str | None) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl((search or "").lstrip("?"), keep_blank_values=True)


def draft_values(request: ComparisonRequest, available: dict[str, Preset]) -> dict[str, Any]:
    """The side panel's values for a request: B's policy source, its levers as changed, the
    citizens and the seed."""
    values = lever_values(available[request.policy].scenario, citizens=request.citizens)
    values.update(request.levers)
    seed = available[request.preset].scenario.seed if request.seed is None else request.seed
    values[SEED_PARAM] = str(seed)
    return values


def field_errors(values: dict[str, Any]) -> dict[str, str]:
    """Each side-panel field whose value is not valid, with what is wrong."""
    errors = {}
    for lever in LEVERS:
        try:
            lever.parse(values[lever.name])
        except ValueError as exc:
            errors[lever.name] = str(exc)
    try:
        parse_seed(values[SEED_PARAM])
    except ValueError as exc:
        errors[SEED_PARAM] = str(exc)
    return errors


def request_from_draft(request: ComparisonRequest, values: dict[str, Any],
                       available: dict[str, Preset]) -> ComparisonRequest:
    """The request that Reset puts into effect: B's levers that differ from its policy source."""
    source = lever_values(available[request.policy].scenario)
    levers = {}
    for lever in LEVERS:
        if lever.name == "citizens":
            continue
        if lever.parse(values[lever.name]) != lever.parse(source[lever.name]):
            levers[lever.name] = values[lever.name]
    citizens = int(LEVERS[-1].parse(values["citizens"]))
    seed = parse_seed(values[SEED_PARAM])
    preset_seed = available[request.preset].scenario.seed
    return ComparisonRequest(request.preset, request.policy, levers, citizens, None if seed == preset_seed else seed)


@solara.component
def Layout(children=[]):  # noqa: B006  (Solara's signature)
    """No layout around the page: Page brings its own AppLayout (nested ones would fold the side
    panel into a menu)."""
    return solara.Div(children=children)


@solara.component
def Page():
    """The app: compare mode, and the batch explorer when the server was given --results."""
    available = presets()
    router = solara.use_router()
    search = router.search or ""
    restarts = solara.use_reactive(0)  # Reset with unchanged values starts the same comparison afresh
    tab = solara.use_reactive(COMPARE_TAB)
    view = solara.use_reactive(PAIR)
    folder = results_folder()

    def go(query: str) -> None:
        if query == search.lstrip("?"):
            restarts.value += 1
        else:
            router.push(f"{router.path}?{query}")

    def replay(run_id: str) -> None:
        tab.value = COMPARE_TAB
        go(f"{REPLAY_KEY}={run_id}")

    with solara.AppLayout(title=APP_NAME) as layout:
        solara.Style(CSS)
        if folder is None:
            CompareMode(search, available, go, view).key(f"compare-{search}-{restarts.value}")
        else:
            with solara.lab.Tabs(value=tab, on_value=tab.set):
                with solara.lab.Tab("Compare"):
                    CompareMode(search, available, go, view).key(f"compare-{search}-{restarts.value}")
                with solara.lab.Tab("Batch results"):
                    BatchExplorer(folder, replay)
    return layout


@solara.component
def CompareMode(search: str, available: dict[str, Preset], go, view: solara.Reactive[str]):
    """One comparison, from the address: its controls, headline, network and charts."""
    built = solara.use_memo(lambda: make_comparison(search, available), [])
    comparison, problems = built
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    request, _ = current_request(search, available)
    replaying = REPLAY_KEY in dict(_pairs(search))

    def step() -> None:
        comparison.step()
        tick.value += 1

    closed = solara.use_memo(threading.Event, [])  # set when the tab goes (or the pair is replaced)
    solara.use_effect(lambda: closed.set, [])

    def play_loop() -> None:
        while playing.value and comparison.running and not closed.is_set():
            time.sleep(PLAY_PAUSE_S)
            if not playing.value or closed.is_set():
                return
            step()
        if not closed.is_set():
            playing.value = False

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    with solara.Sidebar():
        if replaying:
            solara.Info("Replaying a batch run: A is the reference arm's run, B the chosen run, on its seed. "
                        "Pick a preset to compare presets again.", dense=True)
        PresetPickers(request, available, go)
        if not replaying:
            LeverPanel(request, available, go)
    for problem in problems:
        solara.Warning(f"From the address: {problem}", dense=True)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Step", on_click=step, disabled=playing.value or not comparison.running, color="primary")
        if playing.value:
            solara.Button("Pause", on_click=lambda: playing.set(False))
        else:
            solara.Button("Play", on_click=lambda: playing.set(True), disabled=not comparison.running)
        with solara.Tooltip("Show A and B (A solid, B dashed), or B minus A"):
            with solara.Div():
                solara.ToggleButtonsSingle(value=view, values=list(VIEWS), dense=True)
    Headline(comparison, tick.value)
    with solara.Div(classes=["cryptoabm-charts"]):
        NetworkView(comparison, tick.value)
        for spec in CHARTS:
            CompareChart(spec, comparison, view.value, tick.value)


@solara.component
def PresetPickers(request: ComparisonRequest, available: dict[str, Preset], go):
    """A: a preset (its country and its policy); B: the policy of a preset, in A's country."""

    def pick_a(name: str) -> None:
        go(ComparisonRequest(name, name, {}, request.citizens, None).to_query())

    def pick_b(name: str) -> None:
        go(ComparisonRequest(request.preset, name, {}, request.citizens, request.seed).to_query())

    with solara.Card("Compare", margin=0, classes=["cryptoabm-scenario"]):
        with solara.Tooltip("A runs this preset as it stands: its country and its policy."):
            with solara.Div():
                solara.Select(label="A: preset (country and policy)", value=request.preset, values=list(available),
                              on_value=pick_a)
        solara.Text(available[request.preset].description, classes=["description"])
        with solara.Tooltip("B runs A's country (same world, same seed, the same events of the world) under "
                            "this preset's policy package (configs/policies/: its levers and its measures); "
                            "the levers below then change it."):
            with solara.Div():
                solara.Select(label="B: policy of preset", value=request.policy, values=list(available),
                              on_value=pick_b)
        solara.Text(available[request.policy].description, classes=["description"])


@solara.component
def LeverPanel(request: ComparisonRequest, available: dict[str, Preset], go):
    """B's levers, the citizens and the seed. Nothing changes the runs until Reset; Reset is
    enabled only while every value is valid, and each invalid value says what is wrong beside it."""
    values = solara.use_reactive(draft_values(request, available))
    errors = field_errors(values.value)

    def set_value(name: str, value: Any) -> None:
        values.value = {**values.value, name: value}

    def reset() -> None:
        go(request_from_draft(request, values.value, available).to_query())

    with solara.Card("B's levers", margin=0, classes=["cryptoabm-levers"]):
        for lever in LEVERS:
            with solara.Tooltip(lever.help):
                with solara.Div(classes=["lever"]):
                    LeverControl(lever, values.value[lever.name], errors.get(lever.name),
                                 lambda value, name=lever.name: set_value(name, value))
        with solara.Tooltip(SEED_HELP):
            with solara.Div(classes=["lever"]):
                solara.InputText("Seed (a whole number)", value=str(values.value[SEED_PARAM]),
                                 on_value=lambda value: set_value(SEED_PARAM, value),
                                 error=errors.get(SEED_PARAM, False))
        solara.Button("Reset", on_click=reset, disabled=bool(errors), color="primary", block=True)
        solara.Text("Reset starts both runs again with these values."
                    if not errors else "Fix the values marked in red to enable Reset; the runs go on as they are.",
                    style={"font-size": "0.8rem", "color": "#5c6b7a"})


@solara.component
def LeverControl(lever, value: Any, error: str | None, on_value):
    if lever.control == SELECT:
        solara.Select(label=lever.label, value=value, values=list(lever.choices), on_value=on_value)
    elif lever.control == TEXT:
        solara.InputText(lever.label, value=str(value), on_value=on_value, error=error or False)
    elif lever.control == SLIDER_INT:
        solara.SliderInt(lever.label, value=int(value), min=int(lever.minimum), max=int(lever.maximum),
                         step=int(lever.step), on_value=on_value, thumb_label="always")
    else:
        entry = lever.model_param(float(value))
        solara.SliderFloat(lever.label, value=float(value), min=entry["min"], max=entry["max"], step=entry["step"],
                           on_value=on_value, thumb_label="always")
