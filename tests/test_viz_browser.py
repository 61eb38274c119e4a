"""The browser app end to end: the real server, a real headless Chromium, no internet.

One server serves every test here, started as users start it (``python -m cryptoabm viz
--results DIR``) on a free loopback port, with DIR a small batch the module runs first. Chromium
is Debian's ``chromium`` package driven by Python playwright (no browser download). Every
request that is not for loopback is blocked and fails the test, as does any console error, page
error or HTTP error response, and any error in the server's log. Two tests take the screenshots
the documentation shows (each mode: the first page, a comparison a year in, the fallback, the
seeds view, the batch explorer and a replay), into a temporary folder; to regenerate the docs
images:

    CRYPTOABM_SCREENSHOT_DIR=docs python -m pytest tests/test_viz_browser.py -k "draws_both or first_page or falls_back or seeds_view or replay"

Without a browser (or playwright, or the viz extra) these tests are skipped, unless
CRYPTOABM_REQUIRE_BROWSER=1 (as ``.ci/run`` sets), which makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT_ENV = "CRYPTOABM_SCREENSHOT_DIR"  # where to save the screenshots (default: a temporary folder)
REQUIRE_BROWSER = os.environ.get("CRYPTOABM_REQUIRE_BROWSER") == "1"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-default-apps", "--disable-extensions"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
VIEWPORT = {"width": 1500, "height": 1300}
SERVER_START_S = 60  # importing Solara and Mesa on a slow machine
PAGE_LOAD_MS = 60_000
UPDATE_MS = 20_000  # a step or a reset to show in the page
CITIZENS = 300  # drawn one by one
COUNTRY, OTHER_PRESET, OTHER_POLICY = "turkmenistan_2026", "el_salvador_2021", "el_salvador_bitcoin_law"
COMPARE = f"?preset={COUNTRY}&policy={OTHER_POLICY}&citizens={CITIZENS}"
SEEDS = 3  # the seeds view's test: few seeds of a small population
DOCS_MONTHS = 14  # a lively stretch for the screenshot
NETWORK_SIZE = 320  # CSS pixels from the canvas's left edge that hold the drawing (the legend is to its right)
MIN_PIXELS_PER_CITIZEN = 3  # a dot covers 14-60 square pixels; many overlap
MIN_NEW_PIXELS = 20  # three months of lines and dots add far more than this
REDRAW_MS = 1_000  # Vega redraws after a short debounce
PAUSE_CHECK_MS = 1_500  # many play intervals: a paused run must not move in this time
SESSIONS = 6  # browser contexts at once in the concurrency test
SERVER_ERRORS = re.compile(r"Traceback|Error|Exception")


def _chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def _missing_browser() -> str | None:
    """Why the tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
        import solara  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[viz,test]')"
    if _chromium() is None:
        return "no Chromium (apt-get install -y chromium)"
    return None


MISSING = _missing_browser()
if MISSING is None:
    from cryptoabm.viz.charts import CHARTS
    from cryptoabm.viz.network_view import DIFFERENCE_COLOURS


@pytest.fixture(scope="module", autouse=True)
def browser_present():
    """Skip (or, with CRYPTOABM_REQUIRE_BROWSER=1, fail) every test here if they cannot run.

    Module-scoped, so it runs before the server and browser fixtures; each test then reports
    the failure, and the rest of the suite still runs.
    """
    if MISSING is None:
        return
    if REQUIRE_BROWSER:
        pytest.fail(f"CRYPTOABM_REQUIRE_BROWSER=1 but the browser tests cannot run: {MISSING}", pytrace=False)
    pytest.skip(f"browser tests skipped: {MISSING}")


# -- the server ------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, url: str, printed: list[str], results: Path):
        self.url, self.printed, self.results = url, printed, results

    def errors(self) -> list[str]:
        """Lines of the server's output that report an error."""
        return [line for line in self.printed if SERVER_ERRORS.search(line)]


