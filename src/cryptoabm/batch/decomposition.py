"""Which lever of a policy package did what: one lever at a time from the reference, plus the
interaction.

A package moves several levers at once (payments, licences, grid access, a bonus...). With
``decompose = true`` an experiment adds, for every arm that differs from the reference only in
its policy, one arm per lever the package moves: the reference with **only that lever** as the
package sets it, its scheduled changes included. These arms run on the same seeds and the same
uncertainty draws (common random numbers), so on replicate r

    package effect_r = sum over levers of (one-lever arm_r - reference_r) + interaction_r

where the interaction is the remainder: what the levers do together beyond the sum of what each
does alone. The parts add up to the package's paired effect exactly, replicate by replicate.

A lever is a policy instrument: the config fields that make no sense apart are moved together
(a bonus and its budget; a priority rule and the reserve it keeps); every other policy field
is a lever of its own. State capacity (``state_capacity.*``) belongs to the country and is the
same in every arm, so it is never a lever here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoabm.config import (
    POLICY_LEVERS,
    LegalTenderReversal,
    MiningPowerCut,
    Policy,
    PolicyChange,
    Scenario,
)
from cryptoabm.summary import OUTCOMES

# lever -> the policy fields it moves together (a field listed nowhere is a lever of its own)
LEVER_FIELDS: dict[str, tuple[str, ...]] = {
    "payment_regime": ("payment_regime",),
    "license_cap": ("license_cap",),
    "license_fee": ("license_fee_usd",),
    "miner_tariff": ("miner_tariff_usd_per_kwh",),
    "mining_surcharge": ("surcharge_usd_per_kwh", "surcharge_bands"),
    # the priority rule, the reserve it keeps, a cap, the adaptive rationing rule, and scheduled power cuts
    "grid_access": ("miner_grid_priority", "surplus_reserve_share", "mining_cap_mw", "ration_below_reserve_margin",
                    "ration_cut_share"),
    "sale_obligation": ("domestic_sale_share",),
    "profit_tax": ("mining_profit_tax_rate",),
    "special_zone": ("sez_active", "sez_tax_holiday", "sez_share_of_new_farms"),
    "capital_controls": ("capital_controls",),
    "outflow_limits": ("crypto_outflow_limit_usd_per_month", "tighten_outflows_above_usd_per_month",
                       "tightened_outflow_limit_usd_per_month"),
    "platform_pull": ("licensed_platform_pull",),
    "information_control": ("information_control",),
    "grey_mining_fine": ("grey_fine_usd_per_mw",),
    "wallet_bonus": ("wallet_bonus_usd", "bonus_budget_usd", "bonus_eligible_max_income_usd_per_month"),
}
POWER_CUTS_LEVER = "grid_access"  # scheduled mining_power_cut events move with the miners' grid access
INTERACTION = "interaction"  # the remainder row
TOTAL = "package_effect"  # the package's own paired effect
ARM_SEPARATOR = "."  # one-lever arm: <package arm>.<lever>


def levers() -> dict[str, tuple[str, ...]]:
    """Every lever and its fields: the grouped ones, then each remaining policy field alone."""
    grouped = {field for fields in LEVER_FIELDS.values() for field in fields}
    listed = {name: tuple(f for f in fields if f in POLICY_LEVERS) for name, fields in LEVER_FIELDS.items()}
    return {**{k: v for k, v in listed.items() if v}, **{f: (f,) for f in POLICY_LEVERS if f not in grouped}}


def _changes(event: Any) -> dict[str, Any]:
    """The lever values a scheduled policy measure puts into force (as the model applies it)."""
    if isinstance(event, PolicyChange):
        return dict(event.set)
    if isinstance(event, LegalTenderReversal):
        return {"payment_regime": event.new_regime, **({"wallet_bonus_usd": 0.0} if event.end_bonus else {})}
    return {}


def _is_policy_measure(event: Any) -> bool:
    return isinstance(event, (PolicyChange, LegalTenderReversal, MiningPowerCut))


@dataclass(frozen=True)
class PolicyPath:
    """The policy in force from the start of each month in which a measure changes it (month 0:
    the opening policy; a measure that changes nothing is no change), and the scheduled power cuts."""

    policies: dict[int, dict[str, Any]]
    power_cuts: tuple[tuple[int, float], ...]

    def at(self, month: int) -> dict[str, Any]:
        return self.policies[max(m for m in self.policies if m <= month)]


def policy_path(scenario: Scenario) -> PolicyPath:
    """A scenario's scheduled policy over the run (adaptive rules aside: they are levers too)."""
    current = scenario.policy.model_dump(mode="json")
    policies = {0: current}
    for event in sorted(scenario.events, key=lambda e: e.month):  # the model fires them in month order
        changes = _changes(event)
        updated = Policy.model_validate({**current, **changes}).model_dump(mode="json") if changes else current
        if updated != current:
            policies[event.month] = current = updated
    cuts = tuple((e.month, e.days) for e in scenario.events if isinstance(e, MiningPowerCut))
    return PolicyPath(policies, cuts)


