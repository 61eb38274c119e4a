"""Two runs of the same world under two policies, stepped in lockstep: what the app compares.

A comparison is two ``CryptoEconomy`` models, A and B, built from two scenarios that differ
only in their policy, with the same seed. Every random stream is derived from the seed
(:mod:`cryptoabm.streams`), one stream per process, so A and B draw the same price path, the
same population and the same network (common random numbers): what differs between them is
caused by the policy, not by luck.

B's policy is a *policy package*: a preset is a country under a package
(``configs/policies/``), and B takes a package from that folder, its ``[policy]`` levers and
its policy measures (events of the kinds ``config.POLICY_EVENT_KINDS``), into A's country by
:func:`with_policy`. A's own events of the world and the economy (a relocation wave, an
internet shutdown: ``config.COUNTRY_EVENT_KINDS``) stay in B, so both runs meet the same
world. Then, if the user moved a lever, the levers as dotted overrides.

:class:`ComparisonRequest` is what a user asks for (preset, B's policy source, B's levers,
citizens, seed). It round-trips through a URL query string (:meth:`ComparisonRequest.to_query`
and :func:`request_from_query`), so a comparison can be shared as a link.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cryptoabm.config import (
    COUNTRIES_FOLDER,
    COUNTRY_EVENT_KINDS,
    POLICY_EVENT_KINDS,
    ConfigError,
    Scenario,
    load_composition,
    scenario_from_dict,
)
from cryptoabm.config import _set_dotted as set_dotted
from cryptoabm.model import INDICATOR_NAMES, CryptoEconomy
from cryptoabm.viz.levers import (
    CITIZENS_MAX,
    CITIZENS_MIN,
    DEFAULT_CITIZENS,
    LEVERS_BY_NAME,
    SEED_PARAM,
    parse_seed,
)
from cryptoabm.viz.presets import PolicyPackage, Preset

RUN_A, RUN_B = "A", "B"
LEVER_PREFIX = "b."  # query keys of B's levers: b.license_cap=3
QUERY_PRESET, QUERY_POLICY, QUERY_CITIZENS = "preset", "policy", "citizens"
CITIZENS_KEY = "population.citizens"
OWN_POLICY = ""  # B's policy source for a preset that is not a composition: A's own policy
ANY_HORIZON = 1_200  # months: the longest run a config allows, so that any package's events fit


def policy_package(scenario: Scenario) -> dict[str, Any]:
    """A preset's policy package, as plain data: its ``[policy]`` levers and its policy measures
    (the events of ``POLICY_EVENT_KINDS``; a country cannot set either, so they are exactly what
    its ``configs/policies/`` package resolves to)."""
    return {
        "policy": scenario.policy.model_dump(mode="json"),
        "events": [event.model_dump(mode="json") for event in scenario.events if event.kind in POLICY_EVENT_KINDS],
    }


def with_policy(country: Scenario, package: dict[str, Any], overrides: dict[str, Any] | None = None) -> Scenario:
    """``country`` under another policy package, then the dotted ``overrides`` (levers, the
    number of citizens); validated, so a package whose events fall after the country's horizon
    raises :class:`ConfigError` naming the event."""
    raw = country.model_dump(mode="json")
    raw["policy"] = dict(package["policy"])
    world = [event for event in raw["events"] if event["kind"] in COUNTRY_EVENT_KINDS]  # A's world stays
    raw["events"] = sorted([*world, *package["events"]], key=lambda event: event["month"])
    for dotted, value in (overrides or {}).items():
        set_dotted(raw, dotted, value)  # as load_scenario applies its overrides
    return scenario_from_dict(raw, source=f"<{country.name} under another policy>")


def indicator_row(model: CryptoEconomy) -> dict[str, Any]:
    """This month's indicators of ``model`` as one row (what ``record_month`` recorded)."""
    return {name: getattr(model.indicators, name) for name in INDICATOR_NAMES}


