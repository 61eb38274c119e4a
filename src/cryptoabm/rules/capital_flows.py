"""Capital flows with motives: how much of their savings households want abroad, which route
they take, and how remittances come home.

Capital flight is a portfolio choice. Each saver holds local-currency savings and, once they
have moved some, foreign assets. They have a target foreign share of their wealth that rises
with the expected yearly loss on local assets and falls with the cost of the route open to
them; flight is the adjustment of the foreign stock toward that target (a saver rebalances in a
month with ``adjustment_per_month``), so it tapers as portfolios reach their targets and then
runs at the pace of new saving.

The expected loss on local assets (per year, share):

- the market rate's expected fall: the inflation gap (relative purchasing-power parity) plus any
  expected fall stated beyond it (``economy.expected_depreciation_annual``), counted once;
- the parallel premium is counted once too, in one of two forms. For savers to whom the bank
  route is open, who can convert at the official rate, it is a rent earned on each unit moved
  (they get ``1 + premium`` times the street value of their local money in dollars abroad).
  For the rest it is expected depreciation: the official rate closing its gap to the parallel
  over ``parallel_convergence_years``, passed into the prices their local money buys;
- distrust of banks: ``(1 - the saver's bank trust) x bank_risk_premium_annual``.

All of it applies to the part of savings not already held in dollars: in a dollarised economy a
saver who distrusts banks can hold dollar cash at home, so there is no motive to leave.

Money is in USD at the market (parallel) rate throughout: a saver's savings are what their local
money buys on the street. The official (bank) outflow is stated at that rate too (the street
value of the local money that leaves); the dollars it delivers abroad at the official rate are
``1 + premium`` times as many, and the difference is the conversion rent
(:func:`official_conversion_rent_usd`), which the central bank's reserves pay.

Where the rates differ, the official rate is rationed, not sold to whoever asks: the central
bank allocates a budget of dollars to households (``official_fx_allocation_usd_per_adult_year``),
and the official route is open only where there is an allocation to get. Two instruments, two
questions: ``policy.capital_controls`` says WHO may send money abroad through a bank (a share of
savers is barred, the same every month); the allocation says HOW MANY dollars the central bank
sells at the official rate to those who may (:func:`official_route_open`,
:func:`official_allocation_usd_per_month`, :func:`official_allocation_served_share`). With no
allocation (Turkmenistan's ban on converting cash at banks) every saver faces the street rate:
the premium is expected depreciation for all and nobody earns the rent. A saver who cannot
convert at the official rate has no bank route abroad (banks convert only at it); dollars bought
on the street are cash held at home (``economy.dollarisation_share``), and the way abroad is
crypto.

Shares and rates are per year unless the name says otherwise; costs are shares of the amount.
"""

from __future__ import annotations

import math

import numpy as np

from cryptoabm.config import CapitalFlightConfig, EconomyConfig, RemittanceConfig
from cryptoabm.rules.units import MONTHS_PER_YEAR


def parallel_premium(economy: EconomyConfig) -> float:
    """How much dearer a dollar is on the street than at the official rate, share (0 when the
    rates agree; Turkmenistan's 19 against 3.5 manat is 4.4)."""
    return max(0.0, economy.parallel_rate_lcu_per_usd / economy.official_rate_lcu_per_usd - 1.0)


def market_rate_depreciation_annual(economy: EconomyConfig) -> float:
    """Yearly fall of the market (street) value of local money that every saver expects, log
    share: the inflation gap (relative purchasing-power parity) plus any fall expected beyond it.
    The one place the inflation gap enters the motive."""
    return economy.inflation_gap_annual + economy.expected_depreciation_annual


def official_gap_closure_annual(economy: EconomyConfig) -> float:
    """Yearly fall of the official rate that closing its gap to the parallel rate implies, log
    share: ``log(1 + premium) / parallel_convergence_years``. It is expected depreciation for
    savers who cannot convert at the official rate."""
    return math.log1p(parallel_premium(economy)) / economy.parallel_convergence_years


