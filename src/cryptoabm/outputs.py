"""Writing one run's results folder: monthly table (CSV, Parquet), resolved config, seed, dashboard."""

from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import tomli_w

from cryptoabm.config import Scenario, scenario_to_toml_dict

MONTHLY_CSV = "monthly.csv"
MONTHLY_PARQUET = "monthly.parquet"
RESOLVED_CONFIG = "config.toml"
RUN_INFO = "run.json"
DASHBOARD = "dashboard.png"


def _write_atomically(path: Path, write) -> None:
    """Write to a temporary name, then rename: a crash never leaves a half-written file."""
    temporary = path.with_name(path.name + ".partial")
    write(temporary)
    os.replace(temporary, path)


def write_run(out_dir: Path, scenario: Scenario, seed: int, table: pd.DataFrame, config_file: str) -> list[Path]:
    """Write every output of one run into ``out_dir``; returns the paths written."""
    from cryptoabm.dashboard import save_dashboard  # matplotlib: imported only when a dashboard is drawn
    out_dir.mkdir(parents=True, exist_ok=True)
    resolved = scenario_to_toml_dict(scenario.model_copy(update={"seed": seed}))
    info = {
        "scenario": scenario.name,
        "config_file": config_file,
        "seed": seed,
        "months": scenario.months,
        "cryptoabm_version": version("cryptoabm"),
        "mesa_version": version("mesa"),
    }
    paths = {name: out_dir / name for name in (MONTHLY_CSV, MONTHLY_PARQUET, RESOLVED_CONFIG, RUN_INFO, DASHBOARD)}
    _write_atomically(paths[MONTHLY_CSV], lambda p: table.to_csv(p, index=False))
    _write_atomically(paths[MONTHLY_PARQUET], lambda p: table.to_parquet(p, index=False, engine="pyarrow"))
    _write_atomically(paths[RESOLVED_CONFIG], lambda p: p.write_text(
        f"# Resolved scenario '{scenario.name}' as run (seed {seed}); rerun with: cryptoabm run {p.name}\n"
        + tomli_w.dumps(resolved)))
    _write_atomically(paths[RUN_INFO], lambda p: p.write_text(json.dumps(info, indent=2) + "\n"))
    title = f"{scenario.name}: {scenario.description}".rstrip(": ") + f"  (seed {seed})"
    event_months = sorted({event.month for event in scenario.events})
    _write_atomically(paths[DASHBOARD], lambda p: save_dashboard(table, p, title, event_months))
    return list(paths.values())