@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory):
    from tests.test_viz_batch import build_small_batch

    return build_small_batch(tmp_path_factory.mktemp("viz-browser-batch"))


@pytest.fixture(scope="module")
def app(batch_folder):
    """The app served by `python -m cryptoabm viz --results DIR` on a free loopback port."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cryptoabm", "viz", "--host", "127.0.0.1", "--port", str(port),
         "--configs", str(ROOT / "configs"), "--results", str(batch_folder)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(process.stdout), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + SERVER_START_S
    while not any(url in line for line in printed):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the app did not start:\n" + "".join(printed))
        time.sleep(0.1)
    yield Server(url, printed, batch_folder)
    process.terminate()
    process.wait(timeout=30)
    reader.join(timeout=5)
    assert process.returncode == 0, "".join(printed)
    assert "stopped" in "".join(printed)
    assert [line for line in printed if SERVER_ERRORS.search(line)] == []


@pytest.fixture
def app_url(app):
    return app.url


# -- the browser -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class Watch:
    """What a page did that it should not: reach beyond loopback, log errors, get HTTP errors."""

    def __init__(self):
        self.blocked: list[str] = []
        self.errors: list[str] = []

    def attach(self, page) -> None:
        page.on("console", lambda message: self.errors.append(f"console: {message.text}")
                if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("response", lambda response: self.errors.append(f"HTTP {response.status}: {response.url}")
                if response.status >= 400 else None)

    def route(self, route) -> None:
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def check(self) -> None:
        assert self.blocked == [], f"requests beyond loopback: {self.blocked}"
        assert self.errors == [], "\n".join(self.errors)


@pytest.fixture
def session(browser):
    """A browser context (one user) whose pages are watched; open pages with ``open_app``."""
    watch = Watch()
    context = browser.new_context(viewport=VIEWPORT)
    context.route("**/*", watch.route)
    yield context, watch
    context.close()
    watch.check()


def open_app(context, watch, url, query: str = COMPARE):
    page = context.new_page()
    watch.attach(page)
    page.goto(url + query)
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=PAGE_LOAD_MS)
    expect_text(page, "month", "0 of")
    return page


def expect_text(page, test_id: str, start: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_test_id(test_id)).to_have_text(re.compile("^" + re.escape(start)), timeout=UPDATE_MS)


def month(page) -> int:
    return int(page.get_by_test_id("month").inner_text().split()[0])


def step(page, times: int = 1) -> None:
    """Press Step, waiting each time for the month to move on."""
    for _ in range(times):
        current = month(page)
        page.get_by_role("button", name="Step", exact=True).click()
        expect_text(page, "month", f"{current + 1} of")


def value(page, test_id: str) -> float:
    """The exact number behind a figure (its data-value)."""
    return float(page.get_by_test_id(test_id).get_attribute("data-value"))


def text_input(page, label: str):
    """The text field whose label is ``label``."""
    return page.locator(".v-text-field", has=page.get_by_text(label, exact=True)).locator("input")


def commit_text(page, label: str, text: str) -> None:
    field = text_input(page, label)
    field.fill(text)
    field.press("Enter")


def wait_for_charts(page) -> None:
    """Until the network and every chart have drawn (Vega draws on a canvas)."""
    for test_id in ("network-view", *(chart.test_id for chart in CHARTS)):
        page.get_by_test_id(test_id).locator("canvas.marks").wait_for(timeout=UPDATE_MS)


def screenshot(page, name: str, tmp_path: Path) -> None:
    """Save a screenshot for docs/viz.md (into $CRYPTOABM_SCREENSHOT_DIR, else a temporary folder)."""
    page.mouse.move(0, 0)
    page.wait_for_timeout(REDRAW_MS)
    folder = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 50_000


# Counts the canvas pixels close to each of some colours: evidence of what a chart drew.
COUNT_COLOURS_JS = """([element, colours, plotWidth]) => {
    const canvas = element.querySelector('canvas.marks');
    const scale = canvas.width / canvas.clientWidth;
    const width = plotWidth ? Math.min(canvas.width, Math.round(plotWidth * scale)) : canvas.width;
    const pixels = canvas.getContext('2d').getImageData(0, 0, width, canvas.height).data;
    const targets = colours.map(hex => [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16)));
    const counts = colours.map(() => 0);
    for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] < 250) continue;
        targets.forEach(([r, g, b], k) => {
            if (Math.abs(pixels[i] - r) + Math.abs(pixels[i + 1] - g) + Math.abs(pixels[i + 2] - b) < 12) counts[k]++;
        });
    }
    return counts;
}"""


def colour_counts(page, test_id: str, colours: list[str], plot_width: int | None = None) -> list[int]:
    element = page.get_by_test_id(test_id).element_handle()
    return page.evaluate(COUNT_COLOURS_JS, [element, colours, plot_width])


def series_colours(chart) -> list[str]:
    return [series.colour for series in chart.series]



def direct_runs(months: int | None, seed: int | None = None):
    """A and B of COMPARE run straight from the config files, without the app: A the preset,
    B the same file with El Salvador's [policy] and events put in its place."""
    from cryptoabm.config import load_scenario
    from cryptoabm.model import CryptoEconomy

    other = load_scenario(ROOT / "configs" / f"{OTHER_PRESET}.toml")
    path = ROOT / "configs" / f"{COUNTRY}.toml"
    a_scenario = load_scenario(path, {"population.citizens": CITIZENS})
    seed = a_scenario.seed if seed is None else seed  # the preset's seed, as the app runs it
    a = CryptoEconomy(a_scenario, seed=seed).run(months)
    b = CryptoEconomy(load_scenario(path, {"population.citizens": CITIZENS,
                                           "policy": other.policy.model_dump(mode="json"),
                                           "events": [e.model_dump(mode="json") for e in other.events]}),
                      seed=seed).run(months)
    return a, b


