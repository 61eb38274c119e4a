"""The model the app runs: a CryptoEconomy built from the side panel's values.

Mesa's SolaraViz re-instantiates the model class with the panel's keyword parameters when the
user presses Reset, so :class:`VizEconomy` takes exactly those: the preset, the levers, the
number of citizens and the seed. It loads the preset with the levers as dotted-key overrides
(``load_scenario(path, overrides=...)``) and builds an ordinary ``CryptoEconomy``.

Invalid input (a seed that is not a whole number, a negative licence cap, ...) never raises:
the model is built from the preset as it stands, records the mistakes in ``input_errors`` for
the page to show, and refuses to step until the user fixes them and presses Reset again.
"""

from __future__ import annotations

from typing import Any

from cryptoabm.config import ConfigError, Scenario, load_scenario
from cryptoabm.model import CryptoEconomy
from cryptoabm.viz.levers import DEFAULT_CITIZENS, LEVERS, parse_settings
from cryptoabm.viz.presets import Preset, default_preset, presets


class VizEconomy(CryptoEconomy):
    """One browser session's run. ``None`` for a lever means "as the preset sets it"."""

    def __init__(
        self,
        preset: str | None = None,
        payment_regime: str | None = None,
        license_cap: int | str | None = None,
        wallet_bonus_usd: float | None = None,
        bonus_budget_musd: float | None = None,
        miner_tariff_usd_per_kwh: float | None = None,
        surcharge_usd_per_kwh: float | None = None,
        domestic_sale_share: float | None = None,
        crypto_outflow_limit_usd_per_month: float | str | None = None,
        information_control: float | None = None,
        enforcement_detection_probability: float | None = None,
        citizens: int | None = DEFAULT_CITIZENS,
        seed: int | str | None = None,
    ):
        values = {
            "payment_regime": payment_regime,
            "license_cap": license_cap,
            "wallet_bonus_usd": wallet_bonus_usd,
            "bonus_budget_musd": bonus_budget_musd,
            "miner_tariff_usd_per_kwh": miner_tariff_usd_per_kwh,
            "surcharge_usd_per_kwh": surcharge_usd_per_kwh,
            "domestic_sale_share": domestic_sale_share,
            "crypto_outflow_limit_usd_per_month": crypto_outflow_limit_usd_per_month,
            "information_control": information_control,
            "enforcement_detection_probability": enforcement_detection_probability,
            "citizens": citizens,
            "seed": seed,
        }
        chosen, errors = _pick_preset(preset)
        settings = parse_settings(values)
        errors.extend(settings.errors)
        scenario = _load(chosen, settings.overrides, errors) if not errors else None
        if scenario is None:  # show the preset as it stands, and say what was wrong
            scenario = load_scenario(chosen.path, overrides={"population.citizens": DEFAULT_CITIZENS})
        super().__init__(scenario, seed=None if errors else settings.seed)
        self.preset = chosen
        self.input_errors: tuple[str, ...] = tuple(errors)
        if self.input_errors:
            self.running = False

    def step(self) -> None:
        """Advance one month, unless the inputs were invalid (then nothing runs)."""
        if self.input_errors:
            self.running = False
            return
        super().step()


def _pick_preset(name: str | None) -> tuple[Preset, list[str]]:
    available = presets()
    fallback = available[default_preset(available)]
    if name is None:
        return fallback, []
    if name not in available:
        return fallback, [f"Scenario: no preset named {name!r} (available: {', '.join(available)})"]
    return available[name], []


def _load(preset: Preset, overrides: dict[str, Any], errors: list[str]) -> Scenario | None:
    """The preset with the overrides, or None with the config's complaint added to ``errors``."""
    try:
        return load_scenario(preset.path, overrides=overrides)
    except ConfigError as exc:
        label = next((lever.label for lever in LEVERS if lever.key == exc.field), exc.field or preset.name)
        errors.append(f"{label}: {exc.message}")
        return None
