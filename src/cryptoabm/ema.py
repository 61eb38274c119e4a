"""cryptoabm as an EMA Workbench model: one call, then EMA's own tools (optional extra `analysis`).

    from ema_workbench import perform_experiments
    from cryptoabm.ema import ema_model
    model = ema_model("turkmenistan", "turkmenistan_2026_law", citizens=500)
    experiments, outcomes = perform_experiments(model, scenarios=8, policies=2)

The model's **uncertainties** are the behaviour nobody has measured: the shared behavioural
parameters over the 5%-95% range of their posterior (``validation/calibration/posterior.parquet``
when it exists), else of the calibration's accepted draws (``validation/calibration/smm/fitted.toml``),
else over the ranges the calibration searches (``CALIBRATED_RANGES``); plus any ``extra``
ranges (an experiment's ``[uncertainty.ranges]``), the price regime and the value of energy when
the scenario has them, and the **seed**: the same scenario (seed included) under two policies
runs on the same price path, population and network, so EMA's scenario x policy designs are
paired comparisons (common random numbers). The **levers** are the policy package's own numeric
levers, each over a documented range (``LEVER_RANGES``). The **outcomes** are the headline
outcomes (:data:`cryptoabm.summary.OUTCOMES`), each MAXIMIZE or MINIMIZE as
:data:`cryptoabm.summary.BETTER` declares (INFO where no side is better).

The model function is a module-level ``functools.partial``, so EMA's multiprocessing evaluator
can send it to worker processes.
"""

from __future__ import annotations

import functools
import tempfile
import tomllib
from pathlib import Path
from typing import Any, get_args

from cryptoabm.config import ConfigError, Policy, Scenario, load_composition
from cryptoabm.summary import BETTER, OUTCOMES

SEED_PARAMETER = "seed"
SEED_RANGE = (0, 2**31 - 1)  # EMA samples integers as int32
NAME_SEPARATOR = "__"  # EMA passes parameters as keywords: "adoption.imitation_q" -> "adoption__imitation_q"
POSTERIOR_FILE = "validation/calibration/posterior.parquet"  # draws of the behavioural parameters (one column each)
FITTED_FILE = "validation/calibration/smm/fitted.toml"  # the calibration's accepted 5%-95% range per parameter
POSTERIOR_QUANTILES = (0.05, 0.95)
# Each lever's range for a search (assumption: from nothing to about twice the strongest package's
# value, or the whole share). A package's levers are those of this table its [policy] table sets.
LEVER_RANGES: dict[str, tuple[float, float]] = {
    "policy.license_cap": (0, 100),
    "policy.license_fee_usd": (0.0, 200_000.0),
    "policy.miner_tariff_usd_per_kwh": (0.02, 0.10),
    "policy.surcharge_usd_per_kwh": (0.0, 0.05),
    "policy.domestic_sale_share": (0.0, 1.0),
    "policy.mining_profit_tax_rate": (0.0, 0.4),
    "policy.capital_controls": (0.0, 1.0),
    "policy.crypto_outflow_limit_usd_per_month": (0.0, 1_000.0),
    "policy.licensed_platform_pull": (0.0, 1.0),
    "policy.information_control": (0.0, 1.0),
    "policy.wallet_bonus_usd": (0.0, 100.0),
}
# Uncertainties of the world that a scenario may carry (added only if the config has the field):
# a categorical price regime, and the shadow value of the energy miners burn (x0.5 to x1.5).
# The price regime (experiments/price_scenarios.toml's factors): how months are drawn, which
# the drift sets, and the drift itself between the bear and bull scenarios (-30% to +30% a year).
PRICE_PROCESS_KEY = "market.price_process"
DRIFT_OF_KEY = "market.price_drift_of"
DRIFT_KEY = "market.price_drift_annual"
DRIFT_RANGE = (-0.3, 0.3)  # assumption: the bear and bull arms of experiments/price_scenarios.toml
SHADOW_KEY = "grid.energy_shadow_value_usd_per_mwh"  # varied over the country's own range


