"""The shared behavioural parameters: the one list of what ``configs/behaviour.toml`` holds,
and the ranges the calibration searches.

Behavioural parameters describe how people and firms respond (adoption hazards, campaign
decay, never-adopters, drop-out, merchants' costs, savers' and senders' sensitivities, farms'
exit and expansion rules, the world fleet's entry and exit, investors' hurdle and premia). They
are the same in every country, so they live in one file that every preset extends (through
``configs/baseline.toml``). Country inputs (population, incomes, phones and internet, grid,
exchange rates, policy timelines, a country's own risk premium) are never fitted.
"""

from __future__ import annotations

# every key configs/behaviour.toml holds, as dotted keys (section.field)
BEHAVIOURAL_KEYS: tuple[str, ...] = (
    # wallet adoption, use and abandonment
    "adoption.innovation_p",
    "adoption.imitation_q",
    "adoption.never_adopter_share",
    "adoption.bonus_pull_half_life_months",
    "adoption.bonus_innovation_multiplier",
    "adoption.adoption_cost_share_of_annual_income",
    "adoption.unbanked_adoption_cost_multiplier",
    "adoption.adoption_cost_log_sd",
    "adoption.trust_elasticity",
    "adoption.bonus_spend_months",
    "adoption.payment_propensity",
    "adoption.store_of_value_share",
    "adoption.dropout_hazard",
    "adoption.lasting_use_dropout_hazard",
    "adoption.dormant_abandon_hazard",
    "adoption.lasting_use_share",
    "adoption.unbanked_lasting_use_ratio",
    "adoption.bonus_adopter_lasting_use_ratio",
    # merchants' costs and reviews
    "merchants.review_probability",
    "merchants.sales_gain_per_active_customer_share",
    "merchants.processing_fee_share",
    "merchants.volatility_cost_weight",
    "merchants.staff_time_cost_share",
    "merchants.holding_gain_per_trust",
    # savers' flight sensitivities
    "capital_flight.adjustment_per_month",
    "capital_flight.holding_horizon_years",
    "capital_flight.route_choice_scale",
    "capital_flight.max_foreign_share",
    "capital_flight.half_target_net_gain_annual",
    "capital_flight.fixed_cost_usd_per_move",
    # senders of remittances
    "remittances.sender_crypto_access",
    "remittances.fee_gap_sensitivity",
    # farms' exit and expansion rules
    "mining.exit_after_months_below_salvage",
    "mining.expansion_payback_months",
    "mining.expansion_share_of_cash",
    "mining.max_expansion_share_per_month",
    # the rest of the world's fleet: entry, lag, idle exit
    "world_mining.capital_cost_annual",
    "world_mining.entry_rate_per_excess_return",
    "world_mining.entry_lag_months",
    "world_mining.idle_exit_rate_monthly",
    "world_mining.max_orders_share_monthly",
    "world_mining.order_horizon_months",
    "world_mining.switch_off_share_monthly",
    # foreign investors' hurdle and premia (a country's own base premium is a country input)
    "investors.alternative_return_annual",
    "investors.no_licence_premium_annual",
    "investors.policy_change_premium_annual",
    "investors.policy_change_memory_months",
    "investors.sez_premium_reduction_annual",
    "investors.investment_probability_per_month",
)

# the subset the calibration fits, each with the range its search covers: the prior's support
# (history matching's uniform prior; integer bounds: an integer parameter). The others in
# BEHAVIOURAL_KEYS keep their documented values: no target in validation/targets.toml informs them
# yet. No range is measured anywhere; each is argued (assumption), wide enough that the targets
# rather than the bounds decide the fit, and the posterior is reported against it.
CALIBRATED_RANGES: dict[str, tuple[int | float, int | float]] = {
    # monthly Bass hazards: from a near-zero unprompted hazard to 12%/year; imitation from a weak
    # to a very strong contagion (assumption: the span of Bass fits to new consumer technologies)
    "adoption.innovation_p": (0.0005, 0.01),
    "adoption.imitation_q": (0.02, 0.4),
    # from no one to half of adults never adopting whatever the pull (assumption)
    "adoption.never_adopter_share": (0.0, 0.5),
    # a bonus multiplies the unprompted hazard 20- to 300-fold: 40% of El Salvador's downloads in
    # the first month (facts.md, El Salvador: downloads) needs a pull of this order (argued)
    "adoption.bonus_innovation_multiplier": (20.0, 300.0),
    # the pull halves in two weeks to four months (the bonus was spent within about two months)
    "adoption.bonus_pull_half_life_months": (0.5, 4.0),
    # monthly drop-out of users without a lasting use: 10% to 90% a month (assumption)
    "adoption.dropout_hazard": (0.1, 0.9),
    # share of unprompted adopters who find a lasting use: 5% to 80% (assumption)
    "adoption.lasting_use_share": (0.05, 0.8),
    # monthly chance an active holder pays when a merchant accepts: 20% to certain (assumption)
    "adoption.payment_propensity": (0.2, 1.0),
    # a merchant's sales gain per unit share of active customers: none to 10% (assumption)
    "merchants.sales_gain_per_active_customer_share": (0.0, 0.1),
    # senders abroad able to send through a wallet: 2% to 30% (about 1-2% of El Salvador's
    # remittances came through wallets, facts.md, El Salvador: remittances)
    "remittances.sender_crypto_access": (0.02, 0.3),
    # months below the rigs' salvage value before a farm sells up: one month to a year (assumption)
    "mining.exit_after_months_below_salvage": (1, 12),
    # investors' hurdle elsewhere: 8% to 30% a year (assumption: from a diversified equity return
    # to a frontier-market venture's)
    "investors.alternative_return_annual": (0.08, 0.3),
    # monthly exit of the world's idle rigs: 2% to 30% (assumption)
    "world_mining.idle_exit_rate_monthly": (0.02, 0.3),
}

assert set(CALIBRATED_RANGES) <= set(BEHAVIOURAL_KEYS)
