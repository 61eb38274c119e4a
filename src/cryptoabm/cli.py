"""The ``cryptoabm`` command line.

    cryptoabm run CONFIG [--seed N] [--months N] [--out DIR] [--overwrite] [--no-dashboard] [--force]
    cryptoabm check CONFIG [--force]
    cryptoabm batch EXPERIMENT [--workers N] [--scheduler ADDRESS|local | --cluster slurm] [--out DIR]
                               [--resume] [--csv] [--force]
    cryptoabm report DIR [--csv]
    cryptoabm sensitivity DIR [--outcome NAME ...] [--threshold 'OUTCOME>VALUE' ...]
    cryptoabm rerun DIR RUN_ID [--out DIR]
    cryptoabm calibrate TARGETS [--waves N] [--points N] [--split temporal|country:NAME] [--workers N | --scheduler ADDRESS]
    cryptoabm validate [TARGETS] [--replications R] [--workers N | --scheduler ADDRESS]
    cryptoabm viz [--host 127.0.0.1] [--port N]

Mistakes in the input are reported as one plain line on standard error, with exit code 2;
a failed run or batch exits with 1, Ctrl-C with 130. No traceback unless --debug.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from cryptoabm.config import ConfigError, InputError, Scenario, load_composition, load_scenario, scenario_from_dict
from cryptoabm.config.calendar import month_of_date
from cryptoabm.folder_lock import folder_lock

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
HOLDOUTS_FILE = "holdouts.toml"  # the pre-registered hold-outs, beside the target file
POSTERIOR_BESIDE_TARGETS = Path("calibration") / "posterior.parquet"  # the committed fit, beside the target file
CALIBRATION_OUT = "results/calibration_fit"  # a new folder: the committed fit (validation/calibration) stays as it is
WRITE_BEHAVIOUR_DEFAULT = Path("<behaviour.toml of the configs>")

DESCRIPTION = """\
cryptoabm: an agent-based model of what a country's crypto policy does when it meets a
real economy. The state, the grid operator, miners, foreign investors and citizens
interact month by month under the policy a scenario file sets."""

EPILOG = """\
examples:
  cryptoabm batch experiments/turkmenistan_options.toml
  cryptoabm run configs/turkmenistan_2026.toml --out results/tkm
  cryptoabm run configs/el_salvador_2021.toml --seed 7 --months 36
  cryptoabm check configs/my_scenario.toml
  cryptoabm report results/turkmenistan_options
  cryptoabm sensitivity results/sensitivity_turkmenistan --threshold 'total_capital_flight_usd>20m'
  cryptoabm calibrate validation/targets.toml   # fit the behaviour to the public record: results/calibration_fit/
  cryptoabm optimize experiments/turkmenistan_options.toml   # robust levers (EMA Workbench, many objectives)
  cryptoabm validate                             # validation/report.md: K of N targets pass
  cryptoabm viz                       # the browser app on http://127.0.0.1:8765/

