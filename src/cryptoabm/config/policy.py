"""The policy in force (every lever the state can pull) and the scheduled events that change
it or strike the economy."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator

from cryptoabm.config.values import GridPriority, Money, NoneWord, NonNegative, PaymentRegime, Positive, Share, _Section


# ---------------------------------------------------------------------------------------
# Policy: every lever the state can pull; all of it can change through scheduled events
# ---------------------------------------------------------------------------------------
class SurchargeBand(_Section):
    """One band of a progressive surcharge: the rate on each kWh a miner uses in the band."""

    up_to_mwh_per_month: Annotated[Positive | None, NoneWord] = None  # None: the top band
    usd_per_kwh: NonNegative


class Policy(_Section):
    """The policy in force. Each field is a lever; events may change any of them."""

    payment_regime: PaymentRegime = "voluntary"
    license_cap: Annotated[int | None, NoneWord] = Field(None, ge=0, le=1_000_000)  # most licences at once; "none": no cap
    license_fee_usd: Money = 0.0  # per licence per year
    miner_tariff_usd_per_kwh: NonNegative = 0.045
    surcharge_usd_per_kwh: NonNegative = 0.0  # flat surcharge on mining power
    surcharge_bands: list[SurchargeBand] = Field(default_factory=list)  # progressive, replaces flat
    miner_grid_priority: GridPriority = "equal"
    surplus_reserve_share: Share = 0.1  # surplus_only: spare kept above non-mining demand
    mining_cap_mw: Annotated[NonNegative | None, NoneWord] = None  # rationing: most power miners may draw
    domestic_sale_share: Share = 0.0  # of mined coins that must be sold on local exchanges
    mining_profit_tax_rate: Share = 0.2
    sez_active: bool = False
    sez_tax_holiday: bool = False
    sez_share_of_new_farms: Share = 0.5
    capital_controls: Share = 0.0  # strictness of official (bank) capital controls: share of savers the bank route is closed to
    crypto_outflow_limit_usd_per_month: Annotated[NonNegative | None, NoneWord] = None  # per citizen, licensed channel
    licensed_platform_pull: Share = 0.0  # of would-be peer-to-peer crypto flows, the share a licensed framework draws onto licensed platforms
    information_control: Share = 0.0  # how much the state suppresses crypto information/internet
    grey_fine_usd_per_mw: Money = 0.0  # fine on a caught grey farm on top of seizing its cash and rigs, USD per MW
    wallet_bonus_usd: Money = 0.0
    bonus_budget_usd: Money = 0.0
    bonus_eligible_max_income_usd_per_month: Annotated[NonNegative | None, NoneWord] = None  # None: every adopter
    ration_below_reserve_margin: Annotated[Share | None, NoneWord] = None  # adaptive: ration miners below this margin
    ration_cut_share: Share = 0.3  # cut to miners' load when rationing starts
    tighten_outflows_above_usd_per_month: Annotated[NonNegative | None, NoneWord] = None  # adaptive capital rule
    tightened_outflow_limit_usd_per_month: NonNegative = 100.0

    @field_validator("surcharge_bands")
    @classmethod
    def _bands_ascend(cls, bands: list[SurchargeBand]) -> list[SurchargeBand]:
        tops = [b.up_to_mwh_per_month for b in bands]
        if any(t is None for t in tops[:-1]):
            raise ValueError("only the last band may omit up_to_mwh_per_month")
        finite = [t for t in tops if t is not None]
        if finite != sorted(finite) or len(set(finite)) != len(finite):
            raise ValueError("band limits up_to_mwh_per_month must strictly increase")
        return bands


POLICY_LEVERS: tuple[str, ...] = tuple(Policy.model_fields)


# ---------------------------------------------------------------------------------------
# Scheduled events
# ---------------------------------------------------------------------------------------
class _Event(_Section):
    month: int = Field(ge=1, le=1200)  # fires at the start of this month
    note: str = ""


class PolicyChange(_Event):
    """Change one or more policy levers from this month on."""

    kind: Literal["policy"]
    set: dict[str, Any]


class RelocationWave(_Event):
    """Mining capacity displaced abroad (a neighbour's ban) looks for a host country."""

    kind: Literal["relocation_wave"]
    hashrate_ehs: Positive  # capacity on offer over the whole wave
    duration_months: int = Field(6, ge=1, le=120)
    efficiency_j_per_th: Positive = 30.0


class PriceShock(_Event):
    """The BTC price jumps by a factor this month."""

    kind: Literal["price_shock"]
    factor: Positive


class HashrateShock(_Event):
    """Rest-of-world hashrate jumps by a factor (e.g. a ban elsewhere switches rigs off)."""

    kind: Literal["hashrate_shock"]
    factor: Positive


class InternetShutdown(_Event):
    """The internet is cut: no adoption, payments or crypto outflows while it lasts.

    ``duration_days`` (if given) cuts that many days of this month instead of whole months."""

    kind: Literal["internet_shutdown"]
    duration_months: int = Field(1, ge=1, le=120)
    duration_days: Annotated[float | None, NoneWord] = Field(None, gt=0.0, le=31.0)


class MiningPowerCut(_Event):
    """Power to every miner is cut for some days of this month (miners' uptime falls by that share)."""

    kind: Literal["mining_power_cut"]
    days: float = Field(gt=0.0, le=31.0)


class StateCapacityChange(_Event):
    """The state's capacity to enforce changes from this month on (``set``: fields of [state_capacity])."""

    kind: Literal["state_capacity"]
    set: dict[str, Any]


class LegalTenderReversal(_Event):
    """Legal tender status ends; payments fall back to another regime."""

    kind: Literal["legal_tender_reversal"]
    new_regime: PaymentRegime = "voluntary"
    end_bonus: bool = True


Event = Annotated[
    Union[PolicyChange, RelocationWave, PriceShock, HashrateShock, InternetShutdown, MiningPowerCut,
          LegalTenderReversal, StateCapacityChange],
    Field(discriminator="kind"),
]



EVENT_MODELS = {
    "policy": PolicyChange,
    "relocation_wave": RelocationWave,
    "price_shock": PriceShock,
    "hashrate_shock": HashrateShock,
    "internet_shutdown": InternetShutdown,
    "mining_power_cut": MiningPowerCut,
    "legal_tender_reversal": LegalTenderReversal,
    "state_capacity": StateCapacityChange,
}
