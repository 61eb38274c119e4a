"""Households over many seeds: who downloads a wallet and who still uses it a year on, by income
quartile and bonus size (El Salvador), and capital flight per adult and per wallet holder
(Turkmenistan). The figures quoted in docs/ODD.md (households) and in issue 18's closing note.

    python experiments/households.py [--seeds 20] [--citizens 2000]

El Salvador (el_salvador_2021, its bonus budget large enough for everyone) is run with a bonus of
$0, $30 and $100 on the same seeds (common random numbers). For each income quartile: the share
of adults who ever downloaded a wallet, and of those who downloaded in the campaign's first
twelve months, the share still active twelve months after they downloaded ("retained"). Means
over seeds, with the 5-95% range across seeds in brackets.

Turkmenistan (turkmenistan_2026): crypto flight and official (bank) outflow over the run, per
adult and per adult holding a wallet at the end, in USD at the market (parallel) rate, and the
share of household wealth held abroad at the end.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cryptoabm.config import load_scenario
from cryptoabm.model import CryptoEconomy

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
BONUSES = (0.0, 30.0, 100.0)
QUARTILES = 4
CAMPAIGN_MONTHS = 12  # downloaders of the campaign's first year, each followed for a year


def el_salvador(seed: int, bonus: float, citizens: int) -> dict[str, np.ndarray]:
    """Downloads and one-year retention by income quartile (poorest first) in one run."""
    overrides = {"population.citizens": citizens, "policy.wallet_bonus_usd": bonus, "policy.bonus_budget_usd": 1e12}
    scenario = load_scenario(CONFIGS / "el_salvador_2021.toml", overrides)
    model = CryptoEconomy(scenario, seed=seed)
    population = model.population
    downloaded_by = np.full(population.size, -1)
    for _ in range(CAMPAIGN_MONTHS):
        model.step()
        downloaded_by[population.downloaders_by_month[model.month]] = model.month
    for _ in range(CAMPAIGN_MONTHS):
        model.step()
    edges = np.quantile(population.income_usd_per_month, np.linspace(0.0, 1.0, QUARTILES + 1)[1:-1])
    quartile = np.searchsorted(edges, population.income_usd_per_month, side="right")
    cohort = downloaded_by > 0
    downloads, retained, banked, for_bonus = (np.empty(QUARTILES) for _ in range(4))
    for q in range(QUARTILES):
        in_q = quartile == q
        downloads[q] = population.ever_downloaded[in_q].mean()
        mine = cohort & in_q
        retained[q] = population.active_year_on[mine].mean() if mine.any() else np.nan
        banked[q] = population.is_banked[in_q].mean()
        for_bonus[q] = population.adopted_for_bonus[mine].mean() if mine.any() else np.nan
    everyone = {"downloads": population.ever_downloaded.mean(), "retained": population.active_year_on[cohort].mean(),
                "for_bonus": population.adopted_for_bonus[cohort].mean()}
    return {"downloads": downloads, "retained": retained, "banked": banked, "for_bonus": for_bonus,
            "all": np.array([everyone["downloads"], everyone["retained"], everyone["for_bonus"]])}


def turkmenistan(seed: int, citizens: int) -> dict[str, float]:
    scenario = load_scenario(CONFIGS / "turkmenistan_2026.toml", {"population.citizens": citizens})
    model = CryptoEconomy(scenario, seed=seed)
    table = model.run()
    adults = scenario.population.people_represented or scenario.population.citizens
    holders = table["wallet_share"].iloc[-1] * adults
    crypto, bank = table["capital_flight_usd"].sum(), table["official_outflow_usd"].sum()
    first, last = table["capital_flight_usd"].iloc[:12].sum(), table["capital_flight_usd"].iloc[-12:].sum()
    return {
        "crypto flight per adult, USD": crypto / adults,
        "crypto flight per wallet holder, USD": crypto / holders if holders else float("nan"),
        "bank outflow per adult, USD (market rate)": bank / adults,
        "official conversion rent per adult, USD": table["official_conversion_rent_usd"].sum() / adults,
        "crypto flight, USD m, first year": first / 1e6,
        "crypto flight, USD m, last year": last / 1e6,
        "wallet holders at the end, share of adults": table["wallet_share"].iloc[-1],
        "household wealth abroad at the end, share": table["foreign_asset_share"].iloc[-1],
    }


def spread(values: np.ndarray) -> str:
    low, high = np.nanpercentile(values, [5, 95])
    return f"{np.nanmean(values):.1%} [{low:.1%}-{high:.1%}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--citizens", type=int, default=2000)
    args = parser.parse_args()
    seeds = range(1, args.seeds + 1)

    print(f"El Salvador (el_salvador_2021), {args.seeds} seeds, {args.citizens} citizens; quartiles of income, poorest first")
    for bonus in BONUSES:
        runs = [el_salvador(seed, bonus, args.citizens) for seed in seeds]
        stack = {key: np.array([run[key] for run in runs]) for key in runs[0]}
        print(f"\n  bonus ${bonus:.0f}: ever downloaded {spread(stack['all'][:, 0])} of adults; of the first year's "
              f"downloaders, {spread(stack['all'][:, 1])} active a year on, {spread(stack['all'][:, 2])} bonus-driven")
        for q in range(QUARTILES):
            print(f"    Q{q + 1}: downloaded {spread(stack['downloads'][:, q])}, retained a year on "
                  f"{spread(stack['retained'][:, q])}, banked {spread(stack['banked'][:, q])}")

    print(f"\nTurkmenistan (turkmenistan_2026), {args.seeds} seeds, {args.citizens} citizens, 60 months")
    runs = [turkmenistan(seed, args.citizens) for seed in seeds]
    for key in runs[0]:
        values = np.array([run[key] for run in runs])
        low, high = np.nanpercentile(values, [5, 95])
        print(f"  {key}: {np.nanmean(values):,.3f} [{low:,.3f}-{high:,.3f}]")


if __name__ == "__main__":
    main()
