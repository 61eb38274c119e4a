"""Reading scenario files: ``extends`` chains, and a preset composed of a country's economy
(``configs/countries/``) and a policy package (``configs/policies/``) on top of ``baseline.toml``.

A scenario is a TOML file under ``configs/``. It may ``extends = "other.toml"`` (a path
relative to the file) and override any value; tables are merged key by key, while lists
(such as ``events``) are replaced whole.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import tomllib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from cryptoabm.config.errors import STATE_CAPACITY_FROM_POLICY, ConfigError
from cryptoabm.config.origins import Origins
from cryptoabm.config.scenario import Scenario, _set_dotted, scenario_from_dict
from cryptoabm.config.values import SAFE_NAME_PATTERN, SAFE_NAME_RULE, _none_word

MAX_EXTENDS_DEPTH = 32  # files in one extends chain
EXPERIMENT_KEYS = frozenset({"question", "arms", "replications", "horizon_months", "design", "reference"})


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None,
                  override_origins: OverrideOrigins | None = None) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    ``overrides`` maps dotted keys (``"policy.license_cap"``) to values and is applied on
    top of the file, as the batch layer and the browser app do; ``override_origins`` names
    where each was written (dotted key -> (file, key path there)), for errors.
    Raises :class:`ConfigError` with a one-line message on any problem, naming the file that
    holds the mistake (the preset, a file it extends or composes, or an override's file).
    """
    path = Path(path)
    origins = Origins()
    raw = _read_with_extends(path, chain=(), origins=origins)
    _apply_overrides(raw, overrides, override_origins, origins)
    return scenario_from_dict(raw, source=path, origins=origins)


OverrideOrigins = dict[str, tuple[str | Path, str]]


def _apply_overrides(raw: dict[str, Any], overrides: dict[str, Any] | None, override_origins: OverrideOrigins | None,
                     origins: Origins) -> None:
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value)
        if override_origins and dotted in override_origins:
            origins.note_override(dotted, *override_origins[dotted])



def config_files(path: str | Path) -> list[Path]:
    """The config file and every file it extends, child first (what a run of it reads)."""
    files: list[Path] = []
    _read_with_extends(Path(path), chain=(), files=files)
    return files