Scenario files are TOML; see configs/baseline.toml for every key, its unit and its source.
Experiment files are TOML too; see experiments/README.md."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a mistake on the command line reported as one plain line (exit 2)."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error instead of one line")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = OneLineParser(
        prog="cryptoabm", description=DESCRIPTION, epilog=EPILOG, parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cryptoabm {version('cryptoabm')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_command = functools.partial(commands.add_parser, parents=[common])

    run = add_command(
        "run", help="run one scenario and write its results",
        description="Run one scenario from a config file. Prints a summary of the headline outcomes and "
                    "writes into DIR: monthly.csv and monthly.parquet (one row per month), config.toml "
                    "(the fully resolved scenario, rerunnable as is), run.json (seed and versions) and "
                    "dashboard.png (adoption, mining and grid, money flows; drawn after the summary is "
                    "printed, skipped with --no-dashboard). The same config and seed always give identical files.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  cryptoabm run configs/turkmenistan_2026.toml --seed 3 --out results/tkm-3",
    )
    run.add_argument("config", metavar="CONFIG", help="scenario file (TOML), e.g. configs/turkmenistan_2026.toml")
    run.add_argument("--seed", type=_non_negative_int, metavar="N",
                     help="random seed (default: the config's `seed`)")
    run.add_argument("--months", type=_positive_int, metavar="N",
                     help="months to simulate (default: the config's `months`); later events do not fire")
    run.add_argument("--out", type=Path, metavar="DIR",
                     help="results folder (default: results/<scenario name>-seed<N>)")
    run.add_argument("--overwrite", action="store_true",
                     help="replace the results of an earlier run in DIR (a folder holding anything else is "
                          "never written into)")
    run.add_argument("--no-dashboard", action="store_true",
                     help="write no dashboard.png (drawing it takes longer than running a preset); run.json lists "
                          "the files written")
    run.add_argument("-q", "--quiet", action="store_true", help="print only the results folder")
    run.add_argument("--force", action="store_true",
                     help="run even if the memory estimate says the model will not fit on this machine")

    check = add_command(
        "check", help="validate a config without running it",
        description="Validate a scenario file (and any file it extends) without running it. Prints a "
                    "one-line description on success; on a mistake prints one line naming the file, the "
                    "field and what is allowed, and exits with code 2.",
    )
    check.add_argument("config", metavar="CONFIG", help="scenario file (TOML)")
    check.add_argument("--force", action="store_true", help="do not refuse a model too big for this machine")

    batch = add_command(
        "batch", help="run an experiment file: many runs, then a comparison report",
        description="Run every arm x design point x replicate of an experiment file, with common random "
                    "numbers across arms, and write into DIR: runs/arm=<arm>/<run_id>.parquet for each finished "
                    "run (written atomically; a Parquet dataset partitioned by arm, outcomes as columns), "
                    "manifest.json (SHA-256 of every input, versions, git commit, the design with seeds, "
                    "timings), and at the end timeseries.parquet, runs.parquet and report.md. A run that raises "
                    "is recorded (failed/<run_id>.json) and the batch goes on; the command then exits 1 with a "
                    "count of failures. Ctrl-C stops cleanly, keeping every finished run; --resume runs only "
                    "the missing ones, after checking that no input changed. DIR is locked while a batch runs "
                    "in it. An experiment too big for this machine is refused with its estimate (--force "
                    "insists).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  cryptoabm batch experiments/turkmenistan_options.toml             # all cores\n"
               "  cryptoabm batch experiments/license_cap_sweep.toml --workers 1    # in this process\n"
               "  cryptoabm batch experiments/payment_ban_vs_bonus.toml --scheduler local   # a Dask LocalCluster\n"
               "  cryptoabm batch experiments/turkmenistan_options.toml --scheduler tcp://10.0.0.5:8786\n"
               "  cryptoabm batch experiments/turkmenistan_options.toml --resume    # finish an interrupted batch",
    )
    batch.add_argument("experiment", metavar="EXPERIMENT", help="experiment file (TOML), e.g. experiments/turkmenistan_options.toml")
    batch.add_argument("--workers", type=_positive_int, metavar="N",
                       help="parallel workers: 1 runs in this process; default: one per core, or this process "
                            "alone when the batch is smaller than a pool's start-up "
                            "(with --scheduler local: the LocalCluster's worker count)")
    where = batch.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS|local",
                       help="run on a Dask cluster: a scheduler address (tls://host:8786, or tcp://127.0.0.1:8786 "
                            "through an SSH tunnel), or 'local' to start a LocalCluster; needs the optional extra: "
                            "pip install 'cryptoabm[distributed]'")
    where.add_argument("--cluster", choices=["slurm"],
                       help="start Dask workers as SLURM jobs (dask-jobqueue); needs pip install 'cryptoabm[slurm]'")
    batch.add_argument("--cluster-config", type=Path, metavar="TOML",
                       help="SLURM options for --cluster slurm (jobs, queue, cores, memory, walltime, ...); "
                            "default: dask-jobqueue's own configuration")
    batch.add_argument("--csv", action="store_true", help="also write timeseries.csv and runs.csv")
    batch.add_argument("--force", action="store_true",
                       help="run even if the size estimate says the results or a model will not fit on this machine")
    batch.add_argument("--out", type=Path, metavar="DIR", help="results folder (default: results/<experiment name>)")
    batch.add_argument("--resume", action="store_true",
                       help="finish an interrupted batch in DIR: run only the missing runs (refused if the "
                            "experiment file changed since)")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar")
    batch.add_argument("--base-seed", type=_non_negative_int, metavar="S",
                       help="run the experiment on other random numbers: replaces its base_seed (for a second-seed "
                            "robustness check, with its own --out)")

    report = add_command(
        "report", help="write the comparison report of a batch",
        description="Write DIR/report.md and DIR/figures/ from a batch's tables: per-arm means, SDs and 95% "
                    "intervals of the key outcomes (bootstrap for outcomes bounded at zero, t otherwise), paired differences from the reference arm, fan charts "
                    "and a bar chart of differences. (batch runs this at the end.)",
    )
    report.add_argument("folder", metavar="DIR", type=Path, help="a batch results folder")
    report.add_argument("--csv", action="store_true", help="also write timeseries.csv and runs.csv")

    sensitivity = add_command(
        "sensitivity", help="sensitivity indices, robustness and PRIM boxes of a sampled batch",
        description="Analyse a batch run with a morris or sobol design (pip install 'cryptoabm[analysis]'). For each "
                    "outcome, on each arm's level and on each arm's paired effect against the reference (same point, "
                    "same seeds), averaged over the replications at each point: Morris mu*, sigma and mu*'s 95% "
                    "interval, or Sobol' S1 and ST (and S2 if sampled) with 95% intervals (SALib), checked against "
                    "the dummy parameter (seed noise). Then, over the sampled points: the share of points where each "
                    "arm beats the reference, each arm's regret, and with --threshold PRIM's box of parameters in "
                    "which each arm fails it. Writes DIR/sensitivity/ (tables as Parquet and CSV, figures) and adds "
                    "a section to DIR/report.md, replacing any earlier analysis.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  cryptoabm sensitivity results/sensitivity_turkmenistan\n"
               "  cryptoabm sensitivity results/sensitivity_turkmenistan --outcome total_state_revenue_usd\n"
               "  cryptoabm sensitivity results/sensitivity_turkmenistan --threshold 'total_capital_flight_usd>20m'\n"
               "threshold values are in the outcome's units: k, m, bn multiply by 1e3, 1e6, 1e9; % by 0.01",
    )
    sensitivity.add_argument("folder", metavar="DIR", type=Path, help="a batch results folder with a morris or sobol design")
    sensitivity.add_argument("--outcome", action="append", metavar="NAME",
                             help="an outcome to analyse (repeatable; default: the experiment's report_outcomes)")
    sensitivity.add_argument("--threshold", action="append", default=[], metavar="'OUTCOME>VALUE'",
                             help="find with PRIM where each arm fails this (repeatable), "
                                  "e.g. 'total_capital_flight_usd>20m' or 'final_wallet_share<5%%'")
    sensitivity.add_argument("--second-seed", type=Path, metavar="DIR2",
                             help="the same experiment run with another base_seed: every 'beats the reference at X%% "
                                  "of points' claim is reported at both seeds")

    optimize = add_command(
        "optimize", help="search an arm's levers for robust policies (EMA Workbench, many objectives)",
        description="Search the levers of one arm of an experiment (a country under a policy package) for "
                    "policies that do well across the uncertainty (pip install 'cryptoabm[analysis]'): EMA "
                    "Workbench's robust_optimize (epsilon-NSGA-II from platypus-opt) maximises or minimises the "
                    "mean of each objective over --scenarios sampled scenarios (a Latin hypercube of the behavioural "
                    "parameters' calibrated ranges, the experiment's [uncertainty.ranges] and the seed). The "
                    "experiment's standing levers and the arm's overrides stay fixed. Prints the Pareto set with "
                    "each policy's regret (its largest shortfall, over the scenarios, from the best policy found in "
                    "that scenario), the package as it stands included, and writes pareto.csv, regret.csv and "
                    "scenarios.csv into --out.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  cryptoabm optimize experiments/turkmenistan_options.toml\n"
               "  cryptoabm optimize experiments/turkmenistan_options.toml --arm kazakhstan_package --nfe 800 \\\n"
               "      --objective total_state_revenue_usd --objective total_capital_flight_usd",
    )
    optimize.add_argument("experiment", metavar="EXPERIMENT", type=Path, help="an experiment file")
    optimize.add_argument("--arm", metavar="NAME", help="the arm whose levers to search (default: the reference)")
    optimize.add_argument("--lever", action="append", metavar="KEY",
                          help="a lever to search, e.g. policy.license_cap (repeatable; default: the package's own "
                               "levers that are not standing levers)")
    optimize.add_argument("--objective", action="append", metavar="OUTCOME",
                          help="an outcome to optimise (repeatable; default: state revenue, FDI, capital flight and "
                               "power exports forgone)")
    optimize.add_argument("--scenarios", type=_positive_int, default=8, metavar="N",
                          help="scenarios every candidate policy is run on (default 8)")
    optimize.add_argument("--nfe", type=_positive_int, default=400, metavar="N",
                          help="function evaluations of the search, each a policy on every scenario (default 400)")
    optimize.add_argument("--population", type=_positive_int, default=12, metavar="N",
                          help="population size of the search (default 12)")
    optimize.add_argument("--citizens", type=_positive_int, metavar="N", help="citizens per run (default: the config's)")
    optimize.add_argument("--months", type=_positive_int, metavar="N",
                          help="months per run (default: the experiment's horizon)")
    optimize.add_argument("--seed", type=_non_negative_int, default=1, metavar="S",
                          help="seed of the scenario sample and the search (default 1)")
    optimize.add_argument("--out", type=Path, metavar="DIR", help="where the tables go (default results/<experiment>_optimize)")

    rerun = add_command(
        "rerun", help="rerun one run of a batch alone and check it reproduces",
        description="Rerun one run of a batch by itself, from the experiment file named in DIR/manifest.json "
                    "(refused if that file has changed), check that its row (DIR/runs/) and kept months (DIR/timeseries/) "
                    "equal the stored ones, and write the full single-run outputs (as `cryptoabm run` does) "
                    "into --out.",
    )
    rerun.add_argument("folder", metavar="DIR", type=Path, help="a batch results folder")
    rerun.add_argument("run_id", metavar="RUN_ID", help="e.g. kazakhstan_2021__p000__r003 (see DIR/manifest.json)")
    rerun.add_argument("--out", type=Path, metavar="OUT", help="where to write its outputs (default: DIR/rerun/RUN_ID)")

    calibrate = add_command(
        "calibrate", help="fit the shared behavioural parameters to the targets",
        description="Fit the shared behavioural parameters (src/cryptoabm/calibration/parameters.py: "
                    "CALIBRATED_RANGES) to the targets marked calibrate = true, less the pre-registered hold-outs "
                    "(--holdouts). Default method (history-matching): a noise study at the centre of the space "
                    "(--noise-replications runs) chooses the replications per point (at least 10; --replications "
                    "overrides); --waves waves of --points space-filling points, run through the batch layer on "
                    "common random numbers, each followed by Gaussian-process emulators of every target and a cut "
                    "of the space by implausibility (observation, discrepancy and ensemble variances; cut-off 3); "
                    "then emcee samples the posterior in the non-implausible space (--mcmc-steps, --posterior-draws). "
                    "Writes into --out: posterior.parquet, summary.toml, waves.csv, noise_study.csv, design.parquet, "
                    "convergence.png and predictive.csv (the held-out or split targets' posterior predictive check). "
                    "The shared behaviour file (configs/behaviour.toml) gets the posterior medians only with --write-behaviour "
                    "(never with --split); its comments are kept. --split temporal fits the "
                    "record to the end of 2022 and predicts 2023-25; --split country:NAME fits without one country "
                    "and predicts it. --method smm: the older simulated method of moments (--budget, --refine, "
                    "--draws). Country inputs are never fitted.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  cryptoabm calibrate validation/targets.toml --out results/my_fit\n"
               "  cryptoabm calibrate validation/targets.toml --out validation/calibration --write-behaviour\n"
               "  cryptoabm calibrate validation/targets.toml --split temporal --out validation/calibration/temporal\n"
               "  cryptoabm calibrate validation/targets.toml --scheduler tcp://10.0.0.5:8786",
    )
    calibrate.add_argument("targets", metavar="TARGETS", type=Path, help="target file, e.g. validation/targets.toml")
    calibrate.add_argument("--method", choices=("history-matching", "smm"), default="history-matching",
                           help="history matching then a posterior (default), or simulated method of moments")
    calibrate.add_argument("--waves", type=_positive_int, default=3, metavar="N", help="history-matching waves (default 3)")
    calibrate.add_argument("--points", type=_positive_int, default=48, metavar="N",
                           help="space-filling points per wave (default 48)")
    calibrate.add_argument("--implausibility-order", type=_positive_int, default=1, metavar="K",
                           help="cut on the K-th largest implausibility over the targets (default 1: the largest)")
    calibrate.add_argument("--noise-replications", type=_positive_int, default=30, metavar="N",
                           help="runs of the noise study at the centre of the space (default 30)")
    calibrate.add_argument("--mcmc-steps", type=_positive_int, default=3000, metavar="N",
                           help="steps of every emcee walker (default 3000; the first half is burn-in)")
    calibrate.add_argument("--posterior-draws", type=_positive_int, default=1000, metavar="N",
                           help="rows of posterior.parquet (default 1000)")
    calibrate.add_argument("--holdouts", type=Path, metavar="TOML",
                           help="pre-registered hold-outs, never fitted (default: holdouts.toml beside TARGETS, "
                                "validation/holdouts.toml)")
    calibrate.add_argument("--split", metavar="temporal|country:NAME",
                           help="fit part of the record and predict the rest (out-of-sample check)")
    calibrate.add_argument("--budget", type=_positive_int, default=64, metavar="N",
                           help="smm: points of the global Sobol' design (default 64)")
    calibrate.add_argument("--replications", type=_positive_int, metavar="R",
                           help="runs per point on common random numbers (default: from the noise study; smm: 2)")
    calibrate.add_argument("--refine", type=_non_negative_int, default=30, metavar="N",
                           help="smm: evaluations of the local Nelder-Mead refinement (default 30; 0: none)")
    calibrate.add_argument("--draws", type=_non_negative_int, default=32, metavar="N",
                           help="smm: Sobol' draws around the fitted point for its uncertainty (default 32; 0: none)")
    calibrate.add_argument("--out", type=Path, default=Path(CALIBRATION_OUT), metavar="DIR",
                           help=f"where the fit and the calibration's outputs go (default {CALIBRATION_OUT}; the "
                                f"committed fit is validation/calibration)")
    calibrate.add_argument("--write-behaviour", nargs="?", type=Path, const=WRITE_BEHAVIOUR_DEFAULT, default=None,
                           metavar="TOML", help="also write the fitted values into the shared behaviour file "
                                                "(default: behaviour.toml of --configs, or configs/behaviour.toml); "
                                                "without this flag it is never touched")
    _add_simulation_options(calibrate, "results/calibration")

    validate = add_command(
        "validate", help="run every preset against the targets: validation/report.md",
        description="Run every preset in configs/ --replications times (common random numbers) through the batch "
                    "layer, with the shared behavioural parameters of configs/behaviour.toml, and write into --out: "
                    "report.md (per target the model's mean and 95% interval against the observed value or "
                    "range, pass or miss, and the line 'K of N targets pass') and figures/<preset>.png (the "
                    "model's 5%-95% band over replications with the observed points, on calendar dates).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  cryptoabm validate\n  cryptoabm validate validation/targets.toml --replications 100",
    )
    validate.add_argument("targets", metavar="TARGETS", type=Path, nargs="?", default=Path("validation/targets.toml"),
                          help="target file (default validation/targets.toml)")
    validate.add_argument("--replications", type=_positive_int, default=30, metavar="R",
                          help="runs of every preset (default 30)")
    validate.add_argument("--months", type=_positive_int, metavar="N",
                          help="cut every run to N months (a quick check; targets after it are refused)")
    validate.add_argument("--out", type=Path, default=Path("validation"), metavar="DIR",
                          help="where report.md and figures/ go (default validation)")
    validate.add_argument("--posterior", type=Path, metavar="PARQUET",
                          help="posterior sample for the posterior predictive checks (default: calibration/"
                               "posterior.parquet beside TARGETS, validation/calibration/posterior.parquet; skipped "
                               "if absent)")
    validate.add_argument("--predictive-draws", type=_positive_int, default=20, metavar="N",
                          help="posterior draws of the predictive checks (default 20)")
    validate.add_argument("--predictive-replications", type=_positive_int, default=5, metavar="R",
                          help="seeds per posterior draw in the predictive checks (default 5)")
    validate.add_argument("--holdouts", type=Path, metavar="TOML",
                          help="pre-registered hold-outs, reported apart (default: holdouts.toml beside TARGETS, "
                               "validation/holdouts.toml)")
    _add_simulation_options(validate, "results/validation")

    from cryptoabm.viz.__main__ import add_arguments as add_viz_arguments

    viz = add_command(
        "viz", help="compare two policies on the same world in the browser",
        description="Start the browser app: a preset (A) against another preset's policy or changed levers (B) "
                    "on the same seed, stepped together (Step, Play/Pause, Reset), with A, B and B - A in every "
                    "chart and card, and the citizens' network coloured where they differ. The address encodes "
                    "the comparison (share it). With --results DIR, a finished batch to explore: fan charts, "
                    "paired differences and a live replay of any run. Prints the address; works offline; each "
                    "browser tab runs its own models. Stop it with Ctrl-C. Needs the optional extra: "
                    "pip install 'cryptoabm[viz]'.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  cryptoabm viz\n  cryptoabm viz --port 9000\n"
               "  cryptoabm viz --results results/payment_ban_vs_bonus   # explore a finished batch\n"
               "  cryptoabm viz --host 0.0.0.0    # reachable from other machines",
    )
    add_viz_arguments(viz)
    return parser