def same_economy(reference: Scenario, package: Scenario) -> str | None:
    """Where two scenarios differ beyond their policy (None: nowhere)."""
    left = reference.model_dump(mode="json", exclude={"name", "description", "policy", "events"})
    right = package.model_dump(mode="json", exclude={"name", "description", "policy", "events"})
    differs = next((key for key in left if left[key] != right[key]), None)
    if differs is not None:
        return differs
    other = [[e.model_dump(mode="json") for e in s.events if not _is_policy_measure(e)] for s in (reference, package)]
    return "events (of the country or the world)" if other[0] != other[1] else None


def runs_alike(scenario: Scenario) -> str:
    """A key equal for two scenarios that run alike: the same economy and the same policy path
    (whatever their names, descriptions and the notes or shape of their scheduled measures)."""
    path = policy_path(scenario)
    return json.dumps([scenario.model_dump(mode="json", exclude={"name", "description", "policy", "events"}),
                       sorted(path.policies.items()), path.power_cuts,
                       [e.model_dump(mode="json", exclude={"note"}) for e in scenario.events if not _is_policy_measure(e)]],
                      sort_keys=True)


def levers_moved(reference: Scenario, package: Scenario) -> list[str]:
    """The levers a package sets differently from the reference, at the start or later."""
    ref, pkg = policy_path(reference), policy_path(package)
    months = sorted({*ref.policies, *pkg.policies})
    moved = []
    for lever, fields in levers().items():
        differs = any(ref.at(m)[f] != pkg.at(m)[f] for m in months for f in fields)
        if lever == POWER_CUTS_LEVER:
            differs = differs or ref.power_cuts != pkg.power_cuts
        if differs:
            moved.append(lever)
    return moved


def one_lever_overrides(reference: Scenario, package: Scenario, lever: str) -> dict[str, Any]:
    """Dotted overrides that turn the reference into the reference with only ``lever`` as the
    package sets it: its opening value and every scheduled change of it (the reference's own
    changes of the other levers kept). Returned as the opening ``policy.<field>`` values and
    the whole ``events`` list."""
    fields = levers()[lever]
    ref, pkg = policy_path(reference), policy_path(package)

    def mixed(month: int) -> dict[str, Any]:
        return {**ref.at(month), **{f: pkg.at(month)[f] for f in fields}}

    opening = mixed(0)
    events: list[dict[str, Any]] = []
    previous = opening
    for month in sorted({*ref.policies, *pkg.policies} - {0}):
        now = mixed(month)
        changed = {k: v for k, v in now.items() if v != previous[k]}
        if changed:
            events.append({"kind": "policy", "month": month, "set": changed,
                           "note": f"as the reference, with {lever} as in {package.name}"})
        previous = now
    cuts = pkg.power_cuts if lever == POWER_CUTS_LEVER else ref.power_cuts
    events += [{"kind": "mining_power_cut", "month": month, "days": days, "note": "scheduled power cut"}
               for month, days in cuts]
    events += [e.model_dump(mode="json") for e in reference.events if not _is_policy_measure(e)]
    events.sort(key=lambda e: e["month"])
    return {**{f"policy.{f}": opening[f] for f in fields}, "events": events}


def one_lever_arm_name(package_arm: str, lever: str) -> str:
    return f"{package_arm}{ARM_SEPARATOR}{lever}"