# -- the tests ---------------------------------------------------------------------------------
def test_compare_mode_draws_both_runs_on_one_price_path_offline(session, app_url, tmp_path):
    context, watch = session
    page = open_app(context, watch, app_url)
    wait_for_charts(page)
    page.wait_for_timeout(REDRAW_MS)
    before = {chart.test_id: colour_counts(page, chart.test_id, series_colours(chart)) for chart in CHARTS}
    step(page, 3)
    expect_text(page, "date", "2026-03")
    page.wait_for_timeout(REDRAW_MS)
    for chart in CHARTS:  # each chart drew lines and dots for its months (beyond its legend)
        after = colour_counts(page, chart.test_id, series_colours(chart))
        assert sum(after) > sum(before[chart.test_id]) + MIN_NEW_PIXELS, (chart.title, before[chart.test_id], after)
    assert value(page, "price-a") == value(page, "price-b")  # one world: the same price path
    expect_text(page, "in-force-a-regime", "ban")
    expect_text(page, "in-force-b-regime", "legal_tender")  # two policies
    a, b = direct_runs(3)
    assert value(page, "headline-wallets-a") == a["wallet_share"].iloc[-1]
    assert value(page, "headline-wallets-b") == b["wallet_share"].iloc[-1]
    citizens = colour_counts(page, "network-view", list(DIFFERENCE_COLOURS), plot_width=NETWORK_SIZE)
    assert sum(citizens) > CITIZENS * MIN_PIXELS_PER_CITIZEN, citizens  # the citizens' dots
    watch.check()

    # the screenshot for docs/viz.md, a year and more into the run (a short way when only testing)
    step(page, DOCS_MONTHS if os.environ.get(SCREENSHOT_ENV) else 1)
    wait_for_charts(page)
    screenshot(page, "viz_compare.png", tmp_path)


