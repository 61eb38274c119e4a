"""The GridOperator: dispatches the country's power between households, industry and miners.

It forecasts non-mining demand (trend, season, noise), hears miners' requests, serves load
in the priority the policy sets, curtails miners first and households last, and values the
energy miners used at its shadow value (the opportunity cost of the gas burned: the export it
could have earned, 0 if stranded).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from mesa import Agent

from cryptoabm.config import GridConfig
from cryptoabm.config.calendar import calendar_month_of
from cryptoabm.ledger import GRID_OPERATOR
from cryptoabm.rules.grid import Dispatch, dispatch, non_mining_demand_mw, reserve_margin
from cryptoabm.rules.units import HOURS_PER_MONTH, MONTHS_PER_YEAR

if TYPE_CHECKING:
    from cryptoabm.model import CryptoEconomy

ACCOUNT = GRID_OPERATOR


class GridOperator(Agent):
    """The national grid: capacity, load and who gets served."""

    model: CryptoEconomy

    def __init__(self, model: CryptoEconomy, config: GridConfig):
        super().__init__(model)
        self.config = config
        self.capacity_mw = config.available_capacity_mw
        self.non_mining_demand_mw = config.base_demand_mw
        self.last_dispatch = Dispatch(config.base_demand_mw, 0.0, 0.0, 0.0)
        self.served_share_history: deque[float] = deque(maxlen=MONTHS_PER_YEAR)  # miners' served share, last 12 months
        model.ledger.open_account(ACCOUNT)

    def forecast_demand(self) -> float:
        """Non-mining demand this month, MW."""
        month = self.model.month
        calendar_month = calendar_month_of(self.model.config.start_month, month)
        noise = 1.0 + self.config.demand_noise_sd * self.model.streams.grid.standard_normal()
        self.non_mining_demand_mw = non_mining_demand_mw(self.config, month - 1, calendar_month, max(0.0, noise))
        return self.non_mining_demand_mw

    def dispatch_power(self) -> None:
        """Serve this month's load and tell each miner what share of its request it gets.

        If the reserve margin left is below the state's rationing trigger, the state caps miners
        within the month and the load is dispatched again. Days of a power cut to miners this
        month take that share of their energy away."""
        request_mw = sum(miner.requested_mw for miner in self.model.miners)
        demand_mw = self.forecast_demand()
        self.last_dispatch = self.serve(demand_mw, request_mw)
        if self.model.state.ration_miners_if_short(self.reserve_margin, self.last_dispatch.miners_served_mw):
            self.last_dispatch = self.serve(demand_mw, request_mw)
        cut = self.model.mining_power_cut_share
        if cut > 0:
            served = self.last_dispatch.miners_served_mw * (1.0 - cut)
            self.last_dispatch = Dispatch(self.last_dispatch.households_served_mw, served,
                                          self.last_dispatch.households_unserved_mw, request_mw - served)
        served_share = self.last_dispatch.miners_served_mw / request_mw if request_mw > 0 else 0.0
        self.served_share_history.append(self.miners_served_share)
        for miner in self.model.miners:
            miner.served_share = served_share if miner.requested_mw > 0 else 0.0

    def serve(self, demand_mw: float, request_mw: float) -> Dispatch:
        """One dispatch of the month's load under the policy in force."""
        return dispatch(self.capacity_mw, demand_mw, request_mw, self.model.state.policy, self.config)

    @property
    def miners_served_share(self) -> float:
        """Share of miners' requested power served last dispatch (1 when none was requested)."""
        requested = self.last_dispatch.miners_served_mw + self.last_dispatch.miners_curtailed_mw
        return self.last_dispatch.miners_served_mw / requested if requested > 0 else 1.0

    def expected_miners_served_share(self, new_farm_mw: float = 0.0) -> float:
        """Share of their full-load power miners expect to be served.

        Under a rationing cap, the cap shared among the farms here at full load, counting a
        farm about to be built (``new_farm_mw``): a cap does not pass with the season, and each
        farm that leaves raises the others' share. Otherwise the average served share over the
        last twelve months (a winter of curtailment is expected to pass), 1 before any dispatch.
        """
        cap = self.model.state.policy.mining_cap_mw
        if cap is not None:
            full_load = sum(miner.power_mw for miner in self.model.miners) + new_farm_mw
            return min(1.0, cap / full_load) if full_load > 0 else 1.0
        history = self.served_share_history
        return sum(history) / len(history) if history else 1.0

    @property
    def reserve_margin(self) -> float:
        served = self.last_dispatch.households_served_mw + self.last_dispatch.miners_served_mw
        return reserve_margin(self.capacity_mw, served)

    @property
    def curtailed_mwh(self) -> float:
        return self.last_dispatch.miners_curtailed_mw * HOURS_PER_MONTH

    @property
    def unserved_mwh(self) -> float:
        return self.last_dispatch.households_unserved_mw * HOURS_PER_MONTH

    @property
    def mining_load_mw(self) -> float:
        return self.last_dispatch.miners_served_mw

    def energy_shadow_cost_usd(self) -> float:
        """What the energy miners used this month costs the country, USD: served MWh at the
        energy's shadow value (the export its gas or power could have earned; 0 if stranded)."""
        return self.mining_load_mw * HOURS_PER_MONTH * self.config.energy_shadow_value_usd_per_mwh
