"""The controls in the side panel: B's main policy levers, the number of citizens and the seed.

Each :class:`Lever` is one control of the side panel (how it looks, its range, its tooltip),
one ``b.<name>`` key of the page's address, and one dotted config key that a comparison sets
on B's scenario. Values come back from the browser as numbers or text; :meth:`Lever.parse`
turns one into a config value or raises ValueError with a sentence for the page.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Any

from cryptoabm.config import NONE_WORD, PaymentRegime, Scenario

SELECT, SLIDER_FLOAT, SLIDER_INT, TEXT = "Select", "SliderFloat", "SliderInt", "InputText"
PAYMENT_REGIMES: tuple[str, ...] = typing.get_args(PaymentRegime)
USD_PER_MILLION = 1_000_000.0

DEFAULT_CITIZENS = 2_000  # as the presets (and `cryptoabm run`): the same numbers as the command line
CITIZENS_MIN, CITIZENS_MAX, CITIZENS_STEP = 100, 10_000, 100
LICENCE_CAP_MAX = 100_000  # as many licences as the config allows farms
OUTFLOW_LIMIT_MAX = 1e9  # USD per citizen a month: beyond any real limit
MIN_STEP, GRID_TOLERANCE = 1e-6, 1e-9  # finest slider step; what counts as "on the grid"
SEED_PARAM = "seed"
MAX_SEED = 2**63 - 1  # as config.Scenario.seed


@dataclass(frozen=True)
class Lever:
    """One control: how it looks in the side panel and which config key it sets."""

    name: str  # keyword argument of VizEconomy and key in model_params
    key: str  # dotted config key, e.g. "policy.license_cap"
    label: str
    control: str  # SELECT, SLIDER_FLOAT, SLIDER_INT or TEXT
    minimum: float = 0.0
    maximum: float = 1.0  # the largest value accepted (a slider's end; for TEXT, a sane bound)
    step: float = 0.01
    choices: tuple[str, ...] = ()
    optional: bool = False  # TEXT: the word "none" switches the lever off
    whole: bool = False  # a whole number (TEXT, SLIDER_INT)
    scale: float = 1.0  # config value = control value x scale
    help: str = ""  # what the lever does, in the model's terms (the control's tooltip)

    def read(self, scenario: Scenario) -> Any:
        """The control's value for this scenario (what a preset sets)."""
        value: Any = scenario
        for part in self.key.split("."):
            value = getattr(value, part)
        if value is None:
            return NONE_WORD
        if self.control == TEXT:
            return _plain_number(value / self.scale, self.whole)
        return value / self.scale if self.scale != 1.0 else value

    def model_param(self, value: Any) -> dict[str, Any]:
        """The ``model_params`` entry that makes Mesa's UserInputs draw this control."""
        entry: dict[str, Any] = {"type": self.control, "label": self.label, "value": value}
        if self.control == SELECT:
            entry["values"] = list(self.choices)
        elif self.control in (SLIDER_FLOAT, SLIDER_INT):
            cast = int if self.control == SLIDER_INT else float
            step = self.step if self.control == SLIDER_INT else _step_through(value, self.step)
            entry.update(min=cast(self.minimum), max=cast(max(self.maximum, value)), step=cast(step))
        return entry

    def parse(self, raw: Any) -> Any:
        """The config value for a control value; ValueError with a sentence if it is not one."""
        if self.control == SELECT:
            if raw not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)} (got {raw!r})")
            return raw
        text = str(raw).strip()
        if self.optional and text.lower() == NONE_WORD:
            return NONE_WORD
        number = _number(text, self.whole, self.optional)
        if number < self.minimum:
            raise ValueError(f"must be at least {_plain_number(self.minimum, self.whole)} (got {text})")
        if number > self.maximum:
            raise ValueError(f"must be at most {_plain_number(self.maximum, self.whole)} (got {text})")
        return int(number * self.scale) if self.whole else number * self.scale


def _step_through(value: float, step: float) -> float:
    """``step``, or a tenth of it (and so on) until ``value`` lies on the slider's grid: a
    slider snaps to its steps, and must not show or send anything but the preset's value."""
    while step > MIN_STEP and abs(value / step - round(value / step)) > GRID_TOLERANCE:
        step /= 10
    return step


