"""The world fleet's back-test on the record: the figures of the world_fleet_* targets.

    python validation/world_fleet_backtest.py

Runs the baseline's world fleet alone (no farms in the country) on the recorded monthly BTC
price, with the world hashrate left to the fleet from the recorded hashrate of its first month,
in the two variants the targets in validation/targets.toml define (world_fleet_2022: January
2022 to December 2025; world_fleet_2019: July 2019 to December 2020, before China's ban), and
prints each target's model value, the record and whether it passes. The fleet is deterministic
given the price path, so one run per variant is the whole answer.
"""

from __future__ import annotations

from pathlib import Path

from cryptoabm.calibration.metrics import evaluate
from cryptoabm.calibration.targets import load_targets
from cryptoabm.market import load_market_history
from cryptoabm.model import CryptoEconomy

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    loaded = load_targets(ROOT / "validation" / "targets.toml", ROOT / "configs")
    history = load_market_history()
    tables = {}
    print(f"{'target':<28} {'window':<18} {'model':>8} {'record/observed':>22}  result")
    for target in loaded.targets.targets:
        if not target.id.startswith("world_fleet"):
            continue
        scenario = loaded.scenarios[target.arm]
        if target.arm not in tables:
            tables[target.arm] = CryptoEconomy(scenario, seed=loaded.targets.base_seed).run()
        table = tables[target.arm]
        value = evaluate(target.metric, table, tuple(target.window), scenario)
        low, high = target.band
        if target.metric == "world_hashrate_vs_record":
            month = target.window[1]
            simulated = float(table.loc[table["date"] == month, "world_hashrate_ehs"].iloc[0])
            recorded = float(history.loc[month, "world_hashrate_ehs"])
            observed = f"{simulated:,.0f} vs {recorded:,.0f} EH/s"
        else:
            observed = f"record {target.observed_text()}"
        verdict = "pass" if low <= value <= high else "MISS"
        print(f"{target.id:<28} {target.window[0]}..{target.window[1]}  {value:>+8.1%} {observed:>22}  {verdict}")


if __name__ == "__main__":
    main()
