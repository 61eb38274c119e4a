"""Every preset over many seeds, read as an economist would: the figures quoted in the README.

    python experiments/preset_outcomes.py [--seeds 20] [--citizens 2000]

For each preset it prints the share of runs in which mining survives to the horizon, the farms
at the end, the national gain from mining, the fiscal net, the current and financial accounts,
gross and net FDI (totals over the run, USD millions), capital flight through crypto per adult
and per wallet holder, the grey share of mining load, and for El Salvador the download
curve, merchants accepting and with sales, and the crypto share of remittances. Means over seeds,
with the 5-95% range across seeds in brackets.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cryptoabm.config import load_scenario
from cryptoabm.model import CryptoEconomy

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PRESETS = ("baseline", "turkmenistan_2026", "kazakhstan_2021", "kazakhstan_cryptocity", "el_salvador_2021",
           "dubai_2025", "car_2022")


def outcomes(preset: str, seed: int, citizens: int) -> dict[str, float]:
    scenario = load_scenario(CONFIGS / f"{preset}.toml", {"population.citizens": citizens})
    model = CryptoEconomy(scenario, seed=seed)
    table = model.run()
    adults = scenario.population.people_represented or scenario.population.citizens
    downloads = table["new_adopters"].to_numpy(dtype=float)
    total_downloads = downloads.sum()
    in_2022 = table["date"].str.startswith("2022")
    in_2024 = table["date"].str.startswith("2024")
    remittances = table.loc[in_2022, "remittances_usd"].sum()
    return {
        "mining_survives": float(table["miners"].iloc[-1] > 0),  # farms still in the country at the horizon
        "mining_running_end": float(table["hashrate_ehs"].iloc[-1] > 0),  # and running in the last month
        "farms_end": float(table["miners"].iloc[-1]),
        "farms_exit_months": float((table["miners"].diff().fillna(0) < 0).sum()),  # months in which any farm left
        "flight_per_adult_usd": table["capital_flight_usd"].sum() / adults,
        "flight_per_wallet_holder_usd": (table["capital_flight_usd"].sum()
                                         / max(table["ever_downloaded_share"].iloc[-1] * adults, 1.0)),
        "official_outflow_per_adult_usd": table["official_outflow_usd"].sum() / adults,
        "national_gain_from_mining_usd_m": table["national_gain_from_mining_usd"].sum() / 1e6,
        "fiscal_net_usd_m": table["fiscal_net_usd"].sum() / 1e6,
        "current_account_usd_m": table["current_account_usd"].sum() / 1e6,
        "financial_account_usd_m": table["financial_account_usd"].sum() / 1e6,
        "fdi_gross_usd_m": table["fdi_gross_usd"].sum() / 1e6,
        "fdi_net_usd_m": table["fdi_net_usd"].sum() / 1e6,
        "grey_load_share_mean": table["grey_load_share"].mean(),
        "grey_load_share_2021": table.loc[table["date"].str.startswith("2021"), "grey_load_share"].mean(),
        "downloads_month1_share": downloads[0] / total_downloads if total_downloads else np.nan,
        "downloads_after_month6_share": downloads[6:].sum() / total_downloads if total_downloads else np.nan,
        "downloads_in_2022_share": downloads[in_2022.to_numpy()].sum() / total_downloads if total_downloads else np.nan,
        "paid_last_12m_dec2021": float(table.loc[table["date"] == "2021-12", "paid_last_12_months_share"].sum()),
        "ever_downloaded_end": table["ever_downloaded_share"].iloc[-1],
        "active_end": table["active_share"].iloc[-1],
        "merchants_accepting_m12": table["merchant_accept_share"].iloc[min(11, len(table) - 1)],
        "merchants_with_sales_m12": table["merchant_sale_last_12_months_share"].iloc[min(11, len(table) - 1)],
        "crypto_remittance_share_2022": (table.loc[in_2022, "crypto_remittances_usd"].sum() / remittances
                                         if remittances else np.nan),
        "crypto_remittance_share_2024": (table.loc[in_2024, "crypto_remittances_usd"].sum()
                                         / table.loc[in_2024, "remittances_usd"].sum()
                                         if table.loc[in_2024, "remittances_usd"].sum() else np.nan),
        "receipts_converted_m12": table["receipts_converted_share"].iloc[min(11, len(table) - 1)],
        "world_hashrate_end_ehs": table["world_hashrate_ehs"].iloc[-1],
        "hashprice_end": table["hashprice_usd_per_ph_day"].iloc[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--presets", nargs="*", default=list(PRESETS))
    args = parser.parse_args()
    for preset in args.presets:
        rows = [outcomes(preset, seed, args.citizens) for seed in range(1, args.seeds + 1)]
        print(f"\n{preset} ({args.seeds} seeds, {args.citizens} citizens)")
        for key in rows[0]:
            values = np.array([row[key] for row in rows], dtype=float)
            if np.isnan(values).all():
                continue
            low, high = np.nanpercentile(values, [5, 95])
            print(f"  {key:<32} {np.nanmean(values):>12,.4g}   [{low:,.4g}, {high:,.4g}]")


if __name__ == "__main__":
    main()