class Comparison:
    """Runs A and B on one seed, stepped together; each keeps its rows, one per month.

    ``labels`` name the two runs on the page (a preset, "el_salvador_2021 policy", an arm).
    """

    def __init__(self, scenario_a: Scenario, scenario_b: Scenario, seed: int, labels: tuple[str, str] = (RUN_A, RUN_B)):
        self.seed = seed
        self.labels = labels
        self.a = CryptoEconomy(scenario_a, seed=seed)
        self.b = CryptoEconomy(scenario_b, seed=seed)
        self.rows: dict[str, list[dict[str, Any]]] = {RUN_A: [], RUN_B: []}
        self.cache: dict[Any, Any] = {}  # what the page derives from the rows, kept between months
        # Play steps in a thread of its own while the page may render from another (a click, a
        # toggle): a month is stepped, and read, whole
        self.lock = threading.RLock()

    @property
    def models(self) -> dict[str, CryptoEconomy]:
        return {RUN_A: self.a, RUN_B: self.b}

    @property
    def month(self) -> int:
        return self.a.month

    @property
    def months(self) -> int:
        """The horizon: the shorter of the two runs'."""
        return min(self.a.config.months, self.b.config.months)

    @property
    def running(self) -> bool:
        return self.month < self.months

    def step(self) -> None:
        """One month of both runs (nothing once the horizon is reached)."""
        with self.lock:
            if not self.running:
                return
            for name, model in self.models.items():
                model.step()
                self.rows[name].append(indicator_row(model))


@dataclass(frozen=True)
class ComparisonRequest:
    """What the user asked to compare. ``levers`` are B's control values that differ from
    its policy source (as text or numbers, as the controls send them)."""

    preset: str
    policy: str  # the package in configs/policies/ that B runs (OWN_POLICY: A's own policy)
    levers: dict[str, Any] = field(default_factory=dict)
    citizens: int = DEFAULT_CITIZENS
    seed: int | None = None  # None: the preset's seed

    def to_query(self) -> str:
        """The request as a URL query string (without the '?')."""
        pairs = [(QUERY_PRESET, self.preset), (QUERY_POLICY, self.policy), (QUERY_CITIZENS, str(self.citizens))]
        if self.seed is not None:
            pairs.append((SEED_PARAM, str(self.seed)))
        pairs += [(LEVER_PREFIX + name, str(value)) for name, value in sorted(self.levers.items())]
        return urlencode(pairs)


def own_policy(preset: Preset) -> str:
    """B's policy source that makes B run A's own policy: the preset's package, if it has one."""
    return preset.package or OWN_POLICY


def request_from_query(query: str, available: dict[str, Preset], packages: set[str], default: str,
                       default_policy: str) -> tuple[ComparisonRequest, list[str]]:
    """A request from a URL query string, and what in it was unusable (left at defaults).

    An empty address opens ``default`` against ``default_policy``; an address that names a
    preset but no policy compares the preset with itself. ``policy`` may also name a preset
    (links from before packages were picked directly): B then runs that preset's package.
    Unknown presets, levers and malformed numbers are reported, never raised: a shared link
    with a typo still opens the app.
    """
    problems: list[str] = []
    values = dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    preset = values.get(QUERY_PRESET, default)
    if preset not in available:
        problems.append(f"no preset named {preset!r} in this app's configs")
        preset = default
    own = own_policy(available[preset])
    asked = values.get(QUERY_POLICY)
    if asked is None:
        policy = own if QUERY_PRESET in values or default_policy not in packages else default_policy
    elif asked in packages or asked == own:
        policy = asked
    elif asked in available:
        policy = own_policy(available[asked]) if available[asked].package else own
    else:
        problems.append(f"no policy package named {asked!r} in configs/policies/ for B")
        policy = own
    citizens = DEFAULT_CITIZENS
    if QUERY_CITIZENS in values:
        try:
            citizens = int(values[QUERY_CITIZENS])
            if not CITIZENS_MIN <= citizens <= CITIZENS_MAX:
                raise ValueError
        except ValueError:
            problems.append(f"citizens must be a whole number from {CITIZENS_MIN:,} to {CITIZENS_MAX:,} "
                            f"(got {values[QUERY_CITIZENS]!r}); {DEFAULT_CITIZENS:,} used")
            citizens = DEFAULT_CITIZENS
    seed = None
    if SEED_PARAM in values:
        try:
            seed = parse_seed(values[SEED_PARAM])
        except ValueError as exc:
            problems.append(f"seed {exc}")
    levers = {}
    for key, value in values.items():
        if not key.startswith(LEVER_PREFIX):
            continue
        name = key.removeprefix(LEVER_PREFIX)
        if name not in LEVERS_BY_NAME or name == "citizens":
            problems.append(f"no lever named {name!r}")
            continue
        try:
            LEVERS_BY_NAME[name].parse(value)
        except ValueError as exc:
            problems.append(f"{LEVERS_BY_NAME[name].label}: {exc}")
            continue
        levers[name] = value
    return ComparisonRequest(preset, policy, levers, citizens, seed), problems


