"""cryptoabm: an agent-based model of national crypto policy, built on Mesa.

    from cryptoabm import CryptoEconomy, load_scenario
    model = CryptoEconomy(load_scenario("configs/turkmenistan_2026.toml"), seed=1)
    table = model.run()          # one row per month
"""

from cryptoabm.config import ConfigError, Scenario, load_scenario
from cryptoabm.model import CryptoEconomy

__all__ = ["ConfigError", "CryptoEconomy", "Scenario", "load_scenario"]