def _add_simulation_options(command: argparse.ArgumentParser, work: str) -> None:
    command.add_argument("--configs", type=Path, metavar="DIR",
                         help="the folder of presets (default: the repository's configs/)")
    command.add_argument("--work", type=Path, default=Path(work), metavar="DIR",
                         help=f"scratch folder for the batches' run files (default {work})")
    command.add_argument("--workers", type=_positive_int, metavar="N",
                         help="parallel worker processes (default: one per core; 1 runs in this process)")
    command.add_argument("--scheduler", metavar="ADDRESS|local",
                         help="run on a Dask cluster (scheduler address, or 'local'); needs "
                              "pip install 'cryptoabm[distributed]'")
    command.add_argument("--resume", action="store_true", help="finish an interrupted run of the command in --work")
    command.add_argument("--no-progress", action="store_true", help="no progress bars")


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def with_horizon(scenario: Scenario, months: int | None, seed: int | None = None,
                 source: str | Path = "<command line>") -> Scenario:
    """The scenario cut (or extended) to ``months`` and given ``seed``, validated by the same
    schema as a config file (events after the horizon are dropped)."""
    if months is None and seed is None:
        return scenario
    raw = scenario.model_dump(mode="json")
    options = []
    if months is not None:
        raw["months"] = months
        raw["events"] = [event for event in raw["events"] if event["month"] <= months]
        options.append(f"--months {months}")
    if seed is not None:
        raw["seed"] = seed
        options.append(f"--seed {seed}")
    return scenario_from_dict(raw, source=f"{source} with {' '.join(options)}")


