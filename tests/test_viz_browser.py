"""The browser app end to end: the real server, a real headless Chromium, no internet.

The server is started as users start it (``python -m cryptoabm.viz --host 127.0.0.1 --port N``)
on a free loopback port. Chromium is Debian's ``chromium`` package driven by Python playwright
(no browser download). Every request that is not for loopback is blocked and fails the test, as
does any console error, page error or HTTP error response. The first test takes the
screenshot the documentation shows, into a temporary folder; to regenerate the docs image:

    CRYPTOABM_SCREENSHOT=docs/viz_screenshot.png python -m pytest tests/test_viz_browser.py -k step_three_times

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
SCREENSHOT_ENV = "CRYPTOABM_SCREENSHOT"  # where to save the screenshot (default: a temporary folder)
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
CITIZENS_DRAWN = 500  # the app's default population, drawn one by one
DOCS_PRESET, DOCS_MONTHS = "el_salvador_2021", 14  # a lively run for the screenshot
CHART_IDS = ("network-view", "chart-adoption", "chart-mining", "chart-grid", "chart-money")
NETWORK_SIZE = 320  # CSS pixels from the canvas's left edge that hold the drawing (the legend is to its right)
MIN_PIXELS_PER_CITIZEN = 5  # a dot covers about 28 square pixels; many overlap
MIN_NEW_PIXELS = 20  # three months of lines and dots add far more than this
REDRAW_MS = 1_000  # Vega redraws after a short debounce
PAUSE_CHECK_MS = 2_000  # several play intervals: a paused run must not move in this time


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
    from cryptoabm.viz.network_view import STATE_COLOURS


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


@pytest.fixture(scope="module")
def app_url():
    """The app served by `python -m cryptoabm.viz` on a free loopback port."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cryptoabm", "viz", "--host", "127.0.0.1", "--port", str(port),
         "--configs", str(ROOT / "configs")],
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
    yield url
    process.terminate()
    process.wait(timeout=30)
    reader.join(timeout=5)
    assert process.returncode == 0, "".join(printed)
    assert "stopped" in "".join(printed)


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


def open_app(context, watch, url):
    page = context.new_page()
    watch.attach(page)
    page.goto(url)
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=PAGE_LOAD_MS)
    expect_text(page, "month", "0 of")
    return page


def expect_text(page, test_id: str, start: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_test_id(test_id)).to_have_text(re.compile("^" + re.escape(start)), timeout=UPDATE_MS)


def step(page, times: int = 1) -> None:
    """Press Step, waiting each time for the month to move on."""
    for _ in range(times):
        month = int(page.get_by_test_id("month").inner_text().split()[0])
        page.get_by_role("button", name="Step", exact=True).click()
        expect_text(page, "month", f"{month + 1} of")


def commit_text(page, label: str, text: str) -> None:
    field = page.get_by_label(label)
    field.fill(text)
    field.press("Enter")


def reset(page) -> None:
    page.get_by_role("button", name="Reset", exact=True).click()
    expect_text(page, "month", "0 of")


def wait_for_charts(page) -> None:
    """Until the network and every chart have drawn (Vega draws on a canvas)."""
    for test_id in CHART_IDS:
        page.get_by_test_id(test_id).locator("canvas.marks").wait_for(timeout=UPDATE_MS)


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
# The page position of the first pixel of exactly one colour on the canvas (left of plotWidth), or null.
FIND_COLOUR_JS = """([element, hex, plotWidth]) => {
    const canvas = element.querySelector('canvas.marks');
    const scale = canvas.width / canvas.clientWidth;
    const width = Math.min(canvas.width, Math.round(plotWidth * scale));
    const pixels = canvas.getContext('2d').getImageData(0, 0, width, canvas.height).data;
    const [r, g, b] = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
    for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] === 255 && pixels[i] === r && pixels[i + 1] === g && pixels[i + 2] === b) {
            const box = canvas.getBoundingClientRect();
            const x = (i / 4) % width, y = Math.floor(i / 4 / width);
            return [box.left + (x + 1) / scale, box.top + (y + 1) / scale];
        }
    }
    return null;
}"""


def colour_counts(page, test_id: str, colours: list[str], plot_width: int | None = None) -> list[int]:
    element = page.get_by_test_id(test_id).element_handle()
    return page.evaluate(COUNT_COLOURS_JS, [element, colours, plot_width])


def series_colours(chart) -> list[str]:
    return [series.colour for series in chart.series]


def hover_a_citizen(page) -> None:
    """Point at a citizen's dot and read the tooltip."""
    from playwright.sync_api import expect

    element = page.get_by_test_id("network-view").element_handle()
    spot = page.evaluate(FIND_COLOUR_JS, [element, STATE_COLOURS[0], NETWORK_SIZE])
    assert spot is not None, "no citizen drawn"
    page.mouse.move(*spot)
    tooltip = page.locator("#vg-tooltip-element")
    expect(tooltip).to_contain_text("Citizen", timeout=UPDATE_MS)
    expect(tooltip).to_contain_text("Wallet")


