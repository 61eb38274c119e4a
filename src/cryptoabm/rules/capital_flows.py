"""Capital flows with motives: why savers move money abroad, which route they take, and how
remittances come home.

A saver holding local-currency deposits expects to lose by it when the currency is expected to
fall (the parallel-market premium, converging over some years, or an explicit expectation),
when local inflation runs above dollar inflation, and when banks are not trusted. Moving money
abroad costs a one-off fee that depends on the route: the official route (a bank transfer)
is cheap where it is open and closed where capital controls bind; the crypto route (buy, send,
sell) costs exchange fees plus the expected loss from enforcement of the controls. A saver moves
when the gain over the holding horizon beats the cheapest open route's cost.

Shares and rates are per year unless the name says otherwise; costs are shares of the amount.
"""

from __future__ import annotations

import math

import numpy as np

from cryptoabm.config import CapitalFlightConfig, EconomyConfig, Policy, RemittanceConfig, StateCapacityConfig


def parallel_premium(economy: EconomyConfig) -> float:
    """How much dearer a dollar is on the street than at the official rate, share (0 when the
    rates agree; Turkmenistan's 19 against 3.5 manat is 4.4)."""
    return max(0.0, economy.parallel_rate_lcu_per_usd / economy.official_rate_lcu_per_usd - 1.0)


def expected_depreciation_annual(economy: EconomyConfig) -> float:
    """Yearly fall of the local currency that savers expect, log share: the official rate
    closing its gap to the parallel rate over ``parallel_convergence_years``, plus any
    expectation stated on top."""
    gap = math.log1p(parallel_premium(economy)) / economy.parallel_convergence_years
    return gap + economy.expected_depreciation_annual


def flight_motive_annual(economy: EconomyConfig, flight: CapitalFlightConfig) -> float:
    """What a saver expects to lose a year by keeping local-currency deposits at home, share.

    Expected depreciation and the inflation gap hit only the part of savings not already in
    dollars; distrust of banks adds a risk premium. Zero in a dollarised or stable, trusted
    economy with an open capital account. Never negative.
    """
    currency = (1.0 - economy.dollarisation_share) * (expected_depreciation_annual(economy) + economy.inflation_gap_annual)
    banks = (1.0 - economy.bank_trust) * flight.bank_risk_premium_annual
    return max(0.0, currency + banks)


def crypto_route_cost_share(flight: CapitalFlightConfig, crypto_flight_enforcement: float) -> float:
    """One-off cost of moving money out through crypto, share of the amount: exchange fees and
    spreads, plus the expected loss from enforcement against crypto outflows (KYC refusals,
    frozen accounts, fines), in proportion to its strength (``state_capacity.crypto_flight_enforcement``)."""
    return flight.crypto_route_cost_share + crypto_flight_enforcement * flight.controls_enforcement_cost_share


def moving_probability(motive_annual: float, route_cost_share: float, flight: CapitalFlightConfig) -> float:
    """Monthly chance that a saver moves part of their savings abroad: proportional to the net
    gain over the holding horizon (motive x years - one-off route cost), zero when it does not pay."""
    net_gain = motive_annual * flight.holding_horizon_years - route_cost_share
    return min(1.0, flight.moves_per_net_gain * max(0.0, net_gain))


def wallet_demand_for_flight(economy: EconomyConfig, flight: CapitalFlightConfig, policy: Policy,
                             capacity: StateCapacityConfig) -> float:
    """Monthly chance that a saver without a wallet gets one to move money out: the chance they
    want to move this month by the crypto route, times the share of savers to whom capital controls
    close the bank route. Zero with no motive or an open capital account."""
    motive = flight_motive_annual(economy, flight)
    crypto_cost = crypto_route_cost_share(flight, capacity.crypto_flight_enforcement)
    return moving_probability(motive, crypto_cost, flight) * policy.capital_controls


def crypto_route_share(flight: CapitalFlightConfig, crypto_flight_enforcement: float) -> float:
    """Of savers for whom the official route is open, the share who still choose crypto: a logit
    in the cost difference (cheaper crypto draws most, dearer crypto few)."""
    cost_gap = crypto_route_cost_share(flight, crypto_flight_enforcement) - flight.official_route_cost_share
    gap = cost_gap / flight.route_choice_scale
    return 1.0 / (1.0 + math.exp(min(gap, 700.0)))


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


def wanted_outflow_usd(savings_usd: np.ndarray, flight: CapitalFlightConfig) -> np.ndarray:
    """What a saver who moves wants to send abroad, USD: a share of their savings."""
    return savings_usd * flight.share_of_savings


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
    savings_usd: np.ndarray, outflow_limit_usd_per_month: float | None, flight: CapitalFlightConfig
) -> np.ndarray:
    """Savings a citizen sends abroad through crypto when they decide to, USD.

    Licensed exchanges enforce the per-person limit; the peer-to-peer share escapes it.
    """
    wanted = wanted_outflow_usd(savings_usd, flight)
    return licensed_outflow_usd(wanted, outflow_limit_usd_per_month, flight) + wanted * flight.p2p_leakage_share


def crypto_remittance_share(remittances: RemittanceConfig, recipients_with_wallet_share: float) -> float:
    """Share of inbound remittances that arrive through crypto wallets.

    It needs a recipient holding a wallet (a dormant one can still receive), a sender abroad able
    to send crypto, and a fee gap worth switching for: recipients' wallet share x sender access x
    (1 - exp(-s x fee gap)).
    """
    gap = max(0.0, remittances.traditional_fee_share - remittances.crypto_fee_share)
    switching = 1.0 - math.exp(-remittances.fee_gap_sensitivity * gap)
    return recipients_with_wallet_share * remittances.sender_crypto_access * switching