def warn_of_dropped_events(scenario: Scenario, months: int | None) -> None:
    """One warning line naming the scheduled events a shorter ``--months`` leaves out."""
    dropped = [event for event in scenario.events if months is not None and event.month > months]
    if dropped:
        shown = ", ".join(f"{event.kind} in month {event.month}" for event in dropped[:4])
        more = f" and {len(dropped) - 4} more" if len(dropped) > 4 else ""
        print(f"cryptoabm: warning: --months {months} ends the run before {len(dropped)} scheduled event(s), "
              f"which will not happen: {shown}{more}", file=sys.stderr)


def command_check(args: argparse.Namespace) -> int:
    from cryptoabm.sizing import ensure_model_fits

    scenario = load_scenario(args.config)
    ensure_model_fits(scenario, args.config, args.force)
    print(f"{args.config}: ok: scenario '{scenario.name}', {scenario.months} months from {scenario.start_month}, "
          f"{scenario.population.citizens:,} citizens, {len(scenario.events)} scheduled events, "
          f"payment regime '{scenario.policy.payment_regime}'")
    return 0


def command_run(args: argparse.Namespace) -> int:
    from cryptoabm.outputs import check_run_folder, write_run
    from cryptoabm.sizing import ensure_model_fits

    loaded = load_scenario(args.config)
    warn_of_dropped_events(loaded, args.months)
    scenario = with_horizon(loaded, args.months, args.seed, args.config)
    ensure_model_fits(scenario, args.config, args.force)
    seed = scenario.seed
    out_dir = args.out if args.out is not None else Path("results") / f"{scenario.name}-seed{seed}"
    check_out_folder(out_dir)
    check_run_folder(out_dir, args.overwrite)  # before the run, not after it
    from cryptoabm.model import CryptoEconomy  # Mesa, numpy, pandas: only once the input is known to be good
    from cryptoabm.summary import summary_table

    started = time.perf_counter()
    model = CryptoEconomy(scenario, seed=seed)
    table = model.run()
    elapsed = time.perf_counter() - started
    if not args.quiet:  # the summary first: the files, and the dashboard's drawing, come after it
        first, last = table["date"].iloc[0], table["date"].iloc[-1]
        print(f"{scenario.name}: {scenario.months} months ({first} to {last}), "
              f"{scenario.population.citizens:,} citizens, seed {seed}, ran in {elapsed:.2f} s")
        print(summary_table(table), flush=True)
    try:
        written = write_run(out_dir, scenario, seed, table, str(args.config), overwrite=args.overwrite,
                            dashboard=not args.no_dashboard)
    except OSError as exc:
        print(f"cryptoabm: error: cannot write results to {out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        print(f"results: {out_dir}/ ({', '.join(path.name for path in written)})")
    else:
        print(out_dir)
    return 0


def check_out_folder(out_dir: Path) -> None:
    """Refuse (ConfigError) an output folder that is a file or cannot be written."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError("--out", "", f"{out_dir} is a file, not a folder")
    existing = out_dir.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError("--out", "", f"cannot make {out_dir}: {existing} is not a folder")
    try:  # the one sure test, for root and read-only disks too: make (and remove) a folder there
        os.rmdir(tempfile.mkdtemp(prefix=".cryptoabm-check-", dir=existing))
    except OSError as exc:
        raise ConfigError("--out", "", f"cannot write into {existing}: {exc.strerror or exc}") from None


def _placement(args: argparse.Namespace, loaded):
    """Where the batch runs: this process, a process pool, a Dask cluster or SLURM."""
    from cryptoabm.batch import clusters
    from cryptoabm.batch.experiment import run_sizes

    if args.cluster_config is not None and args.cluster != "slurm":
        raise ConfigError("--cluster-config", "", "goes with --cluster slurm")
    if args.cluster == "slurm":
        return clusters.slurm_placement(args.cluster_config)
    if args.scheduler is not None:
        return clusters.dask_placement(args.scheduler, args.workers)
    return clusters.local_placement(args.workers, run_sizes(loaded))


def command_batch(args: argparse.Namespace) -> int:
    from cryptoabm.batch.experiment import ensure_results_fit_on_disk, load_experiment
    from cryptoabm.batch.report import write_report
    from cryptoabm.batch.runner import run_batch

    loaded = load_experiment(args.experiment, force=args.force, base_seed=args.base_seed)
    out_dir = args.out if args.out is not None else Path("results") / loaded.experiment.name
    check_out_folder(out_dir)
    ensure_results_fit_on_disk(loaded.experiment, out_dir, args.force)
    placement = _placement(args, loaded)
    if placement.note:
        print(f"cryptoabm: {placement.note}", file=sys.stderr)
    print(f"{loaded.experiment.name}: running on {placement.where} into {out_dir}/", file=sys.stderr)
    try:
        outcome = run_batch(loaded, out_dir, placement.make_executor, resume=args.resume,
                            progress=not args.no_progress, csv=args.csv)
    except KeyboardInterrupt:
        print(f"cryptoabm: interrupted; finished runs are kept in {out_dir}/runs/; "
              f"finish with: cryptoabm batch {args.experiment} --out {out_dir} --resume"
              + (f" --base-seed {args.base_seed}" if args.base_seed is not None else ""), file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        placement.close()
    try:
        report = write_report(out_dir)
    except KeyboardInterrupt:
        print(f"cryptoabm: interrupted while writing the report; every run and table is in {out_dir}/; "
              f"write the report with: cryptoabm report {out_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"{outcome.finished} of {outcome.total} runs finished ({outcome.skipped} from before) in "
          f"{outcome.seconds:.1f} s; tables and report: {report}")
    if outcome.failed:
        print(f"cryptoabm: {len(outcome.failed)} of {outcome.total} runs failed; tracebacks in "
              f"{out_dir}/failed/<run_id>.json", file=sys.stderr)
        return EXIT_FAILED
    return 0


def command_report(args: argparse.Namespace) -> int:
    from cryptoabm.batch.report import write_report
    from cryptoabm.batch.store import export_csv

    print(write_report(args.folder))
    if args.csv:
        for path in export_csv(args.folder):
            print(path)
    return 0


def command_sensitivity(args: argparse.Namespace) -> int:
    from cryptoabm.batch.sensitivity_report import analyse, summary_lines

    started = time.perf_counter()
    analysis = analyse(args.folder, args.outcome, args.threshold)
    for line in summary_lines(analysis):
        print(line)
    if args.second_seed is not None:
        for line in _second_seed(args, analysis):
            print(line)
    print(f"analysed in {time.perf_counter() - started:.1f} s")
    return 0


def command_optimize(args: argparse.Namespace) -> int:
    from cryptoabm.batch.experiment import load_experiment

    try:
        from cryptoabm import ema
    except ImportError as exc:  # ema_workbench or platypus missing
        raise ConfigError("optimize", "", f"needs the analysis extra: pip install 'cryptoabm[analysis]' ({exc})") from None
    loaded = load_experiment(args.experiment, force=True)
    experiment = loaded.experiment
    arm_name = args.arm or experiment.reference
    arm = next((a for a in experiment.arms if a.name == arm_name), None)
    if arm is None:
        raise ConfigError(args.experiment, "--arm", f"no arm named '{arm_name}'; arms: "
                                                    f"{', '.join(a.name for a in experiment.arms)}")
    if arm.country is None:
        raise ConfigError(args.experiment, "--arm", f"arm '{arm_name}' is a preset file; optimize searches the levers "
                                                    f"of an arm that names a country and a policy_package")
    fixed = {**experiment.standing_levers, **arm.overrides}
    levers = args.lever or [key for key in ema.package_levers(arm.country, arm.policy_package) if key not in fixed]
    objectives = tuple(args.objective or [o for o in ema.DEFAULT_OBJECTIVES])
    model = ema.ema_model(arm.country, arm.policy_package, levers=levers, extra=dict(experiment.uncertainty.ranges),
                          fixed=fixed, months=args.months or experiment.horizon_months, citizens=args.citizens,
                          outcomes=list(objectives))
    scenario = load_composition(_configs_of(args.experiment), arm.country, arm.policy_package, fixed)
    status_quo = {ema.ema_name(key): getattr(scenario.policy, key.split(".")[1]) for key in levers}
    started = time.perf_counter()
    print(f"optimize: {arm_name} ({arm.country} under {arm.policy_package}); levers {', '.join(levers)}; "
          f"{len(model.uncertainties)} uncertainties; {args.scenarios} scenarios; {args.nfe} evaluations",
          file=sys.stderr)
    out = args.out or Path("results") / f"{experiment.name}_optimize"
    check_out_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    pareto, regret, scenarios = ema.robust_policies(model, objectives, scenarios=args.scenarios, nfe=args.nfe,
                                                    seed=args.seed, population_size=args.population,
                                                    status_quo=status_quo, directory=out)
    pareto.to_csv(out / "pareto.csv", index=False)
    regret.to_csv(out / "regret.csv")
    scenarios.to_csv(out / "scenarios.csv", index=False)
    for line in optimize_lines(pareto, regret, levers, objectives, status_quo):
        print(line)
    print(f"{len(pareto)} Pareto policies in {time.perf_counter() - started:.0f} s; tables in {out}/")
    return 0


def _configs_of(experiment_path: Path) -> Path:
    beside = experiment_path.parent
    return beside if (beside / "countries").is_dir() else beside.parent / "configs"


def optimize_lines(pareto, regret, levers: list[str], objectives: tuple[str, ...], status_quo: dict) -> list[str]:
    """The Pareto set as a plain table: each policy's levers, objective means and regrets."""
    from cryptoabm import ema
    from cryptoabm.summary import OUTCOMES, format_value

    names = [ema.ema_name(key) for key in levers]
    rows = [(f"pareto_{i}", {n: row[n] for n in names}) for i, row in pareto.iterrows()]
    lines = ["policy | " + " | ".join(key.split(".")[1] for key in levers) + " | "
             + " | ".join(f"{o}: mean (regret)" for o in objectives)]
    for name, values in [*rows, (ema.STATUS_QUO, status_quo)]:
        lever_cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in values.values()]
        outcome_cells = [f"{format_value(float(regret.loc[name, f'mean_{o}']), OUTCOMES[o][3])} "
                         f"({format_value(float(regret.loc[name, f'regret_{o}']), OUTCOMES[o][3])})" for o in objectives]
        lines.append(f"{name} | " + " | ".join(lever_cells) + " | " + " | ".join(outcome_cells))
    return lines


