"""Issue 23, item 1: the app accepts websockets and requests only from its own pages.

A handshake with ``Host: 127.0.0.1:PORT`` and ``Origin: http://evil.example`` got 101 and a
``kernel_info_reply``, and a page on another local port opened the socket in Chromium. Here the
middleware is checked directly, then end to end: the real server (``python -m cryptoabm viz``),
Debian's Chromium driven by playwright, and a page served from another port of this machine.
"""

from __future__ import annotations

import asyncio
import http.server
import subprocess
import sys
import threading
import time

import pytest

from cryptoabm.viz.server import LocalHostsOnly, allowed_host_names, same_origin
from tests.test_viz_browser import CHROMIUM_ARGS, MISSING, REQUIRE_BROWSER, ROOT, SERVER_START_S, _chromium, _free_port


def _request(app, headers: dict[str, str], kind: str = "http") -> list[dict]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request" if kind == "http" else "websocket.connect"}

    async def send(message):
        sent.append(message)

    scope = {"type": kind, "path": "/", "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(app(scope, receive, send))
    return sent


async def _ok_app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.parametrize("bind", ["127.0.0.1", "0.0.0.0"])
def test_the_issues_handshake_from_a_foreign_origin_is_refused(bind):
    app = LocalHostsOnly(_ok_app, allowed_host_names(bind))
    sent = _request(app, {"host": "127.0.0.1:8765", "origin": "http://evil.example"}, kind="websocket")
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert _request(app, {"host": "127.0.0.1:8765", "origin": "http://evil.example"})[0]["status"] == 403


@pytest.mark.parametrize(("origin", "allowed"), [
    ("http://127.0.0.1:8765", True), ("http://127.0.0.1:8766", False), ("http://localhost:8765", False),
    ("https://127.0.0.1:8765", True), ("null", False), ("file://", False), ("http://127.0.0.1:8765/x", False),
])
def test_only_the_apps_own_origin_is_its_own(origin, allowed):
    assert same_origin(origin, "127.0.0.1:8765") is allowed


def test_requests_without_an_origin_and_from_the_own_origin_are_answered():
    app = LocalHostsOnly(_ok_app, allowed_host_names("127.0.0.1"))
    assert _request(app, {"host": "127.0.0.1:8765"})[0]["status"] == 200
    assert _request(app, {"host": "127.0.0.1:8765", "origin": "http://127.0.0.1:8765"})[0]["status"] == 200


OPEN_SOCKET = """async (url) => await new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.onopen = () => { socket.close(); resolve("open"); };
    socket.onerror = () => resolve("refused");
    setTimeout(() => resolve("timeout"), 15000);
})"""


@pytest.fixture(scope="module")
def app_port():
    if MISSING is not None:
        if REQUIRE_BROWSER:
            pytest.fail(f"CRYPTOABM_REQUIRE_BROWSER=1 but the browser tests cannot run: {MISSING}")
        pytest.skip(f"browser tests skipped: {MISSING}")
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "cryptoabm", "viz", "--host", "127.0.0.1", "--port", str(port),
                                "--configs", str(ROOT / "configs")], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    printed: list[str] = []
    threading.Thread(target=lambda: printed.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + SERVER_START_S
    while not any(f":{port}/" in line for line in printed):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the app did not start:\n" + "".join(printed))
        time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def other_site():
    """A page served from another port of this machine (another origin)."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            body = b"<!doctype html><title>another site</title><p>another site</p>"
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_a_page_from_another_origin_cannot_open_the_apps_websocket(app_port, other_site):
    from playwright.sync_api import sync_playwright

    socket_url = f"ws://127.0.0.1:{app_port}/jupyter/api/kernels/probe-kernel/channels?session_id=probe"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(other_site)
            assert page.evaluate(OPEN_SOCKET, socket_url) == "refused"
            page.goto(f"http://127.0.0.1:{app_port}/")  # the app's own page may (the control)
            assert page.evaluate(OPEN_SOCKET, socket_url) == "open"
        finally:
            browser.close()