def test_the_difference_view_is_b_minus_a_of_direct_runs(session, app_url):
    context, watch = session
    page = open_app(context, watch, app_url)
    step(page, 4)
    page.get_by_role("button", name="B - A", exact=True).click()
    a, b = direct_runs(4)
    for chart in CHARTS:
        for series in chart.series:
            test_id = f"diff-{series.column}"
            page.get_by_test_id(test_id).wait_for(timeout=UPDATE_MS)
            expected = float(b[series.column].iloc[-1]) - float(a[series.column].iloc[-1])
            assert value(page, test_id) == expected, (chart.title, series.column)
    wait_for_charts(page)


def test_the_address_round_trips_a_comparison(session, app_url):
    context, watch = session
    page = open_app(context, watch, app_url, f"?preset=baseline&policy={COUNTRY}&citizens={CITIZENS}&seed=7"
                                             "&b.license_cap=3")
    expect_text(page, "in-force-b-licence-cap", "3")
    expect_text(page, "in-force-b-regime", "ban")
    expect_text(page, "seed", "7")
    assert text_input(page, 'Licence cap, farms ("none": no cap)').input_value() == "3"
    from playwright.sync_api import expect

    expect(page.get_by_test_id("pending")).to_have_count(0)
    commit_text(page, 'Licence cap, farms ("none": no cap)', "5")
    expect(page.get_by_test_id("pending")).to_contain_text("changes not applied", timeout=UPDATE_MS)  # beside Step
    expect_text(page, "in-force-b-licence-cap", "3")  # the runs as they were until Reset
    page.get_by_role("button", name="Reset", exact=True).click()
    expect_text(page, "in-force-b-licence-cap", "5")
    expect(page.get_by_test_id("pending")).to_have_count(0, timeout=UPDATE_MS)
    assert "b.license_cap=5" in page.url and "seed=7" in page.url
    shared = open_app(context, watch, page.url, "")  # the link, opened afresh
    expect_text(shared, "in-force-b-licence-cap", "5")
    expect_text(shared, "in-force-b-regime", "ban")
    expect_text(shared, "in-force-a-regime", "voluntary")
    expect_text(shared, "seed", "7")


def test_an_invalid_value_keeps_the_run_and_enables_reset_only_when_fixed(session, app_url):
    context, watch = session
    page = open_app(context, watch, app_url, f"?preset={COUNTRY}&citizens={CITIZENS}")
    step(page, 2)
    label = 'Licence cap, farms ("none": no cap)'
    commit_text(page, label, "-3")
    page.get_by_text("must be at least 0").wait_for(timeout=UPDATE_MS)  # beside the field
    reset = page.get_by_role("button", name="Reset", exact=True)
    assert reset.is_disabled()
    expect_text(page, "month", "2 of")  # the run goes on as it was
    expect_text(page, "in-force-b-licence-cap", "20")
    step(page, 1)
    commit_text(page, label, "4")
    from playwright.sync_api import expect

    expect(reset).to_be_enabled(timeout=UPDATE_MS)
    reset.click()
    expect_text(page, "month", "0 of")
    expect_text(page, "in-force-b-licence-cap", "4")
    expect_text(page, "in-force-a-licence-cap", "20")
    step(page, 1)


