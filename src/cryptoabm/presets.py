"""Scenarios by keyword: a preset's name and levers, as ``CryptoEconomy(preset=..., license_cap=...)`` takes them.

    from cryptoabm import CryptoEconomy
    model = CryptoEconomy(preset="turkmenistan_2026", license_cap=5, citizens=500, seed=3)
    model = CryptoEconomy(country="turkmenistan", policy="full_ban", seed=3)   # configs/countries/, configs/policies/

    import mesa
    mesa.batch_run(CryptoEconomy, {"preset": "turkmenistan_2026", "license_cap": [5, 20, "none"]},
                   rng=[1, 2], max_steps=24)

A lever is any config field named by its own name when that name is unique
(``license_cap``, ``citizens``, ``btc_price_usd``, ``months``), or as ``section__field``
(``market__price_volatility_annual``). Values go through the same validation as a config
file, so a wrong name or value raises :class:`~cryptoabm.config.ConfigError` (one line)
instead of being dropped.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from cryptoabm.config import ConfigError, Scenario, load_composition, load_scenario, with_overrides
from cryptoabm.config.catalogue import configs_dir, preset_files

SECTION_SEPARATOR = "__"  # market__btc_price_usd -> market.btc_price_usd
NOT_LEVERS = frozenset({"events", "seed"})  # events are a list; the seed is CryptoEconomy's own argument


@functools.cache
def lever_keys() -> dict[str, str]:
    """Keyword name -> dotted config key, for every field whose own name is unique, and every
    ``section__field``."""
    by_leaf: dict[str, list[str]] = {}
    keys: dict[str, str] = {}
    for name, field in Scenario.model_fields.items():
        if name in NOT_LEVERS:
            continue
        section = field.annotation if isinstance(field.annotation, type) else None
        if section is not None and issubclass(section, BaseModel):
            for leaf in section.model_fields:
                dotted = f"{name}.{leaf}"
                keys[f"{name}{SECTION_SEPARATOR}{leaf}"] = dotted
                by_leaf.setdefault(leaf, []).append(dotted)
        else:
            by_leaf.setdefault(name, []).append(name)
    keys.update({leaf: dotted[0] for leaf, dotted in by_leaf.items() if len(dotted) == 1})
    return keys


def preset_path(preset: str | Path) -> Path:
    """A preset's config file: a name in the presets folder (``configs/``), or a path."""
    candidate = Path(preset)
    if candidate.suffix == ".toml" and candidate.is_file():
        return candidate
    named = configs_dir() / f"{preset}.toml"
    if named.is_file():
        return named
    available = [p.stem for p in preset_files(configs_dir())]
    close = difflib.get_close_matches(str(preset), available, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"presets: {', '.join(available)}"
    raise ConfigError("preset", "", f"no preset named {str(preset)!r}; {hint}")


def dotted_overrides(levers: dict[str, Any]) -> dict[str, Any]:
    """Keyword levers as dotted config keys; ConfigError naming an unknown one."""
    keys = lever_keys()
    overrides = {}
    for name, value in levers.items():
        if name not in keys:
            close = difflib.get_close_matches(name, list(keys), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError("CryptoEconomy", name, f"unknown lever '{name}'{hint}")
        overrides[keys[name]] = value
    return overrides


def scenario_for(preset: str | Path | None = None, base: Scenario | None = None, *, country: str | None = None,
                 policy: str | None = None, **levers: Any) -> Scenario:
    """The scenario of a preset, of a country under a policy package (``configs/countries/``,
    ``configs/policies/``), of ``base``, or of the defaults, with keyword levers applied, validated."""
    chosen = [what for what, given in (("a scenario", base), ("a preset", preset),
                                       ("a country and policy", country or policy)) if given is not None]
    if len(chosen) > 1:
        raise ConfigError("CryptoEconomy", "preset", f"give one of a scenario, a preset, or a country and policy, "
                                                     f"not {' and '.join(chosen)}")
    if (country is None) != (policy is None):
        missing = "policy" if policy is None else "country"
        raise ConfigError("CryptoEconomy", missing, f"a country runs under a policy package: give both country= and "
                                                    f"policy= (e.g. country=\"turkmenistan\", policy=\"full_ban\")")
    overrides = dotted_overrides(levers)
    if country is not None:
        return load_composition(configs_dir(), country, policy, overrides, source="CryptoEconomy")
    if preset is not None:
        return load_scenario(preset_path(preset), overrides)
    return with_overrides(base or Scenario(), overrides, source="CryptoEconomy")
