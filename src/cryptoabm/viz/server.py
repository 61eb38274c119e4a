"""Start the browser app: ``serve(host, port)`` prints the address and blocks until Ctrl-C.

The app is a Solara page (``cryptoabm.viz.app``) served by uvicorn, with Solara's front-end
assets served from this machine (:mod:`cryptoabm.viz.offline`). It binds to loopback unless
told otherwise: anyone who can reach the port can run the model.

Every request's Host header is checked (:class:`LocalHostsOnly`): only localhost,
127.0.0.1 and [::1] are answered, plus the address given to ``--host``. Otherwise a web page
elsewhere could reach the loopback server through DNS rebinding (its own name resolving to
127.0.0.1). With ``--host 0.0.0.0`` (or ``::``) the app is meant to be reached under any name,
and any Host is answered.

Every request's Origin header, when a browser sends one, must be the app's own (the scheme
``http`` and the very host and port of the Host header), whatever the bind: otherwise a page
from another site, or from another port of this machine, could open the app's websocket from
the user's browser, drive the app and read what it shows. A request without an Origin (a
navigation, a command-line client) is answered as before.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit

from cryptoabm.viz import DEFAULT_HOST, DEFAULT_PORT

APP_MODULE = "cryptoabm.viz.app"
PAGE_TITLE = "cryptoabm: crypto policy meets the economy"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
MAX_PORT = 65_535
EXIT_OK, EXIT_UNAVAILABLE, EXIT_BAD_INPUT = 0, 1, 2
VIZ_EXTRA_HINT = "the browser app needs the optional extra: pip install 'cryptoabm[viz]'"


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, configs: str | Path | None = None,
          results: str | Path | None = None) -> int:
    """Serve the app on ``host:port`` (port 0: any free port) until Ctrl-C; returns an exit code.

    ``configs`` is the folder of scenario presets (default: the repository's ``configs/``); it
    is handed to the app through ``$CRYPTOABM_CONFIGS`` (the app runs in this process).
    ``results`` is a finished batch's folder to explore (``$CRYPTOABM_RESULTS``), checked
    before the server starts. Problems (missing extra, no presets, not a finished batch, port
    taken) are one line on standard error.
    """
    if not 0 <= port <= MAX_PORT:
        return _fail(f"--port must be between 0 and {MAX_PORT}, got {port}", EXIT_BAD_INPUT)
    try:
        import altair  # noqa: F401
        import solara  # noqa: F401
        import uvicorn  # noqa: F401  (the viz extra: solara, altair, uvicorn)
    except ImportError as exc:
        return _fail(f"{VIZ_EXTRA_HINT} ({exc})", EXIT_UNAVAILABLE)
    problem = _check_presets(configs) or _check_results(results)
    if problem:
        return _fail(problem, EXIT_BAD_INPUT)
    try:
        port = _claimable_port(host, port)
    except OSError as exc:
        return _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_UNAVAILABLE)

    from cryptoabm.viz import offline

    try:
        assets = offline.prepare(APP_MODULE, PAGE_TITLE)
    except offline.AssetsMissing as exc:
        return _fail(str(exc), EXIT_UNAVAILABLE)
    from cryptoabm.viz import seeds

    seeds.shared_pool()  # the "over N seeds" workers, started from this (the main) thread
    try:
        _run_until_interrupted(host, port)
    finally:
        seeds.stop_shared_pool()
        offline.cleanup(assets)
    return EXIT_OK


def address(host: str, port: int) -> str:
    """The URL to open in a browser."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def allowed_host_names(host: str) -> frozenset[str] | None:
    """Host header names the app answers when bound to ``host`` (None: any, for a wildcard bind)."""
    if host in WILDCARD_HOSTS:
        return None
    return frozenset({*LOOPBACK_HOSTS, host.strip("[]").lower()})


def host_name(header: str) -> str:
    """The name in a Host header, without its port: 'localhost:8765' -> 'localhost', '[::1]:80' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def same_origin(origin: str, host_header: str) -> bool:
    """Whether an Origin header names the app itself: http (or https) and exactly the host and
    port the request was sent to (its Host header). "null" (a sandboxed or local file) never does."""
    parsed = urlsplit(origin.strip().lower())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path not in ("", "/"):
        return False
    default_port = ":80" if parsed.scheme == "http" else ":443"
    return parsed.netloc.removesuffix(default_port) == host_header.strip().lower().removesuffix(default_port)


class LocalHostsOnly:
    """ASGI middleware: refuse any HTTP request or websocket whose Host header is not allowed,
    or whose Origin header (if any) is not the app's own."""

    def __init__(self, app, allowed: frozenset[str] | None):
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        origin = headers.get(b"origin")
        if self.allowed is not None and host_name(host) not in self.allowed:
            status, body = 421, b"Host not allowed: open the app as http://localhost:<port>/ or http://127.0.0.1:<port>/\n"
        elif origin is not None and not same_origin(origin.decode("latin-1"), host):
            status, body = 403, b"Origin not allowed: the app answers only its own pages\n"
        else:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _check_presets(configs: str | Path | None) -> str | None:
    from cryptoabm.viz.presets import CONFIGS_ENV, configs_dir, presets

    if configs is not None:
        os.environ[CONFIGS_ENV] = str(Path(configs).resolve())
    if not presets():
        return f"no scenario presets (*.toml) in {configs_dir()}; pass --configs DIR"
    return None


def _check_results(results: str | Path | None) -> str | None:
    from cryptoabm.viz.batch_view import RESULTS_ENV, check_results_folder

    if results is None:
        os.environ.pop(RESULTS_ENV, None)
        return None
    folder = Path(results).resolve()
    problem = check_results_folder(folder)
    if problem is None:
        os.environ[RESULTS_ENV] = str(folder)
    return problem


def _claimable_port(host: str, port: int) -> int:
    """``port``, or a free one if it is 0, after checking that it can be bound now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        return probe.getsockname()[1]


def _run_until_interrupted(host: str, port: int) -> None:
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        """uvicorn's server, printing the address once it is listening."""

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                exposed = "" if host in LOOPBACK_HOSTS else "  (reachable from other machines)"
                print(f"cryptoabm viz: open {address(host, port)} in a browser; Ctrl-C stops{exposed}", flush=True)

    # Solara warns on every page load over plain http that it cannot set an iframe-friendly
    # cookie; the app is not embedded in iframes, so the warning is noise in the terminal.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    from solara.server.starlette import app as solara_app

    config = uvicorn.Config(LocalHostsOnly(solara_app, allowed_host_names(host)), host=host, port=port,
                            log_level="warning", access_log=False)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a clean stop on SIGTERM too
    try:
        AnnouncingServer(config).run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("cryptoabm viz: stopped", flush=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _fail(message: str, code: int) -> int:
    print(f"cryptoabm viz: error: {message}", file=sys.stderr)
    return code
