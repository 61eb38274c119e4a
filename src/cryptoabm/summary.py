"""Headline outcomes of one run, computed from its monthly table.

Used by the command line's summary and by anything that compares runs. Each outcome is
either an end-of-horizon value, a mean over the last year (for a quantity that moves with the
seasons), a peak or trough, or a cumulative total of a monthly flow.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cryptoabm.formatting import usd
from cryptoabm.rules.units import MONTHS_PER_YEAR

# name: (column, how, label, format)
OUTCOMES: dict[str, tuple[str, str, str, str]] = {
    "final_ever_downloaded_share": ("ever_downloaded_share", "last", "Citizens who ever downloaded a wallet (end)", "pct"),
    "final_wallet_share": ("wallet_share", "last", "Citizens holding a wallet (end)", "pct"),
    "final_active_share": ("active_share", "last", "Citizens actively using one (end)", "pct"),
    "peak_active_share": ("active_share", "max", "Active users (peak)", "pct"),
    "final_merchant_accept_share": ("merchant_accept_share", "last", "Merchants accepting crypto (end)", "pct"),
    "mean_crypto_payment_share": ("crypto_payment_share", "mean", "Citizens paying in crypto (monthly mean)", "pct"),
    "final_paid_last_12_months_share": ("paid_last_12_months_share", "last", "Citizens who paid in crypto in the last 12 months (end)", "pct"),
    "peak_hashrate_ehs": ("hashrate_ehs", "max", "National hashrate, EH/s (peak)", "num"),
    "final_hashrate_ehs": ("hashrate_ehs", "last", "National hashrate, EH/s (end)", "num"),
    # the last month alone can be a season's reading: under surplus-only power miners get none in a
    # winter month whose reserve is short (kazakhstan_cryptocity ends in December)
    "final_year_hashrate_ehs": ("hashrate_ehs", "mean_last_year", "National hashrate, EH/s (mean of the last 12 months)", "num"),
    "peak_global_hashrate_share": ("global_hashrate_share", "max", "Share of global hashrate (peak)", "pct"),
    "final_miners": ("miners", "last", "Farms in the country (end)", "int"),
    "peak_licensed_miners": ("licensed_miners", "max", "Licensed farms (peak)", "int"),
    "final_licensed_miners": ("licensed_miners", "last", "Licensed farms (end)", "int"),
    "peak_mining_load_mw": ("mining_load_mw", "max", "Mining load, MW (peak)", "num"),
    "mean_grey_load_share": ("grey_load_share", "mean", "Grey share of mining load (mean)", "pct"),
    "min_reserve_margin": ("reserve_margin", "min", "Reserve margin (lowest)", "pct"),
    "total_curtailed_mwh": ("curtailed_mwh", "sum", "Miners' energy curtailed, MWh (total)", "num"),
    "total_unserved_mwh": ("unserved_mwh", "sum", "Households' energy unserved, MWh (total)", "num"),
    "total_fdi_inflow_usd": ("fdi_inflow_usd", "sum", "FDI inflow, gross, USD (total)", "usd"),
    "total_fdi_net_usd": ("fdi_net_usd", "sum", "FDI net of divestment, USD (total)", "usd"),
    "total_zone_fdi_inflow_usd": ("zone_fdi_inflow_usd", "sum", "FDI into the special zone, USD (total)", "usd"),
    "total_profit_repatriation_usd": ("profit_repatriation_usd", "sum", "Profit repatriated, USD (total)", "usd"),
    "total_capital_flight_usd": ("capital_flight_usd", "sum", "Capital flight via crypto, USD (total)", "usd"),
    "total_licensed_platform_outflow_usd": ("licensed_platform_outflow_usd", "sum",
                                            "Crypto outflow through licensed platforms, USD (total)", "usd"),
    "total_official_outflow_usd": ("official_outflow_usd", "sum", "Savings moved abroad through banks, USD (total)", "usd"),
    "total_crypto_remittances_usd": ("crypto_remittances_usd", "sum", "Remittances through crypto wallets, USD (total)", "usd"),
    "total_current_account_usd": ("current_account_usd", "sum", "Current account (= financial account), crypto and mining, USD (total)", "usd"),
    "total_financial_account_usd": ("financial_account_usd", "sum", "Financial account (net lending), USD (total)", "usd"),
    "total_national_gain_from_mining_usd": ("national_gain_from_mining_usd", "sum", "National gain from mining, USD (total)", "usd"),
    "total_state_revenue_usd": ("state_revenue_usd", "sum", "State revenue from mining, USD (total)", "usd"),
    "total_zone_venture_tax_usd": ("zone_venture_tax_usd", "sum", "Tax on the special zone's ventures, USD (total)", "usd"),
    "total_fiscal_net_usd": ("fiscal_net_usd", "sum", "Fiscal net: revenue + tariffs - energy, bonus, enforcement, USD (total)", "usd"),
    "total_bonus_outlay_usd": ("bonus_outlay_usd", "sum", "Wallet bonus outlays, USD (total)", "usd"),
    "total_energy_shadow_cost_usd": ("energy_shadow_cost_usd", "sum", "Miners' energy at its shadow value, USD (total)", "usd"),
    "max_bop_errors_omissions_usd": ("bop_errors_omissions_usd", "max_abs",
                                     "Balance of payments errors and omissions, USD (largest either way)", "usd"),
    "max_ledger_imbalance_usd": ("ledger_imbalance_usd", "max", "Ledger imbalance, USD (largest)", "usd"),
}


AGGREGATIONS = {
    "last": lambda values: values[-1],
    "max": np.max,
    "max_abs": lambda values: np.max(np.abs(values)),
    "min": np.min,
    "mean": np.mean,
    "mean_last_year": lambda values: np.mean(values[-MONTHS_PER_YEAR:]),  # all months if the run is shorter
    "sum": np.sum,
}


def summarise(table: pd.DataFrame | Mapping[str, np.ndarray]) -> dict[str, float]:
    """The headline outcomes of one run's monthly table (a DataFrame, or its columns as arrays)."""
    return {name: float(AGGREGATIONS[how](np.asarray(table[column]))) for name, (column, how, _, _) in OUTCOMES.items()}