def _second_seed(args: argparse.Namespace, analysis: Any) -> list[str]:
    """Analyse the second seed's batch, compare every claim, add the section; the lines printed."""
    from cryptoabm.batch.report import SECTIONS, read_batch, write_report
    from cryptoabm.batch.seed_check import (
        SECTION,
        check_same_experiment,
        compare_win_shares,
        second_seed_figure,
        second_seed_section,
    )
    from cryptoabm.batch.sensitivity_report import FOLDER, analyse

    first, _, _ = read_batch(args.folder, timeseries=False)
    second, _, _ = read_batch(args.second_seed, timeseries=False)
    check_same_experiment(first, second, str(args.second_seed))
    other = analyse(args.second_seed, args.outcome, args.threshold)
    table = compare_win_shares(analysis.wins, other.wins)
    seeds = (int(first["base_seed"]), int(second["base_seed"]))
    figure = f"{FOLDER}/figures/second_seed.png"
    second_seed_figure(table, seeds, args.folder / figure)
    table.to_csv(args.folder / FOLDER / "second_seed.csv", index=False)
    (args.folder / SECTIONS / SECTION).write_text("\n".join(second_seed_section(table, seeds, figure)))
    write_report(args.folder)
    return [f"second seed ({seeds[1]}): {int(table['agrees'].sum())} of {len(table)} claims agree"] + [
        f"  {r.arm} beats {r.reference} on {r.outcome}: {r.share_better_first:.0%} (seed {seeds[0]}), "
        f"{r.share_better_second:.0%} (seed {seeds[1]})" + ("" if r.agrees else "  DISAGREE")
        for r in table.itertuples()]