# ---------------------------------------------------------------------------------------
# From the runs: the decomposition table
# ---------------------------------------------------------------------------------------
def decompose_runs(runs: pd.DataFrame, decomposition: dict[str, Any], reference: str,
                   outcomes: tuple[str, ...]) -> pd.DataFrame:
    """One row per (package arm, design point, part, outcome): the mean over replicates of the
    part's paired effect, its 95% t-interval and n. Parts are the one-lever effects (arm with
    that lever alone minus the reference), the interaction (the package effect minus their
    sum) and the package effect itself; on each replicate they add up exactly.

    ``decomposition`` is what the batch manifest records: ``{"packages": {arm: {lever: one-lever
    arm}}}`` (packages that set a lever alike share its one-lever arm). Only replicates every arm
    of a package's decomposition ran are used.
    """
    from cryptoabm.batch.report import t_interval  # the report's intervals

    rows = []
    for package, lever_arms in decomposition.get("packages", {}).items():
        moved = list(lever_arms)
        arms = {TOTAL: package, **lever_arms}
        for point, at_point in runs.groupby("point", sort=True):
            by_arm = {name: at_point[at_point["arm"] == arm].set_index("replicate") for name, arm in arms.items()}
            base = at_point[at_point["arm"] == reference].set_index("replicate")
            common = sorted(set(base.index).intersection(*(frame.index for frame in by_arm.values())))
            if not common:
                continue
            for outcome in outcomes:
                ref_values = base.loc[common, outcome].to_numpy(dtype=float)
                effects = {name: frame.loc[common, outcome].to_numpy(dtype=float) - ref_values
                           for name, frame in by_arm.items()}
                parts = {lever: effects[lever] for lever in moved}
                parts[INTERACTION] = effects[TOTAL] - np.sum([parts[lever] for lever in moved], axis=0) \
                    if moved else effects[TOTAL]
                parts[TOTAL] = effects[TOTAL]
                for part, values in parts.items():
                    interval = t_interval(values)
                    rows.append({"package": package, "point": int(point), "part": part, "outcome": outcome,
                                 "mean": interval.mean, "low": interval.low, "high": interval.high, "n": interval.n})
    return pd.DataFrame(rows, columns=["package", "point", "part", "outcome", "mean", "low", "high", "n"])


def decomposition_section(table: pd.DataFrame, reference: str, outcomes: tuple[str, ...], fmt) -> list[str]:
    """The report's section: one table per package (and design point), levers down, outcomes
    across. ``fmt(outcome, value)`` formats a cell as the report's tables do."""
    if table.empty:
        return []
    n = int(table["n"].max())
    lines = ["## What each lever of a package contributes", "",
             f"Each package's paired effect against **{reference}**, split into its levers: a lever's row is the "
             f"effect of the reference with only that lever (and its scheduled changes) as the package sets it, on "
             f"the same seeds and draws; *interaction* is the rest of the package effect, what the levers do "
             f"together beyond their sum. The rows add up to the package effect exactly. Means over {n} "
             f"replicates (the decomposition's own, so the package effect can differ from the table above); "
             f"an effect whose 95% t-interval excludes 0 is marked *. The numbers, with intervals, are in "
             f"`decomposition.csv`.", ""]
    points = table["point"].nunique() > 1
    for (package, point), part_rows in table.groupby(["package", "point"], sort=False):
        lines += [f"**{package}**" + (f" (design point {point})" if points else ""), ""]
        lines += ["| lever | " + " | ".join(OUTCOMES[o][2] for o in outcomes) + " |",
                  "|---" * (len(outcomes) + 1) + "|"]
        cells = {(r["part"], r["outcome"]): r for r in part_rows.to_dict("records")}
        for part in dict.fromkeys(part_rows["part"]):
            shown = []
            for outcome in outcomes:
                row = cells[part, outcome]
                excludes_zero = (row["low"] > 0 or row["high"] < 0) and not math.isnan(row["low"])
                shown.append(fmt(outcome, row["mean"]) + (" *" if excludes_zero else ""))
            name = {TOTAL: "**package effect**", INTERACTION: "*interaction*"}.get(part, f"`{part}`")
            lines.append(f"| {name} | " + " | ".join(shown) + " |")
        lines.append("")
    return lines