def ema_name(dotted: str) -> str:
    """A dotted config key as an EMA parameter name (a Python keyword)."""
    return dotted.replace(".", NAME_SEPARATOR)


def dotted_key(name: str) -> str:
    return name.replace(NAME_SEPARATOR, ".")


def _configs_dir() -> Path:
    from cryptoabm.config.catalogue import configs_dir

    return configs_dir()


def behaviour_ranges(root: Path | None = None) -> tuple[dict[str, tuple[float, float]], str]:
    """The behavioural parameters' ranges and where they come from: the posterior's 5%-95%
    quantiles, else the calibration's accepted draws, else the ranges it searched."""
    from cryptoabm.calibration.parameters import CALIBRATED_RANGES

    root = Path(root) if root is not None else _configs_dir().parent
    posterior = root / POSTERIOR_FILE
    if posterior.is_file():
        import pandas as pd

        draws = pd.read_parquet(posterior)
        columns = [c for c in draws.columns if c in CALIBRATED_RANGES]
        if columns:
            low, high = draws[columns].quantile(POSTERIOR_QUANTILES[0]), draws[columns].quantile(POSTERIOR_QUANTILES[1])
            return {c: (float(low[c]), float(high[c])) for c in columns if high[c] > low[c]}, str(POSTERIOR_FILE)
    fitted = root / FITTED_FILE
    if fitted.is_file():
        parameters = tomllib.loads(fitted.read_text()).get("parameters", {})
        found = {key: (float(p["accepted_5pct"]), float(p["accepted_95pct"])) for key, p in parameters.items()
                 if key in CALIBRATED_RANGES and p["accepted_95pct"] > p["accepted_5pct"]}
        if found:
            return found, f"{FITTED_FILE} (accepted draws)"
    return {key: (float(low), float(high)) for key, (low, high) in CALIBRATED_RANGES.items()}, \
        "CALIBRATED_RANGES (no fit found)"


def package_levers(country: str, policy: str, configs: Path | None = None) -> list[str]:
    """The dotted keys of the levers a package sets that have a search range (``LEVER_RANGES``)."""
    scenario = load_composition(configs or _configs_dir(), country, policy)
    path = (configs or _configs_dir()) / "policies" / f"{policy}.toml"
    declared = tomllib.loads(path.read_text()).get("policy", {})
    return [key for key in LEVER_RANGES if key.split(".")[1] in declared
            and getattr(scenario.policy, key.split(".")[1]) is not None]


def world_uncertainties(scenario: Scenario) -> list[Any]:
    """The price regime and the shadow value of the energy miners use, as EMA parameters: the
    price process and what its drift sets (categorical), the drift between the bear and bull
    scenarios, and the shadow value over the country's own range
    (``grid.energy_shadow_value_range_usd_per_mwh``; left out when the range is a point)."""
    from ema_workbench import CategoricalParameter, RealParameter

    market_fields = type(scenario.market).model_fields
    found = [CategoricalParameter(ema_name(key), list(get_args(market_fields[key.split(".")[1]].annotation)))
             for key in (PRICE_PROCESS_KEY, DRIFT_OF_KEY)]
    found.append(RealParameter(ema_name(DRIFT_KEY), *DRIFT_RANGE))
    low, high = scenario.grid.energy_shadow_value_range_usd_per_mwh
    if high > low:
        found.append(RealParameter(ema_name(SHADOW_KEY), float(low), float(high)))
    return found


def run_for_ema(country: str, policy: str, fixed: dict[str, Any], seed: int = 1, **values: Any) -> dict[str, float]:
    """One run for EMA: the package on the country, with ``fixed`` and the sampled ``values``
    (EMA names) as overrides; returns the headline outcomes."""
    from cryptoabm.model import CryptoEconomy
    from cryptoabm.summary import outcomes

    overrides = {**fixed}
    for name, value in values.items():
        dotted = dotted_key(name)
        overrides[dotted] = value.item() if hasattr(value, "item") else value
    scenario = load_composition(_configs_dir(), country, policy, overrides, source="cryptoabm.ema")
    model = CryptoEconomy(scenario, seed=int(seed))
    model.run()
    return outcomes(model)


