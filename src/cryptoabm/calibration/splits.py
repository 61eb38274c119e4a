"""Which targets a calibration fits and which it must predict (issue 19).

- **Pre-registered hold-outs** (``validation/holdouts.toml``, committed before any fit): never
  fitted, whatever a target's ``calibrate`` flag says; reported apart as out-of-sample.
- **Temporal split** (``temporal``): fit only targets whose window ends by ``TEMPORAL_CUT``
  (the record to the end of 2022), predict the fitted-kind targets whose window ends later.
- **Cross-country split** (``country:<name>``): fit without the targets of one country's
  presets, predict them.

The predicted targets of a split are the ones the full calibration would fit (``calibrate =
true`` and not held out), so "K of N" on a split counts comparable targets.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from cryptoabm.calibration.targets import LoadedTargets, Target
from cryptoabm.config import ConfigError, read_toml

TEMPORAL_CUT = "2022-12"  # the temporal split fits the record up to this month's end
WORLD = "world"  # the country of a preset that names none (the baseline: the world market)


@dataclass(frozen=True)
class Selection:
    """The targets a calibration fits, and those it predicts (out of sample)."""

    name: str
    fitted: list[Target]
    predicted: list[Target]


def load_holdouts(path: Path | None, loaded: LoadedTargets) -> list[str]:
    """The pre-registered hold-out ids (none without a file); ConfigError naming an unknown id."""
    if path is None or not Path(path).is_file():
        return []
    raw, _ = read_toml(Path(path))
    ids = raw.get("held_out", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ConfigError(path, "held_out", "must be a list of target ids")
    known = {t.id for t in loaded.targets.targets}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ConfigError(path, "held_out", f"no target '{unknown[0]}' in {loaded.path}")
    return list(ids)


def target_country(loaded: LoadedTargets, target: Target) -> str:
    """The country a target's preset is of (its ``country`` key), or ``world`` for one naming none."""
    with open(loaded.preset_paths[target.preset], "rb") as handle:
        return str(tomllib.load(handle).get("country", WORLD))


def select(loaded: LoadedTargets, holdouts: list[str], split: str | None) -> Selection:
    """The targets fitted and predicted under a split (None: the full calibration)."""
    fittable = [t for t in loaded.targets.targets if t.calibrate and t.id not in holdouts]
    if split is None:
        return Selection("full", fittable, [t for t in loaded.targets.targets if t.id in holdouts])
    if split == "temporal":
        return Selection("temporal", [t for t in fittable if t.window[1] <= TEMPORAL_CUT],
                         [t for t in fittable if t.window[1] > TEMPORAL_CUT])
    if split.startswith("country:"):
        country = split.removeprefix("country:")
        countries = {target_country(loaded, t) for t in loaded.targets.targets}
        if country not in countries:
            raise ConfigError("--split", "", f"no target of country '{country}'; countries: {', '.join(sorted(countries))}")
        return Selection(f"without_{country}", [t for t in fittable if target_country(loaded, t) != country],
                         [t for t in fittable if target_country(loaded, t) == country])
    raise ConfigError("--split", "", f"'{split}' is not a split; use temporal or country:<name>")
