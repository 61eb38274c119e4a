"""How fast the browser app answers Step and Play, measured on the server side.

    python benchmarks/viz.py                     # 2,000 citizens, 20 Steps, 5 s of Play
    python benchmarks/viz.py --citizens 10000 --steps 10
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

Browser-side drawing is not included (Vega draws in the browser after the server's message).
Targets (issue 13): Step under 100 ms at 2,000 citizens; Play at least 5 months a second.
The script also measures the app as it was before issue 13 (Mesa's SolaraViz page), when that
app's source is first on the path: it then sets the population through that app's default.
"""

from __future__ import annotations

import argparse
import re
import statistics
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
    parser.add_argument("--citizens", type=int, default=2_000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--play-seconds", type=float, default=5.0)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--session-steps", type=int, default=5)
    parser.add_argument("--session-citizens", type=int, default=300)
    args = parser.parse_args()

    started = time.perf_counter()
    root, _ = render_app(args.citizens)
    print(f"page rendered in {time.perf_counter() - started:.2f} s ({args.citizens:,} citizens)")
    step = button(root, "Step")
    times = []
    for _ in range(args.steps):
        before = rendered_month(root)
        clicked = time.perf_counter()
        step.click()
        times.append((time.perf_counter() - clicked) * 1000)
        assert rendered_month(root) == before + 1, "Step did not advance the month"
    print(f"Step: median {statistics.median(times):.0f} ms, slowest {max(times):.0f} ms "
          f"(server time per click, {args.steps} clicks, months {before + 1 - args.steps + 1}-{before + 1})")

    start_month = rendered_month(root)
    button(root, "Play", "▶").click()
    time.sleep(args.play_seconds)
    played = rendered_month(root) - start_month
    button(root, "Pause", "❚❚").click()
    time.sleep(1.0)  # let the play loop see the pause before the interpreter exits
    print(f"Play: {played / args.play_seconds:.1f} months/s ({played} months in {args.play_seconds:.0f} s)")
    if args.sessions:
        concurrent_sessions(args.sessions, args.session_steps, args.session_citizens)


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