def outcomes(model_or_table: object) -> dict[str, float]:
    """The headline outcomes of one run, by name (``OUTCOMES``: end-of-horizon values, peaks,
    monthly means and totals of flows), in the units their labels give (shares as fractions,
    money in USD).

    ``model_or_table`` is a :class:`~cryptoabm.model.CryptoEconomy` that has run at least one
    month (its months so far are summarised), or a monthly table (``model.run()``'s DataFrame,
    a ``monthly.parquet``, or its columns as arrays)::

        import cryptoabm
        model = cryptoabm.CryptoEconomy(country="turkmenistan", policy="full_ban", seed=1)
        model.run()
        cryptoabm.outcomes(model)["total_capital_flight_usd"]
    """
    results = getattr(model_or_table, "results", None)
    table = results() if callable(results) else model_or_table
    if len(table[next(iter(OUTCOMES.values()))[0]]) == 0:
        raise ValueError("no month has been run yet: step the model (model.run()) before asking for its outcomes")
    return summarise(table)


def format_value(value: float, kind: str) -> str:
    if kind == "pct":
        return f"{value:.1%}"
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "usd":
        return usd(value)
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def summary_table(table: pd.DataFrame) -> str:
    """A plain-text table of the headline outcomes, for the terminal."""
    outcomes = summarise(table)
    width = max(len(label) for _, _, label, _ in OUTCOMES.values())
    lines = []
    for name, (_, _, label, kind) in OUTCOMES.items():
        lines.append(f"  {label:<{width}}  {format_value(outcomes[name], kind):>12}")
    return "\n".join(lines)


# Which way is better for each outcome, from the side of a state that wants adoption, revenue and
# investment, a secure grid, and money kept at home: "higher", "lower", or "neither" (a size, not
# a good: hashrate, farms, load; or a diagnostic). Robustness tables compare policies only on
# outcomes with a direction.
BETTER: dict[str, str] = {
    "final_ever_downloaded_share": "higher",
    "final_wallet_share": "higher",
    "final_active_share": "higher",
    "peak_active_share": "higher",
    "final_merchant_accept_share": "higher",
    "mean_crypto_payment_share": "higher",
    "final_paid_last_12_months_share": "higher",
    "peak_hashrate_ehs": "neither",
    "final_hashrate_ehs": "neither",
    "final_year_hashrate_ehs": "neither",
    "peak_global_hashrate_share": "neither",
    "final_miners": "neither",
    "peak_licensed_miners": "neither",
    "final_licensed_miners": "neither",
    "peak_mining_load_mw": "neither",
    "mean_grey_load_share": "lower",
    "min_reserve_margin": "higher",
    "total_curtailed_mwh": "neither",
    "total_unserved_mwh": "lower",
    "total_fdi_inflow_usd": "higher",
    "total_profit_repatriation_usd": "neither",
    "total_capital_flight_usd": "lower",
    "total_official_outflow_usd": "neither",
    "total_crypto_remittances_usd": "neither",
    "total_fdi_net_usd": "higher",
    "total_current_account_usd": "neither",  # a surplus is lending abroad, not a good in itself
    "total_financial_account_usd": "neither",
    "total_national_gain_from_mining_usd": "higher",
    "total_state_revenue_usd": "higher",
    "total_zone_venture_tax_usd": "higher",
    "total_fiscal_net_usd": "higher",
    "total_bonus_outlay_usd": "lower",
    "total_energy_shadow_cost_usd": "lower",
    "max_bop_errors_omissions_usd": "neither",
    "max_ledger_imbalance_usd": "neither",
    # outcomes of the country x policy work (issue 12), declared here so the two merge cleanly
    "total_zone_fdi_inflow_usd": "higher",
    "total_licensed_platform_outflow_usd": "neither",
}


def better_side(outcome: str) -> str:
    """"higher", "lower" or "neither" (an outcome not declared in BETTER has no better side)."""
    return BETTER.get(outcome, "neither")

# Outcomes that cannot be negative (shares, counts, peaks of sizes, totals of flows that only
# run one way). Their intervals across replications are bootstrap intervals, which stay inside
# the values seen, so never cross zero. The accounts' balances, net FDI and the reserve margin can be negative.
BOUNDED_AT_ZERO: frozenset[str] = frozenset(OUTCOMES) - {
    "total_fdi_net_usd", "total_current_account_usd", "total_financial_account_usd", "total_national_gain_from_mining_usd",
    "total_fiscal_net_usd", "min_reserve_margin"}