def command_rerun(args: argparse.Namespace) -> int:
    from cryptoabm.batch.experiment import expand_runs, load_experiment
    from cryptoabm.batch.runner import kept_months
    from cryptoabm.batch.store import ResultStore, check_unchanged, read_manifest, read_run_file
    from cryptoabm.model import CryptoEconomy
    from cryptoabm.outputs import write_run
    from cryptoabm.summary import summarise

    manifest = read_manifest(args.folder)
    loaded = load_experiment(manifest["experiment_file"], force=True, base_seed=manifest.get("base_seed"))
    check_unchanged(manifest.get("inputs", {}), loaded.inputs, args.folder)
    spec = next((run for run in expand_runs(loaded) if run.run_id == args.run_id), None)
    if spec is None:
        raise ConfigError(args.folder / "manifest.json", "design",
                          f"no run '{args.run_id}' (run ids look like {manifest['design'][0]['run_id']})")
    scenario = scenario_from_dict(spec.scenario)
    table = CryptoEconomy(scenario, seed=spec.seed).run()
    out_dir = args.out if args.out is not None else args.folder / "rerun" / spec.run_id
    write_run(out_dir, scenario, spec.seed, table, f"{manifest['experiment_file']} [{spec.run_id}]",
              overwrite=args.out is None)  # its own folder in the batch's is replaced; a chosen --out is not
    store = ResultStore(args.folder)
    stored_path = store.run_path(spec.arm, spec.run_id)
    if not stored_path.exists():
        print(f"{spec.run_id}: seed {spec.seed}; rerun written to {out_dir}/ (the batch has no stored result to compare)")
        return 0
    store.prepare(loaded)
    columns = {name: table[name].to_numpy() for name in table.columns}
    kept = kept_months(columns, spec.metrics, spec.record_every_months)
    rebuilt = store.run_file_tables(spec, kept, summarise(columns))
    # compared in pandas, where NaN (e.g. "no rationing cap") equals NaN, unlike in Arrow
    same = (rebuilt.row.replace_schema_metadata(None).to_pandas().equals(read_run_file(stored_path).to_pandas())
            and rebuilt.months.replace_schema_metadata(None).to_pandas().equals(
                read_run_file(store.series_path(spec.arm, spec.run_id)).to_pandas()))
    print(f"{spec.run_id}: seed {spec.seed}; {'reproduces the stored run exactly' if same else 'DIFFERS from the stored run'}; "
          f"outputs in {out_dir}/")
    return 0 if same else EXIT_FAILED


def _shared_executor(args: argparse.Namespace):
    """One executor for every batch of a calibration or validation, and what closes it."""
    from cryptoabm.batch import clusters
    from cryptoabm.batch.runner import InProcessExecutor, process_pool
    from cryptoabm.calibration.simulate import SharedExecutor

    if args.scheduler is not None:
        placement = clusters.dask_placement(args.scheduler, args.workers)
        shared = SharedExecutor(placement.make_executor())

        def close() -> None:
            shared.close()
            placement.close()

        return shared, placement.where, close
    workers = args.workers or os.cpu_count() or 1
    shared = SharedExecutor(InProcessExecutor() if workers == 1 else process_pool(workers))
    return shared, f"{workers} worker{'s' if workers > 1 else ''}", shared.close


def _interrupted_in(work: Path) -> int:
    print(f"cryptoabm: interrupted; finished runs are kept in {work}/; finish with the same command and --resume",
          file=sys.stderr)
    return EXIT_INTERRUPTED


def command_calibrate(args: argparse.Namespace) -> int:
    if args.method == "smm":
        return command_calibrate_smm(args)
    from cryptoabm.calibration.splits import load_holdouts, select
    from cryptoabm.calibration.targets import load_targets

    loaded = load_targets(args.targets, args.configs)
    args.holdouts = args.holdouts or args.targets.parent / HOLDOUTS_FILE
    selection = select(loaded, load_holdouts(args.holdouts, loaded), args.split)
    if not selection.fitted:
        raise ConfigError(args.targets, "targets", "no target left to fit (calibrate = true, not held out, in the split)")
    behaviour = _behaviour_file(args) if args.split is None else None
    if behaviour is not None and not behaviour.is_file():
        raise ConfigError("--write-behaviour", "", f"no such file: {behaviour}")
    check_out_folder(args.out)
    check_out_folder(args.work)
    with folder_lock(args.work, "calibrate or validate", "--work"):  # before anything in it is touched
        return _history_match_in_locked_work(args, loaded, selection, behaviour)


