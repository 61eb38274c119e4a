"""How fast the browser app answers Step and Play (on the server), draws after a click (in the
browser), and completes its "over N seeds" view.

    python benchmarks/viz.py                     # 2,000 and 10,000 citizens: everything below
    python benchmarks/viz.py --citizens 2000 --steps 10 --no-browser
    PYTHONPATH=/tmp/old/src python benchmarks/viz.py   # the same measurement of another checkout's app

The page is rendered in this process with ``solara.render`` (Solara's test renderer: the same
components, hooks and widgets as under the server, without a browser), with the preset
``turkmenistan_2026``. Then:

- **Step**: the Step button is clicked ``--steps`` times; each click is timed from the click to
  the end of the re-render it causes (the model's month and every widget update the page
  sends). The median and the slowest are printed, in milliseconds.
- **Play**: Play is clicked, and after ``--play-seconds`` the number of months the page shows
  is read: months per second, as the page shows them.
- **Sessions** (``--sessions N``, 0 to skip): N pages rendered at once, each stepped
  ``--session-steps`` times from its own thread, all together; every exception a render raises
  is counted and its first line printed (issue 13 saw Solara's Altair component raise
  ``KeyError`` under 20 concurrent sessions: a renderer setting shared by the whole process).

- **Click to chart** (``--browser-steps``, skipped with ``--no-browser``): the app served as
  users start it (``python -m cryptoabm viz``) and opened in Debian's Chromium (playwright);
  each Step click is timed until the power-grid chart's canvas has changed (it gains a month
  every Step): the server's work, the websocket message and Vega's redraw.
- **Seeds view** (``--seeds``, 0 to skip; needs the app's seeds view): A and B of the preset on
  N seeds to the horizon on the worker pool the server starts (one worker per core), from
  submission to the last seed's result; the pool's start-up is timed apart.

Targets (issue 13): Step under 100 ms at 2,000 citizens; Play at least 5 months a second.
Target (issue 21): the seeds view, 20 seeds x 2 arms x 60 months at 2,000 citizens, within
10 s on 2 cores.
The script also measures the app as it was before issue 13 (Mesa's SolaraViz page), when that
app's source is first on the path: it then sets the population through that app's default.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

import ipyvuetify as v
import ipywidgets
import solara
import solara.routing

PRESET = "turkmenistan_2026"
MONTH = re.compile(r'data-testid="month">(\d+) of')


def rendered_month(root: ipywidgets.Widget) -> int:
    """The month the page shows (the headline's ``month`` figure)."""
    for widget in _widgets(root):
        html = getattr(widget, "unsafe_innerHTML", None) or getattr(widget, "value", None)
        if isinstance(html, str):
            found = MONTH.search(html)
            if found:
                return int(found.group(1))
    raise LookupError("no month shown in the page")


def _widgets(root: ipywidgets.Widget):
    """Every widget reachable from ``root`` through its traits (children, slots, grid items)."""
    seen, stack = set(), [root]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
            continue
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        if not isinstance(item, ipywidgets.Widget) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for name in item.keys:
            value = getattr(item, name, None)
            if isinstance(value, (ipywidgets.Widget, list, tuple, dict)):
                stack.append(value)


def button(root: ipywidgets.Widget, *labels: str) -> v.Btn:
    for widget in _widgets(root):
        if isinstance(widget, v.Btn) and any(label in widget.children for label in labels):
            return widget
    raise LookupError(f"no button {labels}")


def render_app(citizens: int):
    """The app's page, rendered here; the old app (SolaraViz) or the new one (compare mode)."""
    from cryptoabm.viz import app

    if hasattr(app, "Dashboard"):  # the app before issue 13: its population is VizEconomy's default
        from cryptoabm.viz import economy

        defaults = list(economy.VizEconomy.__init__.__defaults__)
        defaults[-2] = citizens  # (..., citizens, seed)
        economy.VizEconomy.__init__.__defaults__ = tuple(defaults)
        return solara.render(app.Page(), handle_error=False)

    @solara.component
    def Routed():
        location = solara.use_reactive(f"/?preset={PRESET}&policy={PRESET}&citizens={citizens}")
        solara.routing.router_context.provide(solara.routing.Router(location.value, [], location.set))
        return app.Page()

    return solara.render(Routed(), handle_error=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, nargs="+", default=[2_000, 10_000])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--play-seconds", type=float, default=5.0)
    parser.add_argument("--browser-steps", type=int, default=10)
    parser.add_argument("--no-browser", action="store_true", help="skip click to chart")
    parser.add_argument("--seeds", type=int, default=20, help="seeds of the seeds view (0: skip)")
    parser.add_argument("--seeds-citizens", type=int, default=2_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--session-steps", type=int, default=5)
    parser.add_argument("--session-citizens", type=int, default=300)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} at the start")
    for citizens in args.citizens:
        server_side(citizens, args.steps, args.play_seconds)
    if not args.no_browser:
        for citizens in args.citizens:
            click_to_chart(citizens, args.browser_steps)
    if args.seeds:
        seeds_view(args.seeds, args.seeds_citizens)
    if args.sessions:
        concurrent_sessions(args.sessions, args.session_steps, args.session_citizens)


def server_side(citizens: int, steps: int, play_seconds: float) -> None:
    """Step and Play, timed on the server (the page rendered in this process)."""
    started = time.perf_counter()
    root, _ = render_app(citizens)
    print(f"page rendered in {time.perf_counter() - started:.2f} s ({citizens:,} citizens)")
    step = button(root, "Step")
    times = []
    for _ in range(steps):
        before = rendered_month(root)
        clicked = time.perf_counter()
        step.click()
        times.append((time.perf_counter() - clicked) * 1000)
        assert rendered_month(root) == before + 1, "Step did not advance the month"
    print(f"Step at {citizens:,} citizens: median {statistics.median(times):.0f} ms, slowest {max(times):.0f} ms "
          f"(server time per click, {steps} clicks, months {before + 1 - steps + 1}-{before + 1})")

    start_month = rendered_month(root)
    button(root, "Play", "▶").click()
    started = time.perf_counter()
    while time.perf_counter() - started < play_seconds:
        time.sleep(0.1)
        try:
            button(root, "Pause", "❚❚")
        except LookupError:  # Play reached the horizon and gave the Play button back
            break
    elapsed = time.perf_counter() - started
    played = rendered_month(root) - start_month
    try:
        button(root, "Pause", "❚❚").click()
    except LookupError:
        pass
    time.sleep(1.0)  # let the play loop see the pause before the interpreter exits
    print(f"Play at {citizens:,} citizens: {played / elapsed:.1f} months/s ({played} months in {elapsed:.1f} s)")


CANVAS_SUM = """
    const canvas = element.querySelector('canvas.marks');
    if (!canvas) return -1;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < pixels.length; i += 16) sum = (sum + pixels[i] * (i % 251 + 1)) % 1000000007;
"""
CANVAS_SUM_JS = "(element) => {" + CANVAS_SUM + "return sum; }"  # a checksum of a chart's pixels
CHANGED_JS = "([element, before]) => {" + CANVAS_SUM + "return sum !== before; }"  # whether it has changed


def click_to_chart(citizens: int, steps: int) -> None:
    """Step clicks in Chromium, each timed until the power-grid chart has redrawn."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Click to chart: skipped (playwright is not installed)")
        return
    chromium = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)
    if chromium is None:
        print("Click to chart: skipped (no Chromium)")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "cryptoabm", "viz", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    printed: list[str] = []
    announced = threading.Event()

    def drain() -> None:  # the server's output, read all along (a full pipe would block it)
        assert server.stdout is not None
        for line in server.stdout:
            printed.append(line)
            if "open http" in line:
                announced.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not announced.wait(120):
            print("Click to chart: the app did not start: " + "".join(printed)[-500:])
            return
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                                 args=["--headless=new", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            page.goto(f"http://127.0.0.1:{port}/?preset={PRESET}&policy={PRESET}&citizens={citizens}")
            stepper = page.get_by_role("button", name="Step", exact=True)
            stepper.wait_for(timeout=120_000)
            chart = page.get_by_test_id("chart-grid")
            chart.locator("canvas.marks").wait_for(timeout=120_000)
            page.wait_for_timeout(1_000)
            times = []
            for _ in range(steps):
                element = chart.element_handle()
                before = page.evaluate(CANVAS_SUM_JS, element)
                clicked = time.perf_counter()
                stepper.click()
                page.wait_for_function(CHANGED_JS, arg=[element, before], polling="raf", timeout=60_000)
                times.append((time.perf_counter() - clicked) * 1000)
                page.wait_for_timeout(200)
            browser.close()
        print(f"Click to chart at {citizens:,} citizens: median {statistics.median(times):.0f} ms, "
              f"slowest {max(times):.0f} ms (Chromium, {steps} Steps, until the grid chart redrew)")
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            print("Click to chart: the app took over 60 s to stop; killed")


def seeds_view(seeds: int, citizens: int) -> None:
    """The seeds view's runs: A (the preset) and B (Dubai's package on its economy) on ``seeds`` seeds."""
    try:
        from cryptoabm.viz import seeds as seeds_module
    except ImportError:
        print("Seeds view: skipped (this app has no seeds view)")
        return
    from cryptoabm.viz.compare import ComparisonRequest, build_comparison
    from cryptoabm.viz.headline import comparison_figures
    from cryptoabm.viz.presets import presets

    pair = build_comparison(ComparisonRequest(PRESET, "dubai_vara", {}, citizens, None), presets())
    started = time.perf_counter()
    seeds_module.shared_pool()
    pool_start = time.perf_counter() - started
    run = seeds_module.SeedsRun(pair.a.config, pair.b.config, seeds_module.seeds_for(pair.seed, seeds),
                                comparison_figures(pair))
    started = time.perf_counter()
    run.start()
    while not run.complete:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    seeds_module.stop_shared_pool()
    print(f"Seeds view: {seeds} seeds x 2 arms x {pair.months} months at {citizens:,} citizens in {elapsed:.1f} s "
          f"on {os.cpu_count()} workers ({len(run.failed)} failed; the pool started in {pool_start:.1f} s before)")


def concurrent_sessions(sessions: int, steps: int, citizens: int) -> None:
    """``sessions`` pages stepped at once, each from its own thread; prints the errors raised."""
    roots = [render_app(citizens)[0] for _ in range(sessions)]
    errors: list[str] = []
    start = threading.Barrier(sessions)

    def drive(root) -> None:
        start.wait()
        for _ in range(steps):
            try:
                button(root, "Step").click()
            except Exception as exc:  # noqa: BLE001 - counted and shown: what the benchmark looks for
                errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
    threads = [threading.Thread(target=drive, args=(root,)) for root in roots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    months = [rendered_month(root) for root in roots]
    print(f"Sessions: {sessions} at once, {steps} Steps each: {len(errors)} errors"
          + (f" (first: {errors[0]})" if errors else "")
          + f"; months shown {min(months)}-{max(months)} (each should be {steps})")


if __name__ == "__main__":
    main()
