"""cryptoabm: an agent-based model of national crypto policy, built on Mesa.

    import cryptoabm
    model = cryptoabm.CryptoEconomy(country="turkmenistan", policy="full_ban", seed=1)   # a country under a package
    table = model.run()                      # one row per month
    cryptoabm.outcomes(model)                # the headline outcomes, by name

    model = cryptoabm.CryptoEconomy(preset="turkmenistan_2026", license_cap=5, seed=1)   # levers by keyword
    model = cryptoabm.CryptoEconomy(cryptoabm.load_scenario("configs/turkmenistan_2026.toml"))   # seed=None: fresh
    results = cryptoabm.run_experiment("experiments/turkmenistan_options.toml", workers=2)
    results.runs, results.timeseries, results.compare("kazakhstan_package")
"""

from cryptoabm.config import ConfigError, Scenario, load_scenario

__all__ = ["ConfigError", "CryptoEconomy", "Results", "Scenario", "load_scenario", "outcomes", "run_experiment"]


def __getattr__(name: str):
    # Import the model (and Mesa, pandas) only when asked for, so that `cryptoabm check`
    # and `--help` answer at once.
    if name == "CryptoEconomy":
        from cryptoabm.model import CryptoEconomy

        return CryptoEconomy
    if name == "outcomes":
        from cryptoabm.summary import outcomes

        return outcomes
    if name in ("run_experiment", "Results"):
        from cryptoabm.batch import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'cryptoabm' has no attribute {name!r}")