def test_a_batch_run_replays_live_as_it_was_stored(session, app, tmp_path):
    import pandas as pd

    from cryptoabm.viz.batch_view import open_results
    from playwright.sync_api import expect

    context, watch = session
    page = open_app(context, watch, app.url)
    page.get_by_role("tab", name="Batch results").click()
    page.get_by_test_id("batch-fan").locator("canvas.marks").wait_for(timeout=UPDATE_MS)
    expect(page.get_by_test_id("batch-differences")).to_contain_text("Paired differences", timeout=UPDATE_MS)
    results = open_results(app.results.resolve())
    series = page.get_by_test_id("batch-fan").get_attribute("data-series")
    medians = results.timeseries.groupby(["label", "month"])[series].median().unstack("label")
    assert (medians.max(axis=1) - medians.min(axis=1)).abs().max() > 0  # the first fan's arms part
    assert page.get_by_text("B's levers").count() == 0  # the batch tab holds no levers
    screenshot(page, "viz_batch.png", tmp_path)
    run_id = "licence_cap_5__p000__r001"
    page.get_by_test_id(f"run-{run_id}").get_by_role("button", name="Replay").click()
    expect_text(page, "run-name-b", f"B: {run_id}")
    expect_text(page, "header", f"Replaying batch run {run_id} (B) against licence_cap_20__p000__r001 (reference) (A)")
    expect(page.get_by_test_id("replay-names")).to_contain_text(run_id)
    assert f"replay={run_id}" in page.url
    page.get_by_role("button", name="Play", exact=True).click()
    expect_text(page, "month", "12 of 12")
    runs = pd.read_parquet(app.results / "runs.parquet").set_index("run_id")
    assert value(page, "headline-revenue-b") == pytest.approx(runs.loc[run_id, "total_state_revenue_usd"], rel=1e-12)
    assert value(page, "headline-fdi-a") == pytest.approx(runs.loc["licence_cap_20__p000__r001", "total_fdi_inflow_usd"],
                                                          rel=1e-12)
    assert value(page, "headline-wallets-b") == runs.loc[run_id, "final_wallet_share"]
    screenshot(page, "viz_replay.png", tmp_path)
    page.get_by_role("button", name="Back to presets").click()
    expect_text(page, "header", "Turkmenistan (2026): Law No. 298 (A) against VARA licensing (B)")


def test_the_first_page_compares_the_law_with_another_package_and_says_so(session, app_url, tmp_path):
    from playwright.sync_api import expect

    context, watch = session
    page = open_app(context, watch, app_url, "")
    expect_text(page, "header", "Turkmenistan (2026): Law No. 298 (A) against VARA licensing (B), seed 1, 2,000 citizens.")
    expect_text(page, "in-force-a-regime", "ban")
    expect_text(page, "in-force-b-regime", "fee_conversion")  # B is not A
    step(page, 2)
    differences = [value(page, f"headline-{key}-diff") for key in ("wallets", "hashrate", "revenue", "fdi", "fiscal-net", "national-gain")]
    assert any(difference != 0 for difference in differences), differences
    assert page.title() == "cryptoabm: crypto policy meets the economy"
    screenshot(page, "viz_compare_default.png", tmp_path)


def test_a_package_that_cannot_run_falls_back_and_the_marks_explain_the_lines(session, app_url, tmp_path):
    from playwright.sync_api import expect

    context, watch = session
    page = open_app(context, watch, app_url, f"?preset=car_2022&policy={OTHER_POLICY}&citizens={CITIZENS}")
    expect(page.get_by_test_id("notice")).to_contain_text("B cannot run The Bitcoin Law on this economy")
    expect_text(page, "header", "Central African Republic (2022): Bitcoin legal tender without a bonus (A) against "
                                "Bitcoin legal tender without a bonus (B)")
    expect(page.locator(".v-select", has=page.get_by_text("B: policy package"))).to_contain_text(
        "Bitcoin legal tender without a bonus")  # the picker shows what runs
    screenshot(page, "viz_fallback.png", tmp_path)
    page = open_app(context, watch, app_url, f"?preset={COUNTRY}&policy=kazakhstan_2021_record&citizens={CITIZENS}")
    from cryptoabm.viz.presets import presets

    law = presets()[COUNTRY].scenario
    package = load_package_months("kazakhstan_2021_record")
    for chart in CHARTS:
        marked = {int(m) for m in page.get_by_test_id(f"markers-{chart.test_id}").get_attribute("data-months").split(",")}
        assert law.market.months_to_next_halving in marked and package <= marked, (chart.test_id, marked)
    expect(page.get_by_test_id("markers-chart-mining")).to_contain_text("B: ")


