"""The ForeignInvestor: a foreign fund that owns farms here and puts money into the special zone.

How many farms are built is not the investors' choice of quantity: a greenfield farm is built
when its expected net present value is positive (``MiningEntry``), and an investor is then the
owner, its account the source of the FDI (raising abroad whatever its cash does not cover). An
investor demands a return: what its capital earns elsewhere plus a premium for policy risk (no
licence to be had, a recent policy change, the comfort of a special zone); that is the hurdle at
which its farms are valued. Each month it may review the special zone's ventures and put a
tranche in when they clear the bar, and it collects their earnings. All capital it sends is FDI;
all it brings home is repatriation or divestment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from cryptoabm.ledger import DOMESTIC_ECONOMY, NON_RESIDENT, REST_OF_WORLD, SEZ_VENTURES, STATE
from cryptoabm.rules.investment import invests, policy_risk_premium_annual, zone_venture_return_annual
from cryptoabm.rules.mining import profit_tax_usd
from cryptoabm.rules.units import MONTHS_PER_YEAR

if TYPE_CHECKING:
    from cryptoabm.agents.miner import Miner
    from cryptoabm.model import CryptoEconomy


class ForeignInvestor(Agent):
    """A foreign fund with capital to place. Its cash abroad is the ledger ``account``."""

    model: CryptoEconomy

    def __init__(self, model: CryptoEconomy, capital_usd: float):
        super().__init__(model)
        self.account = f"investor:{self.unique_id}"
        self.sez_stake_usd = 0.0
        self.farms: list[Miner] = []  # farms this investor owns here
        model.ledger.open_account(self.account, capital_usd, sector=NON_RESIDENT)

    @property
    def capital_usd(self) -> float:
        return self.model.ledger.balance(self.account)

    # -- judging the country ---------------------------------------------------------------
    def required_return_annual(self, in_special_zone: bool, holds_licence: bool = False) -> float:
        """What capital placed here must earn a year: the alternative plus the policy-risk premium."""
        return self.model.config.investors.alternative_return_annual + self.risk_premium_annual(in_special_zone, holds_licence)

    def risk_premium_annual(self, in_special_zone: bool, holds_licence: bool = False) -> float:
        """The premium this country's policy risk demands today (a farm that already holds a
        licence does not care whether more can be had)."""
        cfg = self.model.config.investors
        return policy_risk_premium_annual(cfg, holds_licence or self.model.licensing.available(),
                                          self.model.state.months_since_policy_change, in_special_zone)

    # -- the month -------------------------------------------------------------------------
    def review_special_zone(self) -> None:
        """Review the special zone's ventures (with some probability) while a zone is in force."""
        # drawn every month, reviewing or not, so that the stream does not depend on policy
        review_draw = self.model.streams.investors.random()
        if self.model.state.policy.sez_active and review_draw < self.model.config.investors.investment_probability_per_month:
            self.invest_in_special_zone()

    def fund(self, amount_usd: float) -> None:
        """Make sure the fund holds ``amount_usd`` here-bound cash: what its balance does not cover
        it raises abroad (capital does not limit entry; returns do)."""
        shortfall = amount_usd - self.capital_usd
        if shortfall > 0:
            self.model.ledger.transfer("funds_raised_abroad", REST_OF_WORLD, self.account, shortfall)

    def invest_in_special_zone(self) -> None:
        """Put a tranche into special-zone ventures (exchanges, payment firms) if they clear the
        bar and the zone has room for it (its ventures can absorb only so much)."""
        cfg = self.model.config.investors
        premium = self.risk_premium_annual(in_special_zone=True)
        zone_room = cfg.sez_ventures_capacity_usd - sum(i.sez_stake_usd for i in self.model.investors)
        after_tax = zone_venture_return_annual(cfg, self.model.state.policy)
        if invests(after_tax, premium, cfg.alternative_return_annual) \
                and self.capital_usd >= cfg.sez_venture_size_usd and zone_room >= cfg.sez_venture_size_usd:
            self.model.ledger.transfer(fdi_kind(in_special_zone=True), self.account, SEZ_VENTURES, cfg.sez_venture_size_usd)
            self.sez_stake_usd += cfg.sez_venture_size_usd

    def collect_returns(self) -> None:
        """Bring home the month's earnings on special-zone ventures."""
        if self.sez_stake_usd <= 0:
            return
        policy = self.model.state.policy
        earnings = max(0.0, self.sez_stake_usd * self.model.config.investors.sez_venture_return_annual / MONTHS_PER_YEAR)
        tax = profit_tax_usd(earnings, policy.mining_profit_tax_rate, policy.sez_tax_holiday)
        self.model.ledger.transfer("venture_earnings", DOMESTIC_ECONOMY, SEZ_VENTURES, earnings)
        self.model.ledger.transfer("zone_venture_tax", SEZ_VENTURES, STATE, tax)
        self.model.ledger.transfer("profit_repatriation", SEZ_VENTURES, self.account, earnings - tax)




def fdi_kind(in_special_zone: bool) -> str:
    """The ledger kind of a foreign investment: ``zone_fdi`` into the special zone (its farms and
    ventures), ``fdi`` elsewhere. Both count as FDI (``fdi_inflow_usd``)."""
    return "zone_fdi" if in_special_zone else "fdi"