def expected_local_loss_annual(
    economy: EconomyConfig, flight: CapitalFlightConfig, converts_at_official_rate: np.ndarray, bank_trust: np.ndarray
) -> np.ndarray:
    """What each saver expects to lose a year by keeping local-currency savings at home rather
    than in dollars abroad, share: the market rate's fall, the official rate's gap closure for
    those who cannot convert at it (for the others the premium is a rent, counted on the route:
    :func:`official_route_gain_share`), and the risk of banks they distrust, all on the part of
    savings not already in dollars. Zero in a dollarised economy."""
    currency = market_rate_depreciation_annual(economy) + np.where(
        converts_at_official_rate, 0.0, official_gap_closure_annual(economy))
    banks = (1.0 - bank_trust) * flight.bank_risk_premium_annual
    return (1.0 - economy.dollarisation_share) * (currency + banks)


def official_route_gain_share(economy: EconomyConfig, flight: CapitalFlightConfig) -> float:
    """One-off gain of moving money out through a bank at the official rate, share of the
    amount's street value: the parallel premium (the rent of converting at the official rate)
    less the bank's fees. Negative (a cost) where the rates agree."""
    return parallel_premium(economy) - flight.official_route_cost_share


def crypto_route_cost_share(flight: CapitalFlightConfig, crypto_flight_enforcement: float) -> float:
    """One-off cost of moving money out through crypto, share of the amount: exchange fees and
    spreads, plus the expected loss from enforcement against crypto outflows (KYC refusals,
    frozen accounts, fines), in proportion to its strength (``state_capacity.crypto_flight_enforcement``).
    Crypto is bought with local money at the street rate, so it earns no rent."""
    return flight.crypto_route_cost_share + crypto_flight_enforcement * flight.controls_enforcement_cost_share


def net_gain_from_foreign_assets_annual(
    local_loss_annual: np.ndarray, route_gain_share: np.ndarray | float, wealth_usd: np.ndarray,
    flight: CapitalFlightConfig,
) -> np.ndarray:
    """Yearly gain a saver expects from holding wealth abroad rather than at home, share: the
    loss avoided plus the route's one-off gain (negative: its cost) spread over the holding
    horizon, less the fixed cost of a move (``fixed_cost_usd_per_move``: time, travel, minimum
    trades) as a share of their wealth, also spread over the horizon. The fixed cost makes
    small savers stay at home."""
    wealth = np.maximum(wealth_usd, 1e-9)
    one_off = route_gain_share - flight.fixed_cost_usd_per_move / wealth
    return local_loss_annual + one_off / flight.holding_horizon_years


def target_foreign_share(net_gain_annual: np.ndarray, flight: CapitalFlightConfig) -> np.ndarray:
    """Share of their wealth a saver wants abroad: zero when holding abroad does not pay, then
    rising with the net gain toward ``max_foreign_share`` (what they keep at home for daily needs
    bounds it), half of it at ``half_target_net_gain_annual``."""
    gain = np.maximum(0.0, net_gain_annual)
    return flight.max_foreign_share * gain / (gain + flight.half_target_net_gain_annual)


def rebalancing_outflow_usd(
    target_share: np.ndarray, savings_usd: np.ndarray, foreign_assets_usd: np.ndarray
) -> np.ndarray:
    """What a saver who rebalances moves abroad, USD: the gap between their target foreign
    holding and what they hold abroad, never more than their savings at home and never negative
    (nobody brings money back in this model)."""
    gap = target_share * (savings_usd + foreign_assets_usd) - foreign_assets_usd
    return np.clip(gap, 0.0, savings_usd)


def crypto_route_share(flight: CapitalFlightConfig, cost_gap: float | np.ndarray) -> float | np.ndarray:
    """Of savers with both routes open, the share who still choose crypto: a logit in the cost
    difference (crypto's cost less the official route's, share of the amount; cheaper crypto
    draws most, dearer crypto few)."""
    gap = np.minimum(np.asarray(cost_gap, dtype=float) / flight.route_choice_scale, 700.0)
    share = 1.0 / (1.0 + np.exp(gap))
    return float(share) if np.ndim(share) == 0 else share


def official_conversion_rent_usd(official_outflow_usd: float, economy: EconomyConfig) -> float:
    """Extra dollars the official route delivers abroad over the street value of the local money
    moved, USD: the rent of converting at the official rate (``premium x outflow``), paid out of
    the central bank's reserves."""
    return parallel_premium(economy) * official_outflow_usd


