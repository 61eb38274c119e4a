"""Issue 10: the browser app answers only local Host headers, and its levers refuse values
beyond their controls (called directly, not only through the sliders)."""

from __future__ import annotations

import asyncio

import pytest

from cryptoabm.viz.server import LocalHostsOnly, allowed_host_names, host_name


def _request(app, host: str, kind: str = "http") -> list[dict]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request" if kind == "http" else "websocket.connect"}

    async def send(message):
        sent.append(message)

    scope = {"type": kind, "headers": [(b"host", host.encode())], "path": "/"}
    asyncio.run(app(scope, receive, send))
    return sent


async def _ok_app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.parametrize(("host", "status"), [
    ("localhost:8765", 200), ("127.0.0.1:8765", 200), ("[::1]:8765", 200), ("LOCALHOST", 200),
    ("rebind.attacker.example:8765", 421), ("127.0.0.1.nip.io:8765", 421), ("", 421),
])
def test_only_local_host_headers_are_answered_on_loopback(host, status):
    app = LocalHostsOnly(_ok_app, allowed_host_names("127.0.0.1"))
    assert _request(app, host)[0]["status"] == status


def test_a_websocket_with_a_foreign_host_is_closed():
    app = LocalHostsOnly(_ok_app, allowed_host_names("127.0.0.1"))
    assert _request(app, "evil.example", kind="websocket") == [{"type": "websocket.close", "code": 1008}]


def test_host_option_adds_its_name_and_a_wildcard_bind_answers_any():
    assert "10.0.0.5" in allowed_host_names("10.0.0.5") and "localhost" in allowed_host_names("10.0.0.5")
    assert allowed_host_names("0.0.0.0") is None and allowed_host_names("::") is None
    assert host_name("[::1]:8765") == "::1" and host_name("Example.org:80") == "example.org"


@pytest.mark.parametrize(("key", "value", "words"), [
    ("citizens", 1_000_000, "citizens must be a whole number from 100 to 10,000"),
    ("b.bonus_budget_musd", 1e303, "must be at most 500"),
    ("b.license_cap", 10**12, "must be at most 100000"),
])
def test_levers_refuse_values_beyond_their_controls_when_called_directly(key, value, words):
    from urllib.parse import urlencode

    from cryptoabm.viz.compare import ComparisonRequest, build_comparison, request_from_query
    from cryptoabm.viz.levers import DEFAULT_CITIZENS
    from cryptoabm.viz.presets import policy_packages, presets

    available = presets()
    request, problems = request_from_query(urlencode({key: value}), available, set(policy_packages()), "baseline",
                                           "dubai_vara")
    assert any(words in problem for problem in problems), problems
    assert request.levers == {} and request.citizens == DEFAULT_CITIZENS  # never reaches a model
    if key.startswith("b."):  # built directly, the comparison refuses it too
        with pytest.raises(ValueError, match=words):
            build_comparison(ComparisonRequest("baseline", "", {key[2:]: value}), available)