def pick_preset(page, name: str) -> None:
    page.locator(".cryptoabm-scenario .v-select").click()
    page.get_by_role("option", name=name, exact=True).click()
    expect_text(page, "in-force-preset", name)
    expect_text(page, "month", "0 of")


# -- the tests ---------------------------------------------------------------------------------
def test_step_three_times_with_charts_and_network_drawn_offline(session, app_url, tmp_path):
    context, watch = session
    page = open_app(context, watch, app_url)
    wait_for_charts(page)
    page.wait_for_timeout(REDRAW_MS)
    before = {chart.test_id: colour_counts(page, chart.test_id, series_colours(chart)) for chart in CHARTS}
    step(page, 3)
    expect_text(page, "date", "2026-03")
    wait_for_charts(page)
    page.wait_for_timeout(REDRAW_MS)
    for chart in CHARTS:  # each chart drew lines and dots for its months (beyond its legend)
        after = colour_counts(page, chart.test_id, series_colours(chart))
        assert sum(after) > sum(before[chart.test_id]) + MIN_NEW_PIXELS, (chart.title, before[chart.test_id], after)

    citizens = colour_counts(page, "network-view", list(STATE_COLOURS), plot_width=NETWORK_SIZE)
    assert sum(citizens) > CITIZENS_DRAWN * MIN_PIXELS_PER_CITIZEN, citizens  # the citizens' dots
    hover_a_citizen(page)
    watch.check()

    # the screenshot for docs/viz.md: a lively preset, a year and more into the run
    pick_preset(page, DOCS_PRESET)
    step(page, DOCS_MONTHS)
    wait_for_charts(page)
    page.mouse.move(0, 0)
    page.wait_for_timeout(REDRAW_MS)
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "viz_screenshot.png")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 50_000


def test_reset_puts_a_changed_licence_cap_into_effect(session, app_url):
    context, watch = session
    page = open_app(context, watch, app_url)
    expect_text(page, "in-force-licence-cap", "20")
    commit_text(page, 'Licence cap (farms at once; "none": no cap)', "3")
    reset(page)
    expect_text(page, "in-force-licence-cap", "3")
    step(page, 3)
    licences = page.get_by_test_id("licences").inner_text()
    assert "(cap 3)" in licences and int(licences.split()[0]) <= 3


def test_a_second_tab_runs_its_own_model(session, app_url):
    context, watch = session
    first = open_app(context, watch, app_url)
    step(first, 2)
    second = open_app(context, watch, app_url)  # same browser, same cookie: a second tab
    expect_text(second, "month", "0 of")
    commit_text(second, 'Licence cap (farms at once; "none": no cap)', "5")
    reset(second)
    step(second, 1)
    expect_text(first, "month", "2 of")
    expect_text(first, "in-force-licence-cap", "20")
    step(first, 1)
    expect_text(second, "month", "1 of")
    expect_text(second, "in-force-licence-cap", "5")


def test_an_invalid_seed_is_reported_in_the_page(session, app_url):
    context, watch = session
    page = open_app(context, watch, app_url)
    commit_text(page, "Seed (a whole number)", "1.5")
    page.get_by_role("button", name="Reset", exact=True).click()
    alert = page.get_by_role("alert").filter(has_text="Seed: must be a whole number")
    alert.wait_for(timeout=UPDATE_MS)
    commit_text(page, "Seed (a whole number)", "7")
    reset(page)
    expect_text(page, "in-force-seed", "7")
    assert page.get_by_role("alert").filter(has_text="Seed").count() == 0
    step(page, 1)


def test_picking_a_preset_loads_its_levers(session, app_url):
    context, watch = session
    page = open_app(context, watch, app_url)
    pick_preset(page, "el_salvador_2021")
    expect_text(page, "in-force-regime", "legal_tender")
    bonus = page.locator(".v-input__slider", has_text="Wallet bonus per new adopter").get_by_role("slider")
    assert bonus.get_attribute("aria-valuenow") == "30"
    assert page.get_by_label('Licence cap (farms at once; "none": no cap)').input_value() == "none"
    reset(page)  # Reset keeps the picked preset
    expect_text(page, "in-force-preset", "el_salvador_2021")
    expect_text(page, "in-force-regime", "legal_tender")
    step(page, 1)


def test_play_runs_months_until_pause(session, app_url):
    context, watch = session
    page = open_app(context, watch, app_url)
    page.get_by_role("button", name="▶", exact=True).click()
    expect_text(page, "month", "2 of")
    page.get_by_role("button", name="❚❚", exact=True).click()
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=UPDATE_MS)
    page.wait_for_timeout(REDRAW_MS)
    paused_at = page.get_by_test_id("month").inner_text()
    page.wait_for_timeout(PAUSE_CHECK_MS)
    assert page.get_by_test_id("month").inner_text() == paused_at


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
