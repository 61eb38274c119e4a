"""The page: two policies side by side on the same world (compare mode), and, with
``--results DIR``, a finished batch to explore.

What is compared comes from the page's address: ``?preset=turkmenistan_2026&policy=dubai_vara
&b.license_cap=3&citizens=2000&seed=7`` (:class:`~cryptoabm.viz.compare.ComparisonRequest`),
so a comparison is a link that can be shared. Picking a preset or a policy package and
pressing Reset write a new address; the page builds the two runs from it. Replaying a batch
run writes ``?replay=<run_id>``. An empty address opens Turkmenistan's law (A) against
:data:`DEFAULT_B_PACKAGE` (B) on Turkmenistan's economy.

The panel always describes what runs: a header sentence names the economy, both policies, the
seed and the population; when B's package cannot run on A's economy, B falls back to A's
policy and the pickers and levers show that fallback, with a one-line notice; a replay names
both batch runs and offers "Back to presets".

State belongs to the browser tab (Solara's session): each tab builds its own pair of models in
its own components, and nothing the page renders goes through a process-wide setting (the
charts are plain Vega-Lite specifications, see :mod:`cryptoabm.viz.live_chart`).

Step advances both runs a month; Play steps them at the chosen speed until Pause or the
horizon. The side panel holds B's levers: an edit is pending ("changes not applied", beside
Step and Play) until Reset; a value that is not valid shows its error beside the field and
disables Reset. "Over N seeds" runs the pair on N seeds in the background
(:mod:`cryptoabm.viz.seeds`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import solara
import solara.lab

from cryptoabm.config import ConfigError
from cryptoabm.viz.batch_view import BatchExplorer, ResultsError, open_results, replay_comparison, results_folder
from cryptoabm.viz.charts import PAIR, VIEWS, CompareChart, charts_for
from cryptoabm.viz.compare import (
    Comparison,
    ComparisonRequest,
    build_comparison,
    comparison_sentence,
    config_error_text,
    own_policy,
    policy_source,
    policy_title,
    request_from_query,
)
from cryptoabm.viz.headline import Headline
from cryptoabm.viz.levers import (
    LEVERS,
    LEVERS_BY_NAME,
    SEED_HELP,
    SEED_PARAM,
    SELECT,
    SLIDER_INT,
    TEXT,
    lever_values,
    parse_seed,
)
from cryptoabm.viz.network_view import NetworkView
from cryptoabm.viz.presets import PolicyPackage, Preset, default_preset, policy_packages, presets
from cryptoabm.viz.seeds_view import SeedsView

APP_NAME = "cryptoabm: crypto policy meets the economy"
DEFAULT_B_PACKAGE = "dubai_vara"  # what B runs on an empty address: licensing without the law's controls
PLAY_SPEEDS = {"Slow": 0.5, "Normal": 0.05, "Fast": 0.0}  # Play: the pause between months, seconds
DEFAULT_SPEED = "Normal"
REPLAY_KEY = "replay"
COMPARE_TAB, BATCH_TAB = 0, 1
ONE_DRAW, OVER_SEEDS = 0, 1

CSS = """
.cryptoabm-panel { width: 100%; }
.cryptoabm-headline .header { font-size: 1.05rem; font-weight: 600; color: #1d2a36; margin-bottom: 4px; }
.cryptoabm-headline .month { font-size: 0.9rem; color: #33414e; margin-bottom: 8px; }
.cryptoabm-headline .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 8px; }
.cryptoabm-headline .tile { background: #f4f6f8; border-radius: 8px; padding: 8px 10px; cursor: help; }
.cryptoabm-headline .label { font-size: 0.74rem; color: #5c6b7a; text-transform: uppercase; letter-spacing: .03em;
  min-height: 2.2em; }
.cryptoabm-headline .info { color: #0072b2; text-transform: none; }
.cryptoabm-headline .pair { display: flex; gap: 6px; align-items: baseline; white-space: nowrap; }
.cryptoabm-headline .run { font-size: 0.72rem; color: #5c6b7a; width: 3.2em; }
.cryptoabm-headline .value { font-size: 1.05rem; font-weight: 600; color: #1d2a36; }
.cryptoabm-headline .difference .value { color: #0072b2; }
.cryptoabm-headline .in-force { margin-top: 6px; font-size: 0.85rem; color: #33414e; line-height: 1.5; }
.cryptoabm-headline .run-name { font-weight: 600; }
.cryptoabm-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(430px, 1fr)); gap: 14px; }
.cryptoabm-charts .latest, .cryptoabm-charts .markers { font-size: 0.78rem; color: #5c6b7a; }
.cryptoabm-levers .v-label { white-space: normal; font-size: 0.9rem; }
.cryptoabm-levers .lever { margin-bottom: 4px; }
.cryptoabm-levers .v-input__slider .v-input__slot { flex-wrap: wrap; }
.cryptoabm-levers .v-input__slider .v-input__slot > .v-label { flex: 1 0 100%; height: auto; line-height: 1.3;
  margin-bottom: 30px; }
.cryptoabm-levers .v-slider__thumb-container .v-slider__thumb-label-container { display: block !important; }
.cryptoabm-levers .v-slider__thumb-label { font-size: 0.7rem; }
.cryptoabm-levers .range { display: flex; justify-content: space-between; font-size: 0.72rem; color: #5c6b7a;
  margin-top: -14px; }
.cryptoabm-scenario .description { font-size: 0.82rem; color: #5c6b7a; margin: 2px 0 8px; }
.cryptoabm-toolbar { align-items: center; flex-wrap: wrap; gap: 6px; }
.cryptoabm-pending { background: #fff3cd; color: #6b4e00; border-radius: 12px; padding: 2px 10px; font-size: 0.82rem; }
.cryptoabm-table table { border-collapse: collapse; font-size: 0.88rem; }
.cryptoabm-table td, .cryptoabm-table th { padding: 3px 10px; border-bottom: 1px solid #e1e6eb; text-align: left; }
.cryptoabm-run-row { display: flex; gap: 10px; align-items: center; margin: 2px 0; font-size: 0.88rem; }
"""


@dataclass(frozen=True)
class Built:
    """What runs, and how the panel describes it."""

    comparison: Comparison
    request: ComparisonRequest  # what actually runs (after any fallback)
    header: str  # the sentence naming what runs
    problems: tuple[str, ...]  # from the address, and any fallback: one line each
    replaying: bool = False


def catalogue() -> tuple[dict[str, Preset], dict[str, PolicyPackage]]:
    """The presets A picks from and the policy packages B picks from."""
    return presets(), policy_packages()


def current_request(search: str | None, available: dict[str, Preset],
                    packages: dict[str, PolicyPackage]) -> tuple[ComparisonRequest, list[str]]:
    """The comparison the address asks for, and what in it was unusable."""
    return request_from_query(search or "", available, set(packages), default_preset(available), DEFAULT_B_PACKAGE)


def make_comparison(search: str | None, available: dict[str, Preset],
                    packages: dict[str, PolicyPackage]) -> Built:
    """The two runs for the address, and how to describe them. A request that cannot be built
    (B's package schedules an event after A's horizon, say) falls back to A against itself, and
    the request returned is that fallback, so that the panel shows what runs."""
    query = dict(_pairs(search))
    folder = results_folder()
    problems: list[str] = []
    if REPLAY_KEY in query and folder is not None:
        try:
            comparison = replay_comparison(open_results(folder.resolve()), query[REPLAY_KEY])
            return Built(comparison, ComparisonRequest(default_preset(available), ""), replay_sentence(comparison),
                         (), replaying=True)
        except ResultsError as exc:
            problems.append(str(exc))
    request, found = current_request(search, available, packages)
    problems += [f"From the address: {problem}" for problem in found]
    try:
        comparison = build_comparison(request, available, packages)
    except (ConfigError, ValueError) as exc:
        text = config_error_text(exc) if isinstance(exc, ConfigError) else str(exc)
        wanted = policy_title(request, available, packages)
        request = ComparisonRequest(request.preset, own_policy(available[request.preset]), {}, request.citizens,
                                    request.seed)
        problems.append(f"B cannot run {wanted} on this economy ({text}): B runs A's policy instead, "
                        "and the panel shows it.")
        comparison = build_comparison(request, available, packages)
    header = comparison_sentence(request, available, packages, comparison.seed)
    return Built(comparison, request, header, tuple(problems))


def replay_sentence(comparison: Comparison) -> str:
    """The header of a replay: both batch runs by name."""
    a, b = (label.split(": ", 1)[-1] for label in comparison.labels)
    return (f"Replaying batch run {b} (B) against {a} (A), seed {comparison.seed}, "
            f"{comparison.a.population.size:,} citizens.")


def _pairs(search: str | None) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl((search or "").lstrip("?"), keep_blank_values=True)


def draft_values(request: ComparisonRequest, available: dict[str, Preset]) -> dict[str, Any]:
    """The side panel's values for a request: B's levers as changed, the citizens and the seed."""
    values = lever_values(policy_source(request, available), citizens=request.citizens)
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
    source = lever_values(policy_source(request, available))
    levers = {}
    for lever in LEVERS:
        if lever.name == "citizens":
            continue
        if lever.parse(values[lever.name]) != lever.parse(source[lever.name]):
            levers[lever.name] = values[lever.name]
    citizens = int(LEVERS_BY_NAME["citizens"].parse(values["citizens"]))
    seed = parse_seed(values[SEED_PARAM])
    preset_seed = available[request.preset].scenario.seed
    return ComparisonRequest(request.preset, request.policy, levers, citizens, None if seed == preset_seed else seed)


def is_pending(request: ComparisonRequest, values: dict[str, Any], available: dict[str, Preset]) -> bool:
    """Whether the panel holds edits that the runs do not yet use (an invalid value counts)."""
    if field_errors(values):
        return True
    return _canonical(request_from_draft(request, values, available), available) != _canonical(request, available)


def _canonical(request: ComparisonRequest, available: dict[str, Preset]) -> tuple:
    source = lever_values(policy_source(request, available))
    levers = tuple(sorted((name, LEVERS_BY_NAME[name].parse(value)) for name, value in request.levers.items()
                          if LEVERS_BY_NAME[name].parse(value) != LEVERS_BY_NAME[name].parse(source[name])))
    seed = available[request.preset].scenario.seed if request.seed is None else request.seed
    return request.preset, request.policy, levers, request.citizens, seed


def bonus_without_budget(values: dict[str, Any]) -> bool:
    """A wallet bonus set with a zero bonus budget: it would pay nothing."""
    try:
        bonus = LEVERS_BY_NAME["wallet_bonus_usd"].parse(values["wallet_bonus_usd"])
        budget = LEVERS_BY_NAME["bonus_budget_musd"].parse(values["bonus_budget_musd"])
    except ValueError:
        return False
    return bonus > 0 and budget <= 0


@solara.component
def Layout(children=[]):  # noqa: B006  (Solara's signature)
    """No layout around the page: Page brings its own AppLayout (nested ones would fold the side
    panel into a menu)."""
    return solara.Div(children=children)


@solara.component
def Page():
    """The app: compare mode, and the batch explorer when the server was given --results."""
    available, packages = catalogue()
    router = solara.use_router()
    search = router.search or ""
    restarts = solara.use_reactive(0)  # Reset with unchanged values starts the same comparison afresh
    tab = solara.use_reactive(COMPARE_TAB)
    view = solara.use_reactive(PAIR)
    speed = solara.use_reactive(DEFAULT_SPEED)
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
        solara.Title(APP_NAME)
        solara.Style(CSS)
        key = f"compare-{search}-{restarts.value}"
        if folder is None:
            CompareMode(search, available, packages, go, view, speed, True).key(key)
        else:
            with solara.lab.Tabs(value=tab, on_value=tab.set):
                with solara.lab.Tab("Compare"):
                    CompareMode(search, available, packages, go, view, speed, tab.value == COMPARE_TAB).key(key)
                with solara.lab.Tab("Batch results"):
                    BatchExplorer(folder, replay)
    return layout


@solara.component
def CompareMode(search: str, available: dict[str, Preset], packages: dict[str, PolicyPackage], go,
                view: solara.Reactive[str], speed: solara.Reactive[str], active: bool):
    """One comparison, from the address: its controls, header, headline, network and charts.
    ``active``: the Compare tab is shown (else the side panel holds no levers)."""
    built: Built = solara.use_memo(lambda: make_comparison(search, available, packages), [])
    comparison, request = built.comparison, built.request
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    section = solara.use_reactive(ONE_DRAW)
    values = solara.use_reactive(draft_values(request, available))
    errors = field_errors(values.value)
    pending = not built.replaying and is_pending(request, values.value, available)

    def step() -> None:
        comparison.step()
        tick.value += 1

    def reset() -> None:
        go(request_from_draft(request, values.value, available).to_query())

    closed = solara.use_memo(threading.Event, [])  # set when the tab goes (or the pair is replaced)
    solara.use_effect(lambda: closed.set, [])

    def play_loop() -> None:
        while playing.value and comparison.running and not closed.is_set():
            time.sleep(PLAY_SPEEDS.get(speed.value, PLAY_SPEEDS[DEFAULT_SPEED]))
            if not playing.value or closed.is_set():
                return
            step()
        if not closed.is_set():
            playing.value = False

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    with solara.Sidebar():
        if not active:
            solara.Info("Batch results: Replay on any run shows it live in the Compare tab, against the "
                        "reference arm's run on the same seed.", dense=True)
        elif built.replaying:
            ReplayPanel(built, go)
        else:
            PresetPickers(request, available, packages, go)
            LeverPanel(values, errors)
    for problem in built.problems:
        with solara.Div(attributes={"data-testid": "notice"}):
            solara.Warning(problem, dense=True)
    with solara.Row(classes=["cryptoabm-toolbar"]):
        solara.Button("Step", on_click=step, disabled=playing.value or not comparison.running, color="primary")
        if playing.value:
            solara.Button("Pause", on_click=lambda: playing.set(False))
        else:
            solara.Button("Play", on_click=lambda: playing.set(True), disabled=not comparison.running)
        with solara.Tooltip("Play speed: the pause between months (Fast: as fast as the page can draw)"):
            with solara.Div():
                solara.ToggleButtonsSingle(value=speed, values=list(PLAY_SPEEDS), dense=True)
        if not built.replaying:
            with solara.Tooltip("Start both runs again from month 0 with the panel's values"
                                if not errors else "Fix the values marked in red in the panel first"):
                with solara.Div():
                    solara.Button("Reset", on_click=reset, disabled=bool(errors), color="primary", outlined=True)
        if pending:
            solara.HTML(tag="span", classes=["cryptoabm-pending"], attributes={"data-testid": "pending"},
                        unsafe_innerHTML=("changes not applied: Reset puts them into effect" if not errors else
                                          "changes not applied: a value in the panel is not valid"))
        with solara.Tooltip("Show A and B (A solid, B dashed), or B minus A"):
            with solara.Div():
                solara.ToggleButtonsSingle(value=view, values=list(VIEWS), dense=True)
    Headline(comparison, tick.value, built.header)
    with solara.lab.Tabs(value=section, on_value=section.set):
        with solara.lab.Tab(f"One draw (seed {comparison.seed})"):
            with solara.Div(classes=["cryptoabm-charts"]):
                NetworkView(comparison, tick.value)
                for spec in charts_for(_columns(comparison)):
                    CompareChart(spec, comparison, view.value, tick.value)
        with solara.lab.Tab("Over N seeds"):
            SeedsView(comparison, section.value == OVER_SEEDS)


def _columns(comparison: Comparison) -> tuple[str, ...]:
    from cryptoabm.model import INDICATOR_NAMES

    return INDICATOR_NAMES


@solara.component
def ReplayPanel(built: Built, go):
    """A replay names both runs and leads back to the presets."""
    a, b = built.comparison.labels
    with solara.Card("Replaying a batch run", margin=0, classes=["cryptoabm-scenario"]):
        solara.HTML(tag="div", attributes={"data-testid": "replay-names"}, unsafe_innerHTML=(
            f"<p><b>{_escaped(a)}</b>: the reference arm's run.</p><p><b>{_escaped(b)}</b>: the chosen run, "
            f"on the same seed ({built.comparison.seed}).</p>"))
        solara.Button("Back to presets", on_click=lambda: go(""), color="primary", block=True)


def _escaped(text: str) -> str:
    import html

    return html.escape(text)


@solara.component
def PresetPickers(request: ComparisonRequest, available: dict[str, Preset], packages: dict[str, PolicyPackage], go):
    """A: a preset (its country and its policy); B: a policy package, on A's country."""

    def pick_a(name: str) -> None:
        go(ComparisonRequest(name, own_policy(available[name]), {}, request.citizens, None).to_query())

    def pick_b(name: str) -> None:
        go(ComparisonRequest(request.preset, name, {}, request.citizens, request.seed).to_query())

    preset = available[request.preset]
    choices_b = {package.name: package.title for package in packages.values()}
    if own_policy(preset) not in choices_b:
        choices_b = {own_policy(preset): f"A's own policy ({preset.title})", **choices_b}
    described = (packages[request.policy].description if request.policy in packages
                 else f"A's own policy: {preset.description}")
    with solara.Card("Compare", margin=0, classes=["cryptoabm-scenario"]):
        with solara.Tooltip("A runs this preset as it stands: its country and its policy package."):
            with solara.Div():
                solara.v.Select(label="A: preset (economy and policy)", v_model=request.preset,
                                items=[{"text": p.title, "value": name} for name, p in available.items()],
                                on_v_model=pick_a)
        solara.Text(preset.description, classes=["description"])
        with solara.Tooltip("B runs A's economy (same world, same seed, the same events of the world) under this "
                            "policy package from configs/policies/ (its levers and its measures); the levers "
                            "below then change it."):
            with solara.Div():
                solara.v.Select(label="B: policy package", v_model=request.policy,
                                items=[{"text": title, "value": name} for name, title in choices_b.items()],
                                on_v_model=pick_b)
        solara.Text(described, classes=["description"])


@solara.component
def LeverPanel(values: solara.Reactive[dict[str, Any]], errors: dict[str, str]):
    """B's levers, the citizens and the seed. Nothing changes the runs until Reset (beside
    Step and Play); each invalid value says what is wrong beside it."""

    def set_value(name: str, value: Any) -> None:
        values.value = {**values.value, name: value}

    with solara.Card("B's levers", margin=0, classes=["cryptoabm-levers"]):
        for lever in LEVERS:
            with solara.Tooltip(lever.help):
                with solara.Div(classes=["lever"]):
                    LeverControl(lever, values.value[lever.name], errors.get(lever.name),
                                 lambda value, name=lever.name: set_value(name, value))
            if lever.name == "bonus_budget_musd" and bonus_without_budget(values.value):
                with solara.Div(attributes={"data-testid": "bonus-warning"}):
                    solara.Warning("A wallet bonus with a zero budget pays nothing: give it a budget.", dense=True)
        with solara.Tooltip(SEED_HELP):
            with solara.Div(classes=["lever"]):
                solara.InputText("Seed (a whole number)", value=str(values.value[SEED_PARAM]),
                                 on_value=lambda value: set_value(SEED_PARAM, value),
                                 error=errors.get(SEED_PARAM, False))
        solara.Text("Edits wait until Reset (beside Step and Play) starts both runs again with them."
                    if not errors else "Fix the values marked in red to enable Reset; the runs go on as they are.",
                    style={"font-size": "0.8rem", "color": "#5c6b7a"})


@solara.component
def LeverControl(lever, value: Any, error: str | None, on_value):
    if lever.control == SELECT:
        solara.Select(label=lever.label, value=value, values=list(lever.choices), on_value=on_value)
        return
    if lever.control == TEXT:
        solara.InputText(lever.label, value=str(value), on_value=on_value, error=error or False)
        return
    if lever.control == SLIDER_INT:
        low, high = int(lever.minimum), int(lever.maximum)
        solara.SliderInt(lever.label, value=int(value), min=low, max=high, step=int(lever.step), on_value=on_value,
                         thumb_label="always")
    else:
        entry = lever.model_param(float(value))
        low, high = entry["min"], entry["max"]
        solara.SliderFloat(lever.label, value=float(value), min=low, max=high, step=entry["step"],
                           on_value=on_value, thumb_label="always")
    solara.HTML(tag="div", classes=["range"], attributes={"data-testid": f"range-{lever.name}"},
                unsafe_innerHTML=f"<span>{low:,g}</span><span>{high:,g}</span>")