def official_route_open(economy: EconomyConfig, flight: CapitalFlightConfig) -> bool:
    """Whether savers whom capital controls do not bar can convert at the official rate at all:
    where the rates agree (no parallel premium) the official rate is the market rate and nothing
    is rationed; where they differ, only if the central bank allocates households some dollars
    (``official_fx_allocation_usd_per_adult_year`` unset or above zero)."""
    allocation = flight.official_fx_allocation_usd_per_adult_year
    return parallel_premium(economy) <= 0.0 or allocation is None or allocation > 0.0


def official_allocation_usd_per_month(economy: EconomyConfig, flight: CapitalFlightConfig, adults: float) -> float:
    """Dollars the central bank sells households at the official rate this month to move savings
    abroad, USD delivered abroad (at the official rate): ``allocation per adult a year x adults /
    12``. Infinite where it sets no allocation or where there is no parallel premium (the official
    rate is then the market rate, which clears)."""
    allocation = flight.official_fx_allocation_usd_per_adult_year
    if allocation is None or parallel_premium(economy) <= 0.0:
        return math.inf
    return allocation * adults / MONTHS_PER_YEAR


def official_allocation_served_share(
    requested_usd: float, allocation_usd_per_month: float, economy: EconomyConfig
) -> float:
    """Share of the savings requested for conversion at the official rate (``requested_usd``, at
    their street value) that this month's allocation covers, pro rata to every request: the
    request asks ``(1 + premium) x requested_usd`` dollars at the official rate, so the share is
    ``min(1, allocation / that)``. What is not served stays at home this month. It bounds the
    conversion rent by ``premium / (1 + premium) x allocation``."""
    asked = requested_usd * (1.0 + parallel_premium(economy))
    if asked <= allocation_usd_per_month:
        return 1.0
    return allocation_usd_per_month / asked


def peer_to_peer_share(flight: CapitalFlightConfig, licensed_platform_pull: float) -> float:
    """Share of crypto flows that goes peer to peer, outside licensed platforms (and so outside
    their limits and taxes): the country's habit (``p2p_leakage_share``), less the part a licensed
    framework draws onto licensed platforms (``policy.licensed_platform_pull``: registration and
    trading under a legal framework, licensed on- and off-ramps such as bitcoin ATMs)."""
    return flight.p2p_leakage_share * (1.0 - licensed_platform_pull)


def channels_under_policy(flight: CapitalFlightConfig, licensed_platform_pull: float) -> CapitalFlightConfig:
    """The ``[capital_flight]`` section with the peer-to-peer share the policy leaves
    (:func:`peer_to_peer_share`), for the rules that split a flow between the channels."""
    return flight.model_copy(update={"p2p_leakage_share": peer_to_peer_share(flight, licensed_platform_pull)})


def licensed_outflow_usd(
    wanted_usd: np.ndarray, outflow_limit_usd_per_month: float | None, flight: CapitalFlightConfig
) -> np.ndarray:
    """Part of a citizen's crypto outflow that goes through licensed exchanges, USD.

    The non-P2P share of what they want to send, capped by the per-person limit if any.
    """
    through_licensed = wanted_usd * (1.0 - flight.p2p_leakage_share)
    if outflow_limit_usd_per_month is None:
        return through_licensed
    return np.minimum(through_licensed, outflow_limit_usd_per_month)


def crypto_outflow_usd(
    wanted_usd: np.ndarray, outflow_limit_usd_per_month: float | None, flight: CapitalFlightConfig
) -> np.ndarray:
    """What a citizen who wants to send ``wanted_usd`` abroad through crypto sends, USD.

    Licensed exchanges enforce the per-person limit; the peer-to-peer share escapes it.
    """
    return licensed_outflow_usd(wanted_usd, outflow_limit_usd_per_month, flight) + wanted_usd * flight.p2p_leakage_share


def crypto_remittance_share(remittances: RemittanceConfig, recipients_with_wallet_share: float) -> float:
    """Share of inbound remittances that arrive through crypto wallets.

    It needs a recipient holding a wallet (a dormant one can still receive), a sender abroad able
    to send crypto, and a fee gap worth switching for: recipients' wallet share x sender access x
    (1 - exp(-s x fee gap)).
    """
    gap = max(0.0, remittances.traditional_fee_share - remittances.crypto_fee_share)
    switching = 1.0 - math.exp(-remittances.fee_gap_sensitivity * gap)
    return recipients_with_wallet_share * remittances.sender_crypto_access * switching