def _history_match_in_locked_work(args: argparse.Namespace, loaded, selection, behaviour: Path | None) -> int:
    from cryptoabm.calibration.calibrate import update_behaviour_file
    from cryptoabm.calibration.history_matching import HistoryMatcher, write_history_matching
    from cryptoabm.calibration.parameters import CALIBRATED_RANGES
    from cryptoabm.calibration.predictive import k_of_n, predictive_check, predictive_figure
    from cryptoabm.calibration.simulate import BatchSimulator

    command = (f"cryptoabm calibrate {args.targets.as_posix()} --waves {args.waves} --points {args.points} "
               f"--noise-replications {args.noise_replications} --mcmc-steps {args.mcmc_steps} "
               f"--posterior-draws {args.posterior_draws} --implausibility-order {args.implausibility_order}"
               + (f" --replications {args.replications}" if args.replications else "")
               + (f" --split {args.split}" if args.split else ""))
    executor, where, close = _shared_executor(args)
    print(f"calibrate: history matching, {len(CALIBRATED_RANGES)} parameters, {len(selection.fitted)} of "
          f"{len(loaded.targets.targets)} targets fitted ({selection.name}), on {where}", file=sys.stderr)
    simulator = BatchSimulator(loaded, args.work, lambda: executor, resume=args.resume, progress=not args.no_progress,
                               to_last_target=True)
    say = (lambda line: print(f"calibrate: {line}", file=sys.stderr))
    try:
        result = HistoryMatcher(loaded, CALIBRATED_RANGES, simulator, waves=args.waves, points=args.points,
                                replications=args.replications, noise_replications=args.noise_replications,
                                steps=args.mcmc_steps, draws=args.posterior_draws, log=say,
                                targets=selection.fitted, order=args.implausibility_order).run()
        predicted = None
        if selection.predicted:  # only the arms of the targets predicted
            only = BatchSimulator(loaded, args.work, lambda: executor, resume=args.resume,
                                  progress=not args.no_progress, to_last_target=True,
                                  only_arms=frozenset(t.arm for t in selection.predicted))
            predicted = predictive_check(loaded, selection.predicted, result.posterior, only, replications=3,
                                         checks=frozenset(result.checks), stage="predictive")
    except KeyboardInterrupt:
        return _interrupted_in(args.work)
    finally:
        close()
    paths = write_history_matching(result, args.out, command)
    if predicted is not None:
        predicted.to_csv(args.out / "predictive.csv", index=False, float_format="%.6g")
        predictive_figure(predicted, args.out / "predictive.png", f"Out of sample ({selection.name})")
        paths += [args.out / "predictive.csv", args.out / "predictive.png"]
    if behaviour is not None:
        update_behaviour_file(behaviour, result.fitted(), result.uncertainty(), command, "posterior 5-95%")
    print(f"history matching: {len(result.waves)} waves x {args.points} points x {result.replications} "
          f"replications in {result.seconds:.0f} s; non-implausible share by wave: "
          + ", ".join(f"{w.non_implausible_share:.3g}" for w in result.waves)
          + f"; checks (no parameter moves them): {', '.join(result.checks) or 'none'}")
    for key, value in result.fitted().items():
        low, high = result.uncertainty()[key]
        print(f"  {key:<45} {value:>10.4g}   (posterior 5-95% {low:.4g} to {high:.4g})")
    if predicted is not None:
        print(f"out of sample ({selection.name}): {k_of_n(predicted)} targets within the 95% predictive interval")
    print(f"outputs: {', '.join(str(p) for p in paths)}"
          + (f"; posterior medians written into {behaviour}" if behaviour is not None
             else "; configs/behaviour.toml untouched (--write-behaviour writes the medians into it)"))
    return 0


def command_calibrate_smm(args: argparse.Namespace) -> int:
    from cryptoabm.calibration.targets import load_targets

    args.replications = args.replications or 2
    loaded = load_targets(args.targets, args.configs)
    if not loaded.calibration_targets:
        raise ConfigError(args.targets, "targets", "no target has calibrate = true: nothing to fit")
    behaviour = _behaviour_file(args)
    if behaviour is not None and not behaviour.is_file():
        raise ConfigError("--write-behaviour", "", f"no such file: {behaviour}")
    check_out_folder(args.out)
    check_out_folder(args.work)
    with folder_lock(args.work, "calibrate or validate", "--work"):  # before anything in it is touched
        return _calibrate_in_locked_work(args, loaded, behaviour)


def _calibrate_in_locked_work(args: argparse.Namespace, loaded, behaviour: Path | None) -> int:
    from cryptoabm.calibration.calibrate import UnmeasurableTarget, calibrate, update_behaviour_file, write_outputs
    from cryptoabm.calibration.parameters import CALIBRATED_RANGES
    from cryptoabm.calibration.simulate import BatchSimulator

    command = (f"cryptoabm calibrate {args.targets.as_posix()} --method smm --budget {args.budget} "
               f"--replications {args.replications} --refine {args.refine} --draws {args.draws}")
    executor, where, close = _shared_executor(args)
    print(f"calibrate: {len(CALIBRATED_RANGES)} parameters, {len(loaded.calibration_targets)} of "
          f"{len(loaded.targets.targets)} targets, on {where}", file=sys.stderr)
    simulator = BatchSimulator(loaded, args.work, lambda: executor, resume=args.resume, progress=not args.no_progress,
                               to_last_target=True)
    try:
        result = calibrate(loaded.targets.targets, CALIBRATED_RANGES, simulator, budget=args.budget,
                           replications=args.replications, refine_evaluations=args.refine, draws=args.draws,
                           log=lambda line: print(f"calibrate: {line}", file=sys.stderr),
                           seed=loaded.targets.base_seed)
    except KeyboardInterrupt:
        return _interrupted_in(args.work)
    except UnmeasurableTarget as exc:  # the target file's mistake: named there
        index = next(i for i, t in enumerate(loaded.targets.targets) if t.id == exc.target_id)
        raise ConfigError(args.targets, f"targets.{index}.window", str(exc)) from None
    finally:
        close()
    paths = write_outputs(result, args.out, command)
    if behaviour is not None:
        update_behaviour_file(behaviour, result.fitted(), result.uncertainty(), command)
    print(f"fitted {len(result.ranges)} parameters in {result.seconds:.0f} s ({len(result.evaluations)} points x "
          f"{args.replications} replications); criterion {result.best.criterion:.3f}; "
          f"{len(result.accepted)} accepted draws")
    for key, value in result.fitted().items():
        low, high = result.uncertainty()[key]
        print(f"  {key:<45} {value:>10.4g}   (accepted draws {low:.4g} to {high:.4g})")
    print(f"outputs: {', '.join(str(p) for p in paths)}"
          + (f"; fitted values written into {behaviour}" if behaviour is not None
             else "; configs/behaviour.toml untouched (--write-behaviour writes the fit into it)"))
    return 0


def _behaviour_file(args: argparse.Namespace) -> Path | None:
    """The behaviour file --write-behaviour names (None without the flag)."""
    if args.write_behaviour is None:
        return None
    if args.write_behaviour != WRITE_BEHAVIOUR_DEFAULT:
        return args.write_behaviour
    from cryptoabm.config.catalogue import configs_dir

    return Path(args.configs if args.configs is not None else configs_dir()) / "behaviour.toml"