def ema_model(country: str, policy: str, *, levers: list[str] | None = None, extra: dict[str, tuple] | None = None,
              fixed: dict[str, Any] | None = None, months: int | None = None, citizens: int | None = None,
              outcomes: list[str] | None = None, seed_as_uncertainty: bool = True, root: Path | None = None):
    """An ``ema_workbench.Model`` of ``country`` under the policy package ``policy``.

    ``levers``: dotted policy keys to search (default: the package's own, ``package_levers``);
    ``extra``: more uncertainties, dotted key -> (low, high); ``fixed``: dotted keys held at a
    value (an experiment's standing levers, say); ``months``, ``citizens``: the run's size;
    ``outcomes``: which headline outcomes to report (default: all, with their directions).
    """
    from ema_workbench import Constant, IntegerParameter, Model, RealParameter, ScalarOutcome

    fixed = dict(fixed or {})
    if months is not None:
        fixed["months"] = months
    if citizens is not None:
        fixed["population.citizens"] = citizens
    scenario = load_composition(_configs_dir(), country, policy, fixed, source="cryptoabm.ema")  # checks the names
    chosen = levers if levers is not None else package_levers(country, policy)
    unknown = [key for key in chosen if key not in LEVER_RANGES]
    if unknown:
        raise ConfigError("cryptoabm.ema", "levers", f"no search range for {unknown[0]!r}; levers with one: "
                                                      f"{', '.join(LEVER_RANGES)}")
    model = Model("cryptoabm", function=functools.partial(run_for_ema, country, policy, fixed))
    ranges, _ = behaviour_ranges(root)
    ranges.update({key: tuple(bounds) for key, bounds in (extra or {}).items()})
    uncertainties = [_parameter(key, low, high, RealParameter, IntegerParameter) for key, (low, high) in ranges.items()]
    uncertainties += world_uncertainties(scenario)
    if seed_as_uncertainty:
        uncertainties.append(IntegerParameter(SEED_PARAMETER, *SEED_RANGE))
    model.uncertainties = uncertainties
    model.levers = [_parameter(key, *LEVER_RANGES[key], RealParameter, IntegerParameter) for key in chosen]
    if not seed_as_uncertainty:
        model.constants = [Constant(SEED_PARAMETER, scenario.seed)]
    kinds = {"higher": ScalarOutcome.MAXIMIZE, "lower": ScalarOutcome.MINIMIZE}
    model.outcomes = [ScalarOutcome(name, kind=kinds.get(BETTER.get(name, "neither"), ScalarOutcome.INFO))
                      for name in (outcomes or OUTCOMES)]
    return model


def _parameter(dotted: str, low: float, high: float, real: type, integer: type):
    """An EMA parameter over [low, high]: integer when the config field holds whole numbers."""
    if _holds_integers(dotted):
        return integer(ema_name(dotted), int(round(low)), int(round(high)))
    return real(ema_name(dotted), float(low), float(high))


def _holds_integers(dotted: str) -> bool:
    section, _, field = dotted.partition(".")
    model = Policy if section == "policy" else getattr(Scenario.model_fields.get(section), "annotation", None)
    info = getattr(model, "model_fields", {}).get(field)
    annotation = getattr(info, "annotation", None)
    return annotation is int or int in get_args(annotation)


# -- robust policies: EMA's many-objective search under the uncertainty ------------------------
DEFAULT_OBJECTIVES = ("total_state_revenue_usd", "total_fdi_inflow_usd", "total_capital_flight_usd",
                      "total_energy_shadow_cost_usd")
EPSILON_SHARE = 0.05  # an objective's epsilon: 5% of its mean under the package as it stands
STATUS_QUO = "package as it stands"


