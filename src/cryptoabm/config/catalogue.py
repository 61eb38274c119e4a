"""The preset catalogue: every scenario ``*.toml`` in the ``configs/`` folder, which the app, the
keyword interface (``CryptoEconomy(preset=...)``) and validation offer; and the policy packages
in its ``policies/`` subfolder (what the app's B picks), with the names shown for them.

The names come from the files' own ``description`` lines (:func:`short_name`): a country's "Turkmenistan (2026): surplus gas
power, ..." is "Turkmenistan (2026)", a package's "VARA licensing, government fees ..." is
"VARA licensing".

The folder is, in order: ``$CRYPTOABM_CONFIGS`` (set by ``--configs DIR``), the repository's
``configs/`` next to ``src/`` (an editable install or a checkout), or ``./configs``.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptoabm.config import COUNTRIES_FOLDER, POLICIES_FOLDER, ConfigError, Scenario, load_scenario, read_toml

CONFIGS_ENV = "CRYPTOABM_CONFIGS"
PREFERRED_DEFAULTS = ("turkmenistan_2026", "baseline")  # the README's main job first
REPOSITORY_CONFIGS = Path(__file__).resolve().parents[3] / "configs"
SHARED_PARAMETER_FILES = frozenset({"behaviour.toml"})  # extended by every preset, not a preset itself
SHORT_NAME_ENDS = re.compile(r":\s|,\s|;\s|\.$")  # where a description's naming clause ends

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preset:
    """One scenario file the picker lists."""

    name: str  # the file name without .toml: what the address names
    path: Path
    scenario: Scenario  # as the file defines it (validated)
    country: str | None = None  # the file in countries/ it composes, if it is a composition
    package: str | None = None  # the file in policies/ it composes, if it is a composition
    country_title: str = ""  # the country's short name, from its file's description
    package_title: str = ""  # the package's short name, from its file's description

    @property
    def description(self) -> str:
        return self.scenario.description

    @property
    def title(self) -> str:
        """What the picker shows: "Turkmenistan (2026): Law No. 298", or the preset's own short name."""
        if self.country_title and self.package_title:
            return f"{self.country_title}: {self.package_title}"
        return short_name(self.description) or self.name

    @property
    def economy(self) -> str:
        """The economy's name in a sentence: "Turkmenistan (2026)" (or the preset's short name)."""
        return self.country_title or short_name(self.description) or self.name


@dataclass(frozen=True)
class PolicyPackage:
    """One file in ``policies/``: a policy B can run on A's economy."""

    name: str  # the file name without .toml
    path: Path
    description: str  # the file's own description line

    @property
    def title(self) -> str:
        return short_name(self.description) or self.name


def short_name(description: str) -> str:
    """A description's naming clause: up to its first colon, comma or semicolon (or its end)."""
    text = description.strip()
    found = SHORT_NAME_ENDS.search(text)
    return (text[:found.start()] if found else text).strip()


def configs_dir() -> Path:
    """The folder the presets are read from (see the module docstring)."""
    chosen = os.environ.get(CONFIGS_ENV)
    if chosen:
        return Path(chosen)
    if REPOSITORY_CONFIGS.is_dir():
        return REPOSITORY_CONFIGS
    return Path.cwd() / "configs"


def presets(directory: Path | None = None) -> dict[str, Preset]:
    """Every valid preset in ``directory`` (default: :func:`configs_dir`), by name."""
    return dict(_load_presets((directory or configs_dir()).resolve()))


@functools.lru_cache(maxsize=4)
def _load_presets(directory: Path) -> tuple[tuple[str, Preset], ...]:
    found = []
    for path in preset_files(directory):
        try:
            found.append((path.stem, Preset(path.stem, path, load_scenario(path), *_composition(path))))
        except ConfigError as exc:  # a broken file is left out of the picker, not fatal
            logger.warning("cryptoabm viz: preset left out: %s", exc)
    return tuple(found)


def _composition(path: Path) -> tuple[str | None, str | None, str, str]:
    """The country and package a preset file composes, and their short names (or Nones)."""
    data = read_toml(path)[0]
    country, package = data.get("country"), data.get("policy_package")
    if not isinstance(country, str) or not isinstance(package, str):
        return None, None, "", ""
    return (country, package, _described(path.parent / COUNTRIES_FOLDER / f"{country}.toml"),
            _described(path.parent / POLICIES_FOLDER / f"{package}.toml"))


def _described(path: Path) -> str:
    description = read_toml(path)[0].get("description", "") if path.is_file() else ""
    return short_name(str(description)) or path.stem


def policy_packages(directory: Path | None = None) -> dict[str, PolicyPackage]:
    """Every policy package in ``<configs>/policies/``, by name (B's picker)."""
    return dict(_load_packages((directory or configs_dir()).resolve()))


@functools.lru_cache(maxsize=4)
def _load_packages(directory: Path) -> tuple[tuple[str, PolicyPackage], ...]:
    found = []
    for path in sorted((directory / POLICIES_FOLDER).glob("*.toml")):
        try:
            description = str(read_toml(path)[0].get("description", ""))
        except ConfigError as exc:
            logger.warning("cryptoabm viz: policy package left out: %s", exc)
            continue
        found.append((path.stem, PolicyPackage(path.stem, path, description)))
    return tuple(found)


def preset_files(directory: Path) -> list[Path]:
    """The preset files in a folder: every ``*.toml`` but the shared parameter files."""
    return [path for path in sorted(directory.glob("*.toml")) if path.name not in SHARED_PARAMETER_FILES]


def default_preset(available: dict[str, Preset]) -> str:
    """The preset a new session starts with."""
    for name in PREFERRED_DEFAULTS:
        if name in available:
            return name
    if not available:
        raise LookupError(f"no scenario presets (*.toml) in {configs_dir()}; pass --configs DIR")
    return next(iter(available))