def _read_with_extends(path: Path, chain: tuple[Path, ...], files: list[Path] | None = None,
                       origins: Origins | None = None) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(p.name for p in (*chain, resolved))
        raise ConfigError(chain[-1], "extends", f"circular extends: {cycle}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ConfigError(chain[0], "extends", f"the extends chain is longer than {MAX_EXTENDS_DEPTH} files")
    if not path.is_file():
        if chain:
            raise ConfigError(chain[-1], "extends", f"no such file to extend: {path}")
        raise ConfigError(path, "", "no such config file")
    data = _read_toml(path)
    if not data:
        raise ConfigError(path, "", "the config file is empty (extend configs/baseline.toml to start from the baseline)")
    if EXPERIMENT_KEYS & set(data):
        raise ConfigError(path, "", "this is an experiment file, not a scenario config; run it with: cryptoabm batch")
    if files is not None:
        files.append(resolved)
    parent_name = data.pop("extends", None)
    country, package = data.pop("country", None), data.pop("policy_package", None)
    if country is not None or package is not None:
        if parent_name is not None:
            raise ConfigError(path, "extends", "a preset either extends a file or names a country and a "
                                               "policy_package, not both")
        composed = _composed(path.parent, country, package, path, (*chain, resolved), files, origins)
        _note(origins, data, path)
        return _with_own_events(composed, data)
    if parent_name is None:
        _note(origins, data, path)
        return data
    if not isinstance(parent_name, str):
        raise ConfigError(path, "extends", "must be a file name in quotes, e.g. extends = \"baseline.toml\"")
    parent = _read_with_extends(path.parent / parent_name, chain=(*chain, resolved), files=files, origins=origins)
    _note(origins, data, path)  # after its parent's: the child's values win
    return _deep_merge(parent, data)


def _note(origins: Origins | None, data: dict[str, Any], path: Path) -> None:
    if origins is not None:
        origins.note_file(data, path)


# ---------------------------------------------------------------------------------------
# Country x policy: a preset is an economy (configs/countries/) plus a policy package
# (configs/policies/), on top of baseline.toml
# ---------------------------------------------------------------------------------------
COUNTRIES_FOLDER = "countries"
POLICIES_FOLDER = "policies"
BASE_FILE = "baseline.toml"  # the defaults every composition starts from, next to the preset
COUNTRY_EVENT_KINDS = ("relocation_wave", "price_shock", "hashrate_shock", "internet_shutdown",  # the world's, not the state's
                       "state_capacity")  # nor the state's capacity to enforce, which is the country's
POLICY_EVENT_KINDS = ("policy", "legal_tender_reversal", "mining_power_cut")  # measures a policy package carries
NOT_IN_A_COUNTRY = ("policy", "name", "seed", "months", "extends", "country", "policy_package")
POLICY_PACKAGE_KEYS = ("description", "extends", "policy", "events")


def load_composition(folder: str | Path, country: str, policy_package: str,
                     overrides: dict[str, Any] | None = None, source: str | Path | None = None,
                     override_origins: OverrideOrigins | None = None) -> Scenario:
    """A country's economy under a policy package, validated like a preset file.

    ``folder`` holds ``baseline.toml``, ``countries/<country>.toml`` and
    ``policies/<policy_package>.toml``. ``overrides`` are dotted keys, as in :func:`load_scenario`.
    """
    folder = Path(folder)
    source = source or folder / f"{country}+{policy_package}"
    origins = Origins()
    raw = _composed(folder, country, policy_package, source, chain=(), files=None, origins=origins)
    raw.setdefault("name", f"{country}__{policy_package}")
    _apply_overrides(raw, overrides, override_origins, origins)
    market = raw.get("market")
    price_csv = market.get("price_csv") if isinstance(market, dict) else None
    if isinstance(price_csv, str) and _none_word(price_csv) is not None:  # relative to the configs folder
        raw["market"] = {**market, "price_csv": str((folder / price_csv).resolve())}
    return scenario_from_dict(raw, source=source, origins=origins)


def composition_files(folder: str | Path, country: str, policy_package: str) -> list[Path]:
    """Every file a composition reads (the country, the package, baseline and what it extends)."""
    files: list[Path] = []
    _composed(Path(folder), country, policy_package, Path(folder), chain=(), files=files)
    return files


def _composed(folder: Path, country: Any, package: Any, source: str | Path, chain: tuple[Path, ...],
              files: list[Path] | None, origins: Origins | None = None) -> dict[str, Any]:
    """baseline <- the country <- the policy package, with the events of all three in month order."""
    country_path = _part_path(folder, COUNTRIES_FOLDER, country, source, "country")
    package_path = _part_path(folder, POLICIES_FOLDER, package, source, "policy_package")
    merged = _read_with_extends(folder / BASE_FILE, chain, files, origins)
    country_data = _country_part(country_path, files)
    _note(origins, country_data, country_path)
    package_data = _package_part(package_path, files, origins=origins)
    events = [*merged.pop("events", []), *country_data.pop("events", []), *package_data.pop("events", [])]
    described = [str(part.pop("description")) for part in (package_data, country_data) if "description" in part]
    merged = _deep_merge(_deep_merge(merged, country_data), package_data)
    merged["description"] = " In: ".join(described)  # "<the policy> In: <the economy>", unless the preset says
    merged["events"] = sorted(events, key=lambda event: event.get("month", 0) if isinstance(event, dict) else 0)
    return merged


def _with_own_events(composed: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """A preset's own values over its composition; its own ``events`` are added, not substituted."""
    own = dict(own)
    extra = own.pop("events", [])
    if not isinstance(extra, list):
        extra = [extra]  # let validation name the problem
    merged = _deep_merge(composed, own)
    merged["events"] = [*composed.get("events", []), *extra]
    return merged


def _part_path(folder: Path, subfolder: str, name: Any, source: str | Path, field: str) -> Path:
    """The file of a named country or policy package; its name cannot leave its folder."""
    if not isinstance(name, str) or not re.match(SAFE_NAME_PATTERN, name) or name.endswith(".toml"):
        raise ConfigError(source, field, f"must be the name of a file in {subfolder}/ without .toml "
                                         f"(e.g. \"turkmenistan\"); {SAFE_NAME_RULE}")
    path = folder / subfolder / f"{name}.toml"
    if not path.is_file():
        available = sorted(p.stem for p in (folder / subfolder).glob("*.toml"))
        close = difflib.get_close_matches(name, available, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"available: {', '.join(available) or 'none'}"
        what = "country" if subfolder == COUNTRIES_FOLDER else "policy package"
        raise ConfigError(source, field, f"no {what} named '{name}' in {folder / subfolder}; {hint}")
    return path


_parsed: ContextVar[dict[Path, tuple[dict[str, Any], bytes]] | None] = ContextVar("cryptoabm_parsed_toml",
                                                                                  default=None)


@contextlib.contextmanager
def parse_once() -> Iterator[None]:
    """Inside this block each TOML file is read and parsed once (by its resolved path): an
    experiment composes the same baseline, country and package files for every arm and design
    point. Every read still gets its own copy of the tables, so the results are those of
    reading the file each time. Nested blocks share the outer one's files."""
    if _parsed.get() is not None:
        yield
        return
    token = _parsed.set({})
    try:
        yield
    finally:
        _parsed.reset(token)


def read_toml(path: Path) -> tuple[dict[str, Any], bytes]:
    """A TOML file's tables and its bytes (to hash); ConfigError (one line) if it cannot be
    read or parsed. Configs, experiments and target files are all read here (inside
    :func:`parse_once`, each file once)."""
    parsed = _parsed.get()
    if parsed is None:
        return _parse_toml(path)
    key = Path(path).resolve()
    if key not in parsed:
        parsed[key] = _parse_toml(path)
    tables, raw_bytes = parsed[key]
    return _copy_tables(tables), raw_bytes


def _copy_tables(value: Any) -> Any:
    """A copy of parsed TOML that the reader may change: its tables and arrays copied, its
    values (strings, numbers, dates: immutable) shared."""
    if isinstance(value, dict):
        return {key: _copy_tables(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_tables(item) for item in value]
    return value


def _parse_toml(path: Path) -> tuple[dict[str, Any], bytes]:
    try:
        raw_bytes = Path(path).read_bytes()
        return tomllib.loads(raw_bytes.decode("utf-8")), raw_bytes
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"malformed TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read file: {exc.strerror or exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's tables (see :func:`read_toml`)."""
    return read_toml(path)[0]


def _read_part(path: Path, files: list[Path] | None) -> dict[str, Any]:
    data = _read_toml(path)
    if files is not None:
        files.append(path.resolve())
    return data


def _country_part(path: Path, files: list[Path] | None) -> dict[str, Any]:
    """A country file: the economy only. No lever, no policy event, no horizon or seed."""
    data = _read_part(path, files)
    for key in NOT_IN_A_COUNTRY:
        if key in data:
            why = ("levers belong in a policy package (configs/policies/)" if key == "policy" else
                   "a country file holds the economy only; set it in the preset or the experiment")
            raise ConfigError(path, key, f"not allowed in a country file: {why}")
    _check_event_kinds(path, data, COUNTRY_EVENT_KINDS, "a country file",
                       "policy measures belong in a policy package (configs/policies/)")
    return data


def _package_part(path: Path, files: list[Path] | None, chain: tuple[Path, ...] = (),
                  origins: Origins | None = None) -> dict[str, Any]:
    """A policy package: its levers and its measures, dated in months from its start. It may
    extend another package in the same folder (``extends = "kazakhstan_2025_regime"``): its
    levers override the parent's and its events are added to the parent's."""
    if path.resolve() in chain:
        raise ConfigError(path, "extends", f"circular extends: {' -> '.join(p.stem for p in (*chain, path))}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ConfigError(path, "extends", f"the extends chain is longer than {MAX_EXTENDS_DEPTH} files")
    data = _read_part(path, files)
    _no_state_capacity_in(path, data)
    extra = next((key for key in data if key not in POLICY_PACKAGE_KEYS), None)
    if extra is not None:
        raise ConfigError(path, extra, f"not allowed in a policy package, which holds only "
                                       f"{', '.join(POLICY_PACKAGE_KEYS)}; the economy belongs in a country file")
    _check_event_kinds(path, data, POLICY_EVENT_KINDS, "a policy package",
                       "events of the world or the economy belong in a country file")
    parent_name = data.pop("extends", None)
    if parent_name is None:
        _note(origins, data, path)
        return data
    parent_path = _part_path(path.parent.parent, POLICIES_FOLDER, parent_name, path, "extends")
    parent = _package_part(parent_path, files, (*chain, path.resolve()), origins)
    _note(origins, data, path)  # after its parent's: the package's own levers win
    events = [*parent.pop("events", []), *data.pop("events", [])]
    return {**_deep_merge(parent, data), "events": events}


def _no_state_capacity_in(path: Path, data: dict[str, Any]) -> None:
    """A policy package carries no state capacity: not as a table, a lever or a scheduled change."""
    policy = data.get("policy") if isinstance(data.get("policy"), dict) else {}
    events = data.get("events") if isinstance(data.get("events"), list) else []
    changes = [(f"events.{i}.set.{key}", key) for i, e in enumerate(events) if isinstance(e, dict)
               and isinstance(e.get("set"), dict) for key in e["set"]]
    found = ([("state_capacity", None)] if "state_capacity" in data else []) + \
        [(f"policy.{key}", key) for key in policy] + changes
    for field, key in found:
        if key is None or key in STATE_CAPACITY_FROM_POLICY:
            name = "state_capacity" + ("" if key is None else f".{STATE_CAPACITY_FROM_POLICY[key]}")
            raise ConfigError(path, field, f"state capacity is a trait of the country, not of a policy package: set "
                                           f"{name} in the country file (configs/countries/)")


def _check_event_kinds(path: Path, data: dict[str, Any], allowed: tuple[str, ...], what: str, why: str) -> None:
    events = data.get("events", [])
    if not isinstance(events, list):
        raise ConfigError(path, "events", "must be a list of [[events]] tables")
    for i, event in enumerate(events):
        kind = event.get("kind") if isinstance(event, dict) else None
        if kind not in allowed:
            raise ConfigError(path, f"events.{i}.kind", f"{kind!r} is not allowed in {what} "
                                                        f"(allowed: {', '.join(allowed)}); {why}")


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