def robust_policies(model, objectives: tuple[str, ...], scenarios: int = 8, nfe: int = 400, seed: int = 1,
                    population_size: int = 12, status_quo: dict[str, Any] | None = None,
                    directory: Path | None = None):
    """Search the model's levers for policies robust over ``scenarios`` sampled scenarios
    (a Latin hypercube of the uncertainties, seeds included, seeded by ``seed``): EMA's
    ``robust_optimize`` (epsilon-NSGA-II, platypus) on the mean of each objective over the
    scenarios, in its better direction. Then every Pareto policy and the package as it stands
    are run on the same scenarios, and each policy's regret on an objective is its largest
    shortfall, over the scenarios, from the best of those policies in that scenario.

    Returns (pareto, regret, scenarios): the Pareto set (levers and objective means), the
    regret table (one row per policy: ``mean_<objective>`` over the scenarios and
    ``regret_<objective>``), the sampled scenarios. EMA
    keeps the search's archives in ``directory`` (default: a new temporary folder).
    """
    import numpy as np
    import pandas as pd
    from ema_workbench import Sample, ScalarOutcome, SequentialEvaluator, perform_experiments
    from ema_workbench.em_framework import LHSSampler

    kinds = {outcome.name: outcome.kind for outcome in model.outcomes}
    bad = [name for name in objectives if kinds.get(name, ScalarOutcome.INFO) == ScalarOutcome.INFO]
    if bad:
        raise ConfigError("cryptoabm optimize", "objective", f"{bad[0]!r} has no better side (cryptoabm.summary."
                                                             f"BETTER); objectives need one")
    sampled = LHSSampler().generate_samples(model.uncertainties, scenarios, rng=seed)
    lever_names = [lever.name for lever in model.levers]
    status_quo = {name: status_quo[name] for name in lever_names} if status_quo else None
    baseline = None
    if status_quo is not None:
        _, first = perform_experiments(model, scenarios=sampled, policies=[Sample(STATUS_QUO, **status_quo)],
                                       log_progress=False)
        baseline = {name: float(np.mean(first[name])) for name in objectives}
    epsilons = [max(abs(baseline[name]) if baseline else 1.0, 1e-9) * EPSILON_SHARE for name in objectives]
    robustness = [ScalarOutcome(f"mean_{name}", kind=kinds[name], variable_name=name, function=np.mean)
                  for name in objectives]
    with SequentialEvaluator(model) as evaluator:
        pareto, _ = evaluator.robust_optimize(robustness, sampled, nfe=nfe, epsilons=epsilons,
                                              population_size=population_size, rng=seed,
                                              filename="archives.tar.gz",
                                              directory=str(directory or tempfile.mkdtemp(prefix="cryptoabm-ema-")))
    pareto = pareto.reset_index(drop=True)
    candidates = [Sample(f"pareto_{i}", **{name: _plain(row[name]) for name in lever_names})
                  for i, row in pareto.iterrows()]
    if status_quo is not None:
        candidates.append(Sample(STATUS_QUO, **status_quo))
    experiments, results = perform_experiments(model, scenarios=sampled, policies=candidates, log_progress=False)
    table = pd.DataFrame({"policy": experiments["policy"].astype(str), "scenario": experiments["scenario"].astype(str),
                          **{name: results[name] for name in objectives}})
    regret = {}
    for name in objectives:
        by_scenario = table.pivot(index="scenario", columns="policy", values=name)
        better_is_higher = kinds[name] == ScalarOutcome.MAXIMIZE
        best = by_scenario.max(axis=1) if better_is_higher else by_scenario.min(axis=1)
        shortfall = (by_scenario.rsub(best, axis=0) if better_is_higher else by_scenario.sub(best, axis=0))
        regret[f"mean_{name}"] = by_scenario.mean(axis=0)
        regret[f"regret_{name}"] = shortfall.max(axis=0)
    regret_table = pd.DataFrame(regret).loc[[sample.name for sample in candidates]]
    regret_table.index.name = "policy"
    return pareto, regret_table, pd.DataFrame([dict(sample) for sample in sampled])


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