def command_validate(args: argparse.Namespace) -> int:
    from cryptoabm.calibration.targets import load_targets
    from cryptoabm.config.catalogue import configs_dir, preset_files

    loaded = load_targets(args.targets, args.configs)
    folder = args.configs if args.configs is not None else configs_dir()
    presets = {path.stem: path for path in preset_files(Path(folder))}
    if args.months is not None:
        late = [t for t in loaded.targets.targets
                if month_of_date(loaded.scenarios[t.arm].start_month, t.window[1]) > args.months]
        if late:
            raise ConfigError("--months", "", f"target '{late[0].id}' needs the run to reach {late[0].window[1]}, "
                                              f"after month {args.months}")
    check_out_folder(args.out)
    check_out_folder(args.work)
    with folder_lock(args.work, "calibrate or validate", "--work"):  # before anything in it is touched
        return _validate_in_locked_work(args, loaded, presets)


def _validate_in_locked_work(args: argparse.Namespace, loaded, presets: dict[str, Path]) -> int:
    from cryptoabm.calibration.simulate import BatchSimulator
    from cryptoabm.calibration.validate import summary_line, validate

    command = f"cryptoabm validate {args.targets.as_posix()} --replications {args.replications}" + (
        f" --months {args.months}" if args.months is not None else "")
    executor, where, close = _shared_executor(args)
    print(f"validate: {len(presets)} presets x {args.replications} replications on {where}", file=sys.stderr)
    simulator = BatchSimulator(loaded, args.work, lambda: executor, horizon_months=args.months, resume=args.resume,
                               progress=not args.no_progress, extra_arms=presets, keep_runs=True)
    started = time.perf_counter()
    try:
        from cryptoabm.calibration.splits import load_holdouts

        args.holdouts = args.holdouts or args.targets.parent / HOLDOUTS_FILE
        args.posterior = args.posterior or args.targets.parent / POSTERIOR_BESIDE_TARGETS
        holdouts = frozenset(load_holdouts(args.holdouts, loaded))
        results, report = validate(loaded, simulator, presets, args.replications, args.out, command, holdouts)
        predictive = _posterior_predictive(args, loaded, simulator, report) if args.posterior.is_file() else None
    except KeyboardInterrupt:
        return _interrupted_in(args.work)
    finally:
        close()
    print(f"{summary_line(results)} ({time.perf_counter() - started:.0f} s); report: {report}"
          + (f"; posterior predictive: {predictive}" if predictive else ""))
    return 0


def _posterior_predictive(args: argparse.Namespace, loaded: Any, simulator: Any, report: Path) -> str:
    """Run the posterior predictive checks, append their section to the report; the K of N lines."""
    import tomllib

    import pandas as pd

    from cryptoabm.calibration.predictive import (
        k_of_n,
        predictive_check,
        predictive_figure,
        predictive_section,
        splits_section,
    )
    from cryptoabm.calibration.splits import load_holdouts

    holdouts = load_holdouts(args.holdouts, loaded)
    summary = args.posterior.parent / "summary.toml"
    checks = frozenset(tomllib.loads(summary.read_text()).get("checks", [])) if summary.is_file() else frozenset()
    posterior = pd.read_parquet(args.posterior)
    table = predictive_check(loaded, loaded.targets.targets, posterior, simulator, draws=args.predictive_draws,
                             replications=args.predictive_replications, checks=checks)
    figure = "posterior_predictive.png"
    predictive_figure(table, args.out / "figures" / figure, "Posterior predictive checks")
    table.to_csv(args.out / "posterior_predictive.csv", index=False, float_format="%.6g")
    not_fitted = frozenset(t.id for t in loaded.targets.targets if not t.calibrate)
    section = predictive_section(table, holdouts, figure, args.predictive_draws, args.predictive_replications,
                                 args.posterior.as_posix(), not_fitted)
    if summary.is_file():
        from cryptoabm.calibration.history_matching import summary_section

        section = summary_section(args.posterior.parent) + section
    section += splits_section(args.posterior.parent)
    report.write_text(report.read_text().rstrip("\n") + "\n\n" + "\n".join(section))
    fitted = table[~table["target"].isin(holdouts) & ~table["target"].isin(not_fitted)]
    unfitted = table[table["target"].isin(not_fitted) & ~table["target"].isin(holdouts)]
    return (f"in sample {k_of_n(fitted)}, hold-outs {k_of_n(table[table['target'].isin(holdouts)])}, "
            f"never fitted {k_of_n(unfitted)}")


def command_viz(args: argparse.Namespace) -> int:
    from cryptoabm.viz.server import serve

    return serve(args.host, args.port, configs=args.configs, results=args.results)


def main(argv: list[str] | None = None) -> int:
    """Run one command; every problem ends as one line on standard error and an exit code."""
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print("cryptoabm: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    handlers = {"run": command_run, "check": command_check, "batch": command_batch, "report": command_report,
                "rerun": command_rerun, "calibrate": command_calibrate, "validate": command_validate,
                "viz": command_viz, "sensitivity": command_sensitivity, "optimize": command_optimize}
    debug = getattr(args, "debug", False)
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("cryptoabm: interrupted; nothing was written for the unfinished run", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - every error becomes one line (the traceback with --debug)
        if debug:
            raise
        code, line = describe_failure(exc)
        print(f"cryptoabm: error: {printable(line)}", file=sys.stderr)
        return code


def entry_point() -> None:
    """The ``cryptoabm`` command (the console script and ``python -m cryptoabm``): :func:`main`,
    then, after a successful command, leave without the interpreter's teardown.

    Freeing every module and object at exit costs about a third of a second after a run and does
    nothing a finished command needs: its files are written and closed (through context managers,
    and a run's folder is swapped in whole), its locks released. The exit functions registered
    with ``atexit`` still run (worker pools, temporary folders), standard output and error are
    flushed, and the process ends with the command's code. A failed command, or one that leaves
    a non-daemon thread running, exits the ordinary way. ``main(argv)`` called from Python never
    exits.
    """
    code = main()
    if code == 0 and _no_threads_left():
        _exit_now(code)
    sys.exit(code)


def _no_threads_left() -> bool:
    """True when no thread but the main one would keep the interpreter waiting at exit."""
    threading = sys.modules.get("threading")
    if threading is None:
        return True
    return all(thread.daemon or thread is threading.main_thread() for thread in threading.enumerate())


def _exit_now(code: int) -> None:
    """Run the exit functions, flush standard output and error, and end the process."""
    import atexit

    atexit._run_exitfuncs()  # what a normal exit runs before the interpreter's teardown
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (cryptoabm ... | head): nothing more to say
            pass
    os._exit(code)


def printable(text: str) -> str:
    """The text on one line: control characters a file may hold (newlines, CR) shown escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def describe_failure(exc: Exception) -> tuple[int, str]:
    """The exit code and one line for an error: bad input is 2, anything else that failed is 1."""
    if isinstance(exc, InputError):  # a config, experiment or results folder at fault (cryptoabm.config.errors)
        return EXIT_BAD_INPUT, str(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return EXIT_FAILED, f"{exc.strerror or exc}{where}"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return EXIT_FAILED, f"{type(exc).__name__}: {text[:300]} (run again with --debug for the traceback)"


if __name__ == "__main__":
    entry_point()
