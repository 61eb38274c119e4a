"""The preset catalogue: every scenario ``*.toml`` in the ``configs/`` folder, which the app, the
keyword interface (``CryptoEconomy(preset=...)``) and validation offer.

The folder is, in order: ``$CRYPTOABM_CONFIGS`` (set by ``--configs DIR``), the repository's
``configs/`` next to ``src/`` (an editable install or a checkout), or ``./configs``.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptoabm.config import ConfigError, Scenario, load_scenario

CONFIGS_ENV = "CRYPTOABM_CONFIGS"
PREFERRED_DEFAULTS = ("turkmenistan_2026", "baseline")  # the README's main job first
REPOSITORY_CONFIGS = Path(__file__).resolve().parents[3] / "configs"
SHARED_PARAMETER_FILES = frozenset({"behaviour.toml"})  # extended by every preset, not a preset itself

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preset:
    """One scenario file the picker lists."""

    name: str  # the file name without .toml: what the picker shows
    path: Path
    scenario: Scenario  # as the file defines it (validated)

    @property
    def description(self) -> str:
        return self.scenario.description


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
            found.append((path.stem, Preset(path.stem, path, load_scenario(path))))
        except ConfigError as exc:  # a broken file is left out of the picker, not fatal
            logger.warning("cryptoabm viz: preset left out: %s", exc)
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
