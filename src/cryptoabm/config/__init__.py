"""Scenario configuration: a typed, validated, immutable description of one run.

A scenario is a TOML file under ``configs/``. It may ``extends = "other.toml"`` (a path
relative to the file) and override any value; tables are merged key by key, while lists
(such as ``events``) are replaced whole. Everything is validated by pydantic before a run
starts, and any mistake becomes a :class:`ConfigError` whose message is one line naming
the file, the field and what is allowed.

Every field carries its unit in its name or its description. Defaults are neutral values;
``configs/baseline.toml`` sets the reference economy and gives the source of each figure.

The package is split by concern; every public name is importable from here:

- :mod:`~cryptoabm.config.values`: value types (shares, finite numbers, safe names, "none").
- :mod:`~cryptoabm.config.sections`: the tables of the economy (market, grid, mining, ...).
- :mod:`~cryptoabm.config.policy`: the policy levers and the scheduled events.
- :mod:`~cryptoabm.config.scenario`: the whole scenario, its validation, :func:`with_overrides`.
- :mod:`~cryptoabm.config.loading`: files, ``extends`` chains, country x policy composition.
- :mod:`~cryptoabm.config.errors`: :class:`ConfigError` and the wording of a mistake (light).
- :mod:`~cryptoabm.config.calendar`: month arithmetic (run months and calendar months).
- :mod:`~cryptoabm.config.catalogue`: the presets in the ``configs/`` folder.
"""

from cryptoabm.config.errors import ConfigError, InputError, first_problem
from cryptoabm.config.loading import (
    BASE_FILE,
    COUNTRIES_FOLDER,
    COUNTRY_EVENT_KINDS,
    EXPERIMENT_KEYS,
    MAX_EXTENDS_DEPTH,
    NOT_IN_A_COUNTRY,
    POLICIES_FOLDER,
    POLICY_EVENT_KINDS,
    POLICY_PACKAGE_KEYS,
    composition_files,
    config_files,
    load_composition,
    load_scenario,
    parse_once,
    read_toml,
)
from cryptoabm.config.policy import (
    EVENT_MODELS,
    POLICY_LEVERS,
    Event,
    HashrateShock,
    InternetShutdown,
    LegalTenderReversal,
    MiningPowerCut,
    Policy,
    PolicyChange,
    PriceShock,
    RelocationWave,
    StateCapacityChange,
    SurchargeBand,
)
from cryptoabm.config.scenario import (
    Scenario,
    _set_dotted,
    check_month_csv,
    scenario_from_dict,
    scenario_to_toml_dict,
    with_overrides,
)
from cryptoabm.config.sections import (
    AdoptionConfig,
    CapitalFlightConfig,
    EconomyConfig,
    GridConfig,
    InvestorConfig,
    MarketConfig,
    MerchantConfig,
    MiningConfig,
    PopulationConfig,
    RemittanceConfig,
    StateCapacityConfig,
    StateConfig,
    WorldMiningConfig,
)
from cryptoabm.config.values import (
    NONE_WORD,
    SAFE_NAME_PATTERN,
    SAFE_NAME_RULE,
    DriftOf,
    GridPriority,
    NetworkKind,
    NoneWord,
    NonNegative,
    PaymentRegime,
    Positive,
    PriceProcess,
    SafeName,
    Share,
    StrictValues,
    WrongKind,
)

__all__ = [
    "BASE_FILE", "COUNTRIES_FOLDER", "COUNTRY_EVENT_KINDS", "EVENT_MODELS", "EXPERIMENT_KEYS",
    "MAX_EXTENDS_DEPTH", "NONE_WORD", "NOT_IN_A_COUNTRY", "POLICIES_FOLDER", "POLICY_EVENT_KINDS",
    "POLICY_LEVERS", "POLICY_PACKAGE_KEYS", "SAFE_NAME_PATTERN", "SAFE_NAME_RULE",
    "AdoptionConfig", "CapitalFlightConfig", "ConfigError", "DriftOf", "EconomyConfig", "Event", "GridConfig",
    "GridPriority", "HashrateShock", "InputError", "InternetShutdown", "InvestorConfig",
    "LegalTenderReversal", "MarketConfig", "MerchantConfig", "MiningConfig", "MiningPowerCut",
    "NetworkKind", "NoneWord", "NonNegative", "PaymentRegime", "Policy", "PolicyChange",
    "PopulationConfig", "Positive", "PriceProcess", "PriceShock", "RelocationWave",
    "RemittanceConfig", "SafeName", "Scenario", "Share", "StateCapacityChange", "StateCapacityConfig",
    "StateConfig", "StrictValues", "SurchargeBand", "WrongKind",
    "WorldMiningConfig",
    "check_month_csv", "composition_files", "config_files", "first_problem", "load_composition",
    "load_scenario", "parse_once", "read_toml", "scenario_from_dict", "scenario_to_toml_dict", "with_overrides",
    "_set_dotted",
]
