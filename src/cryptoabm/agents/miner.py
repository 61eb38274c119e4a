"""The Miner: one mining farm, licensed or grey, domestic or foreign-owned.

Each month it decides whether to run (each MWh must earn more than it costs), asks the grid
for power, and then settles: it sells the coins it mined, pays for power, the surcharge,
fixed costs and tax, sends profit home if foreign-owned, buys rigs when they pay back fast,
and leaves after a run of losses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from cryptoabm.rules.mining import (
    exits,
    expansion_hashrate_ths,
    farm_power_mw,
    monthly_energy_mwh,
    monthly_revenue_usd,
    profit_tax_usd,
    repatriable_profit_usd,
    revenue_usd_per_mwh,
    rig_payback_months,
    runs_this_month,
)
from cryptoabm.rules.units import KWH_PER_MWH, TH_PER_EH

if TYPE_CHECKING:
    from cryptoabm.agents.investor import ForeignInvestor
    from cryptoabm.model import CryptoEconomy


class Miner(Agent):
    """A mining farm. Its cash lives in the ledger under ``account``."""

    model: CryptoEconomy

    def __init__(
        self,
        model: CryptoEconomy,
        hashrate_ths: float,
        efficiency_j_per_th: float,
        owner: ForeignInvestor | None = None,
        in_special_zone: bool = False,
    ):
        super().__init__(model)
        self.hashrate_ths = hashrate_ths
        self.efficiency_j_per_th = efficiency_j_per_th
        self.owner = owner
        if owner is not None:
            owner.farms.append(self)
        self.in_special_zone = in_special_zone
        self.licensed = False
        self.licensed_since_month = model.month
        self.months_of_losses = 0
        self.requested_mw = 0.0
        self.served_share = 0.0
        self.last_profit_usd = 0.0
        self.account = f"miner:{self.unique_id}"
        model.ledger.open_account(self.account)

    # -- what the farm is -----------------------------------------------------------------
    @property
    def foreign_owned(self) -> bool:
        return self.owner is not None

    @property
    def grey(self) -> bool:
        """Operating without a licence."""
        return not self.licensed

    @property
    def power_mw(self) -> float:
        """Draw at full load, MW."""
        return farm_power_mw(self.hashrate_ths, self.efficiency_j_per_th)

    @property
    def hashrate_ehs(self) -> float:
        return self.hashrate_ths / TH_PER_EH

    @property
    def cash_usd(self) -> float:
        return self.model.ledger.balance(self.account)

    @property
    def uptime_share(self) -> float:
        """Share of the month the farm actually ran (requested and served)."""
        return self.served_share if self.requested_mw > 0 else 0.0

    def power_price_usd_per_kwh(self) -> float:
        """Average price of a kWh to this farm at full load: tariff plus surcharge if licensed,
        the grey-market price otherwise."""
        if self.grey:
            return self.model.config.mining.grey_power_price_usd_per_kwh
        return self.model.state.mining_power_price_usd_per_kwh(monthly_energy_mwh(self.power_mw, 1.0))

    # -- the month ------------------------------------------------------------------------
    def plan_operation(self) -> None:
        """Run at full load if each MWh earns more than it costs; otherwise idle (curtail)."""
        revenue_per_mwh = revenue_usd_per_mwh(self.model.market.hashprice_usd_per_ph_day, self.efficiency_j_per_th)
        runs = runs_this_month(revenue_per_mwh, self.power_price_usd_per_kwh())
        self.requested_mw = self.power_mw if runs else 0.0

    def settle_month(self) -> None:
        """Sell the coins mined, pay the bills and tax, send profit home, grow or leave."""
        ledger = self.model.ledger
        policy = self.model.state.policy
        mining = self.model.config.mining
        uptime = self.uptime_share
        energy_mwh = monthly_energy_mwh(self.power_mw, uptime)

        revenue = monthly_revenue_usd(self.model.market.hashprice_usd_per_ph_day, self.hashrate_ths, uptime)
        ledger.transfer("mining_revenue", "bitcoin_network", self.account, revenue)
        if self.licensed:
            power_bill = energy_mwh * KWH_PER_MWH * policy.miner_tariff_usd_per_kwh
            surcharge = self.model.state.surcharge_usd(energy_mwh)
        else:
            power_bill = energy_mwh * KWH_PER_MWH * mining.grey_power_price_usd_per_kwh
            surcharge = 0.0
        fixed_costs = self.hashrate_ths * mining.fixed_cost_usd_per_th_month
        ledger.transfer("power_sales", self.account, "grid_operator", power_bill)
        ledger.transfer("surcharge", self.account, "state", surcharge)
        ledger.transfer("operating_costs", self.account, "domestic_economy", fixed_costs)

        profit = revenue - power_bill - surcharge - fixed_costs
        tax_holiday = self.in_special_zone and policy.sez_tax_holiday
        tax = profit_tax_usd(profit, policy.mining_profit_tax_rate, tax_holiday) if self.licensed else 0.0
        ledger.transfer("profit_tax", self.account, "state", tax)
        after_tax = profit - tax
        self.last_profit_usd = after_tax
        # coins sold on domestic licensed exchanges: a change of currency, not a flow of money
        ledger.note("domestic_coin_sales", revenue * policy.domestic_sale_share)

        if self.foreign_owned:
            home = repatriable_profit_usd(after_tax, policy.domestic_sale_share, mining.repatriation_share_of_profit)
            ledger.transfer("profit_repatriation", self.account, self.owner.account, min(home, max(0.0, self.cash_usd)))

        self.months_of_losses = self.months_of_losses + 1 if after_tax < 0 else 0
        if exits(self.months_of_losses, mining.exit_after_loss_months, self.cash_usd):
            self.close(reason="losses")
            return
        self.buy_rigs()

    def buy_rigs(self) -> None:
        """Expand with today's rigs when they pay back within the threshold, but only after
        a month in which the farm got all the power it asked for (no curtailment)."""
        if self.uptime_share < 1.0:
            return
        mining = self.model.config.mining
        revenue_per_mwh = revenue_usd_per_mwh(self.model.market.hashprice_usd_per_ph_day, mining.new_rig_efficiency_j_per_th)
        payback = rig_payback_months(
            revenue_per_mwh,
            self.power_price_usd_per_kwh(),
            mining.new_rig_efficiency_j_per_th,
            mining.fixed_cost_usd_per_th_month,
            mining.rig_price_usd_per_th,
        )
        # keep a month of running costs as working capital before spending on rigs
        working_capital = monthly_energy_mwh(self.power_mw, 1.0) * KWH_PER_MWH * self.power_price_usd_per_kwh()
        new_ths = expansion_hashrate_ths(
            payback,
            mining.expansion_payback_months,
            self.cash_usd - working_capital,
            mining.expansion_share_of_cash,
            mining.max_expansion_share_per_month,
            self.hashrate_ths,
            mining.rig_price_usd_per_th,
        )
        if new_ths <= 0:
            return
        self.model.ledger.transfer("rig_imports", self.account, "rest_of_world", new_ths * mining.rig_price_usd_per_th)
        # the fleet's efficiency becomes the hashrate-weighted average of old and new rigs
        total = self.hashrate_ths + new_ths
        self.efficiency_j_per_th = (
            self.hashrate_ths * self.efficiency_j_per_th + new_ths * mining.new_rig_efficiency_j_per_th
        ) / total
        self.hashrate_ths = total

    def close(self, reason: str) -> None:
        """Leave the country: settle the cash (home to the owner, or into the domestic economy)
        and give up the licence. A negative balance is written off by the grid operator."""
        ledger = self.model.ledger
        cash = self.cash_usd
        if cash < 0:
            ledger.transfer("bad_debt", "grid_operator", self.account, -cash)
        elif self.foreign_owned:
            ledger.transfer("divestment", self.account, self.owner.account, cash)
        else:
            ledger.transfer("liquidation", self.account, "domestic_economy", cash)
        ledger.close_account(self.account)
        self.model.state.take_back_licence(self)
        if self.owner is not None:
            self.owner.farms.remove(self)
        self.model.record_miner_exit(self, reason)
        self.remove()