def lever_overrides(levers: dict[str, Any]) -> dict[str, Any]:
    """Dotted config overrides for B's lever values (ValueError naming the first bad one)."""
    overrides = {}
    for name, raw in levers.items():
        lever = LEVERS_BY_NAME[name]
        try:
            overrides[lever.key] = lever.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{lever.label}: {exc}") from None
    return overrides


@functools.lru_cache(maxsize=64)
def package_scenario(configs: Path, package: str) -> Scenario:
    """A policy package on some country of ``configs`` over the longest horizon allowed: its
    ``policy`` and its policy events are the package's (a country sets neither), whatever the
    country. What B's levers start from, and what :func:`package_of` takes into A's economy."""
    country = next(iter(sorted((configs / COUNTRIES_FOLDER).glob("*.toml"))), None)
    if country is None:
        raise ConfigError(configs / COUNTRIES_FOLDER, "", "no country file to compose a policy package with")
    return load_composition(configs, country.stem, package, {"months": ANY_HORIZON})


def policy_source(request: ComparisonRequest, available: dict[str, Preset]) -> Scenario:
    """The scenario whose policy B starts from, before its levers: A's preset for its own policy,
    else the package (composed on some country: only its policy and measures are read)."""
    preset = available[request.preset]
    if request.policy in (OWN_POLICY, preset.package):
        return preset.scenario
    return package_scenario(preset.path.parent.resolve(), request.policy)


def build_comparison(request: ComparisonRequest, available: dict[str, Preset],
                     packages: dict[str, PolicyPackage] | None = None) -> Comparison:
    """The two runs a request asks for: A is the preset as it stands, B the preset's country
    under the policy package ``request.policy`` with the levers set; both with the request's
    citizens and seed. Raises ValueError or ConfigError (one sentence) for a bad request."""
    country = available[request.preset].scenario
    citizens = {CITIZENS_KEY: request.citizens}
    scenario_a = with_policy(country, policy_package(country), citizens)
    scenario_b = with_policy(country, policy_package(policy_source(request, available)),
                             {**citizens, **lever_overrides(request.levers)})
    seed = country.seed if request.seed is None else request.seed
    return Comparison(scenario_a, scenario_b, seed, labels=comparison_labels(request, available, packages or {}))


def policy_title(request: ComparisonRequest, available: dict[str, Preset],
                 packages: dict[str, PolicyPackage]) -> str:
    """B's policy by name: its package's short name, or "its own policy"."""
    preset = available[request.preset]
    if request.policy in (OWN_POLICY, preset.package):
        return preset.package_title or "its own policy"
    found = packages.get(request.policy)
    return found.title if found else request.policy


def comparison_labels(request: ComparisonRequest, available: dict[str, Preset],
                      packages: dict[str, PolicyPackage]) -> tuple[str, str]:
    """Names of A and B on the page: the policy each runs."""
    preset = available[request.preset]
    b = policy_title(request, available, packages)
    if request.levers:
        b += ", levers changed"
    return f"A: {preset.package_title or preset.title}", f"B: {b}"


def comparison_sentence(request: ComparisonRequest, available: dict[str, Preset],
                        packages: dict[str, PolicyPackage], seed: int) -> str:
    """The header: what runs, in plain words. "Turkmenistan (2026): Law No. 298 (A) against
    VARA licensing (B), seed 1, 2,000 citizens." """
    preset = available[request.preset]
    a = preset.package_title or "its own policy"
    b = policy_title(request, available, packages)
    if request.levers:
        b += " with levers changed"
    return f"{preset.economy}: {a} (A) against {b} (B), seed {seed}, {request.citizens:,} citizens."


def config_error_text(exc: ConfigError) -> str:
    """A config problem as one sentence for the page."""
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