def _number(text: str, whole: bool, optional: bool) -> float:
    kind = "a whole number" if whole else "a number"
    hint = f'{kind} or "{NONE_WORD}"' if optional else kind
    try:
        number = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise ValueError(f"must be {hint} (got {text!r})") from None
    if not math.isfinite(number) or (whole and not number.is_integer()):
        raise ValueError(f"must be {hint} (got {text!r})")
    return number


def _plain_number(value: float, whole: bool) -> str:
    return str(int(value)) if whole or float(value).is_integer() else f"{value:g}"


LEVERS: tuple[Lever, ...] = (
    Lever("payment_regime", "policy.payment_regime", "Payment regime", SELECT, choices=PAYMENT_REGIMES,
          help="What the law says about paying in crypto: banned, voluntary or legal tender (every merchant "
               "must accept it)."),
    Lever("license_cap", "policy.license_cap", 'Licence cap, farms ("none": no cap)', TEXT,
          maximum=LICENCE_CAP_MAX, optional=True, whole=True,
          help="Most mining licences in force at once. Farms without one may mine grey, at the risk of being caught."),
    Lever("wallet_bonus_usd", "policy.wallet_bonus_usd", "Wallet bonus per new adopter, USD", SLIDER_FLOAT,
          maximum=100.0, step=5.0,
          help="Paid once to each citizen who downloads a wallet, while the bonus budget lasts."),
    Lever("bonus_budget_musd", "policy.bonus_budget_usd", "Bonus budget, USD million", SLIDER_FLOAT,
          maximum=500.0, step=5.0, scale=USD_PER_MILLION,
          help="All the state will spend on wallet bonuses; when it runs out, no more bonuses are paid."),
    Lever("miner_tariff_usd_per_kwh", "policy.miner_tariff_usd_per_kwh", "Miners' power tariff, USD/kWh",
          SLIDER_FLOAT, maximum=0.30, step=0.005,
          help="The price licensed farms pay the grid for each kWh."),
    Lever("surcharge_usd_per_kwh", "policy.surcharge_usd_per_kwh", "Mining power surcharge, USD/kWh",
          SLIDER_FLOAT, maximum=0.05, step=0.001,
          help="Extra charge on each kWh licensed farms use; it goes to the state as revenue."),
    Lever("domestic_sale_share", "policy.domestic_sale_share", "Share of mined coins sold at home",
          SLIDER_FLOAT, step=0.05,
          help="Share of mined coins licensed farms must sell on local exchanges instead of abroad."),
    Lever("crypto_outflow_limit_usd_per_month", "policy.crypto_outflow_limit_usd_per_month",
          'Outflow limit, USD per citizen a month ("none")', TEXT, maximum=OUTFLOW_LIMIT_MAX,
          optional=True,
          help="Most a citizen may move abroad in crypto each month through licensed channels; "
               '"none": no limit.'),
    Lever("information_control", "policy.information_control", "Information control (0 none, 1 total)",
          SLIDER_FLOAT, step=0.05,
          help="How much the state suppresses information about crypto (and access to it): it slows word of mouth."),
    Lever("grey_mining_detection_probability", "state_capacity.grey_mining_detection_probability",
          "State capacity: chance a grey farm is caught, a month", SLIDER_FLOAT, step=0.01,
          help="Monthly probability that each unlicensed (grey) farm is found, a trait of the country (its state "
               "capacity), not of the policy; a caught farm loses its cash and rigs."),
    Lever("citizens", "population.citizens", "Citizens (agents)", SLIDER_INT,
          minimum=CITIZENS_MIN, maximum=CITIZENS_MAX, step=CITIZENS_STEP, whole=True,
          help="How many citizens are simulated (both runs). Each stands for many real people; over 1,000 the "
               "network shows as an aggregate by community."),
)
SEED_HELP = ("Seed of every random draw (both runs use it: the same price path, population and network). "
             "A whole number.")
LEVERS_BY_NAME = {lever.name: lever for lever in LEVERS}


def lever_values(scenario: Scenario, citizens: int = DEFAULT_CITIZENS) -> dict[str, Any]:
    """The control values that reproduce ``scenario``, except the app's number of citizens."""
    values = {lever.name: lever.read(scenario) for lever in LEVERS}
    values["citizens"] = citizens
    return values


def parse_seed(raw: Any) -> int:
    """A seed from the seed field: a whole number from 0 to 2**63 - 1."""
    text = str(raw).strip()
    try:
        seed = int(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"must be a whole number (got {text!r})") from None
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"must be between 0 and {MAX_SEED} (got {text})")
    return seed
