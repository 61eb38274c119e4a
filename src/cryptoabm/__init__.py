"""cryptoabm: an agent-based model of national crypto policy, built on Mesa.

    from cryptoabm import CryptoEconomy, load_scenario
    model = CryptoEconomy(load_scenario("configs/turkmenistan_2026.toml"), seed=1)
    table = model.run()          # one row per month
"""

from cryptoabm.config import ConfigError, Scenario, load_scenario

__all__ = ["ConfigError", "CryptoEconomy", "Scenario", "load_scenario"]


def __getattr__(name: str):
    # Import the model (and Mesa, pandas) only when asked for, so that `cryptoabm check`
    # and `--help` answer at once.
    if name == "CryptoEconomy":
        from cryptoabm.model import CryptoEconomy

        return CryptoEconomy
    raise AttributeError(f"module 'cryptoabm' has no attribute {name!r}")