def load_package_months(package: str) -> set[int]:
    from cryptoabm.config import read_toml

    raw = read_toml(ROOT / "configs" / "policies" / f"{package}.toml")[0]
    return {event["month"] for event in raw.get("events", [])}


def test_the_seeds_view_is_the_median_of_paired_runs_on_the_same_seeds(session, app_url, tmp_path):
    import numpy as np

    from playwright.sync_api import expect

    context, watch = session
    page = open_app(context, watch, app_url)
    page.get_by_role("tab", name="Over N seeds").click()
    commit_text(page, "Seeds", str(SEEDS))
    # the click reads the number the server has: wait until the edit has reached it
    expect(page.get_by_test_id("seeds-view")).to_have_attribute("data-seeds", str(SEEDS), timeout=UPDATE_MS)
    page.get_by_role("button", name="Run again with this many seeds").click()
    expect(page.get_by_test_id("seeds-done")).to_contain_text(f"{SEEDS} of {SEEDS} seeds", timeout=120_000)
    revenue, wallets = [], []
    for seed in range(1, SEEDS + 1):  # the page's seed (the preset's, 1) and the next ones
        a, b = direct_runs(None, seed)
        revenue.append(b["state_revenue_usd"].sum() - a["state_revenue_usd"].sum())
        wallets.append(b["wallet_share"].iloc[-1] - a["wallet_share"].iloc[-1])
    assert value(page, "seeds-median-revenue") == pytest.approx(float(np.median(revenue)), rel=1e-9)
    assert value(page, "seeds-median-wallets") == pytest.approx(float(np.median(wallets)), rel=1e-9, abs=1e-15)
    assert value(page, "seeds-p-wallets") == np.mean(np.array(wallets) > 0)
    page.get_by_test_id("seeds-chart-wallets").locator("canvas.marks").wait_for(timeout=UPDATE_MS)
    screenshot(page, "viz_seeds.png", tmp_path)


def test_play_runs_months_until_pause(session, app_url):
    context, watch = session
    page = open_app(context, watch, app_url)
    from playwright.sync_api import expect

    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_test_id("month")).not_to_have_text(re.compile(r"^[01] of"), timeout=UPDATE_MS)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=UPDATE_MS)
    page.wait_for_timeout(REDRAW_MS)
    paused_at = month(page)
    page.wait_for_timeout(PAUSE_CHECK_MS)
    assert month(page) == paused_at


def test_concurrent_sessions_are_isolated_and_the_server_logs_no_error(browser, app):
    """Several users at once: pages loading and stepping together, each with its own runs."""
    watch = Watch()
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(SESSIONS)]
    try:
        pages = []
        for context in contexts:
            context.route("**/*", watch.route)
            page = context.new_page()
            watch.attach(page)
            page.goto(app.url + COMPARE, wait_until="commit")  # all loading at once
            pages.append(page)
        for clicks in (1, 2):
            for page in pages[:clicks * SESSIONS // 2]:  # the first half steps twice, the rest once
                page.get_by_role("button", name="Step", exact=True).click(timeout=PAGE_LOAD_MS)
        for index, page in enumerate(pages):
            expect_text(page, "month", f"{2 if index < SESSIONS // 2 else 1} of")
        wait_for_charts(pages[-1])
    finally:
        for context in contexts:
            context.close()
    watch.check()
    assert app.errors() == []


def _status_with_host(url: str, host: str) -> int:
    import http.client

    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        connection.request("GET", "/", headers={"Host": host})
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_server_answers_only_local_host_headers(app_url):
    """DNS rebinding: a page whose own name resolves to 127.0.0.1 must not reach the app."""
    port = urlparse(app_url).port
    assert _status_with_host(app_url, f"localhost:{port}") == 200
    assert _status_with_host(app_url, f"127.0.0.1:{port}") == 200
    assert _status_with_host(app_url, f"[::1]:{port}") == 200
    assert _status_with_host(app_url, f"rebind.attacker.example:{port}") == 421
