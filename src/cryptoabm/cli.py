"""The ``cryptoabm`` command line.

    cryptoabm run CONFIG [--seed N] [--months N] [--out DIR] [--force]
    cryptoabm check CONFIG [--force]
    cryptoabm batch EXPERIMENT [--workers N] [--scheduler ADDRESS|local | --cluster slurm] [--out DIR]
                               [--resume] [--csv] [--force]
    cryptoabm report DIR [--csv]
    cryptoabm sensitivity DIR [--outcome NAME ...] [--threshold 'OUTCOME>VALUE' ...]
    cryptoabm rerun DIR RUN_ID [--out DIR]
    cryptoabm calibrate TARGETS [--budget N] [--replications R] [--refine N] [--workers N | --scheduler ADDRESS]
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

from cryptoabm.config import ConfigError, InputError, Scenario, load_scenario, scenario_from_dict
from cryptoabm.config.calendar import month_of_date
from cryptoabm.folder_lock import folder_lock

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

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
  cryptoabm calibrate validation/targets.toml   # fit configs/behaviour.toml to the public record
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
                    "dashboard.png (adoption, mining and grid, money flows). The same config and seed "
                    "always give identical files.",
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

    report = add_command(
        "report", help="write the comparison report of a batch",
        description="Write DIR/report.md and DIR/figures/ from a batch's tables: per-arm means, SDs and 95%% "
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

    rerun = add_command(
        "rerun", help="rerun one run of a batch alone and check it reproduces",
        description="Rerun one run of a batch by itself, from the experiment file named in DIR/manifest.json "
                    "(refused if that file has changed), check that its kept months equal the stored "
                    "DIR/runs/RUN_ID.parquet, and write the full single-run outputs (as `cryptoabm run` does) "
                    "into --out.",
    )
    rerun.add_argument("folder", metavar="DIR", type=Path, help="a batch results folder")
    rerun.add_argument("run_id", metavar="RUN_ID", help="e.g. kazakhstan_2021__p000__r003 (see DIR/manifest.json)")
    rerun.add_argument("--out", type=Path, metavar="OUT", help="where to write its outputs (default: DIR/rerun/RUN_ID)")

    calibrate = add_command(
        "calibrate", help="fit the shared behavioural parameters to the targets",
        description="Fit the shared behavioural parameters (src/cryptoabm/calibration/parameters.py: "
                    "CALIBRATED_RANGES) to the targets marked calibrate = true, by simulated method of moments: "
                    "a Sobol' design of --budget points over the ranges, run through the batch layer with "
                    "--replications runs per point on common random numbers, then a Nelder-Mead refinement of "
                    "the best point (--refine evaluations), and --draws points around the fitted one, of which those within "
                    "a chi-square margin of the best are the accepted draws (the fit's uncertainty). Writes into --out: fitted.toml (the fitted values, "
                    "with the 5-95%% range of the accepted draws), distances.csv (each target at the fitted "
                    "point), design.parquet (every point evaluated), accepted_draws.csv and convergence.png; and "
                    "writes the fitted values into --behaviour (configs/behaviour.toml) unless --dry-run. "
                    "Country inputs are never fitted.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  cryptoabm calibrate validation/targets.toml\n"
               "  cryptoabm calibrate validation/targets.toml --budget 256 --scheduler tcp://10.0.0.5:8786",
    )
    calibrate.add_argument("targets", metavar="TARGETS", type=Path, help="target file, e.g. validation/targets.toml")
    calibrate.add_argument("--budget", type=_positive_int, default=64, metavar="N",
                           help="points of the global Sobol' design (default 64; a power of two keeps its balance)")
    calibrate.add_argument("--replications", type=_positive_int, default=2, metavar="R",
                           help="runs per point, on common random numbers (default 2)")
    calibrate.add_argument("--refine", type=_non_negative_int, default=30, metavar="N",
                           help="evaluations of the local Nelder-Mead refinement (default 30; 0: none)")
    calibrate.add_argument("--draws", type=_non_negative_int, default=32, metavar="N",
                           help="Sobol' draws around the fitted point for its uncertainty (default 32; 0: none)")
    calibrate.add_argument("--out", type=Path, default=Path("validation/calibration"), metavar="DIR",
                           help="where the calibration's outputs go (default validation/calibration)")
    calibrate.add_argument("--behaviour", type=Path, default=Path("configs/behaviour.toml"), metavar="TOML",
                           help="the shared behaviour file the fitted values are written into (default configs/behaviour.toml)")
    calibrate.add_argument("--dry-run", action="store_true", help="do not write the fitted values into --behaviour")
    _add_simulation_options(calibrate, "results/calibration")

    validate = add_command(
        "validate", help="run every preset against the targets: validation/report.md",
        description="Run every preset in configs/ --replications times (common random numbers) through the batch "
                    "layer, with the shared behavioural parameters of configs/behaviour.toml, and write into --out: "
                    "report.md (per target the model's mean and 95%% interval against the observed value or "
                    "range, pass or miss, and the line 'K of N targets pass') and figures/<preset>.png (the "
                    "model's 5-95%% band over replications with the observed points, on calendar dates).",
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
    from cryptoabm.model import CryptoEconomy
    from cryptoabm.outputs import check_run_folder, write_run
    from cryptoabm.sizing import ensure_model_fits
    from cryptoabm.summary import summary_table

    loaded = load_scenario(args.config)
    warn_of_dropped_events(loaded, args.months)
    scenario = with_horizon(loaded, args.months, args.seed, args.config)
    ensure_model_fits(scenario, args.config, args.force)
    seed = scenario.seed
    out_dir = args.out if args.out is not None else Path("results") / f"{scenario.name}-seed{seed}"
    check_out_folder(out_dir)
    check_run_folder(out_dir, args.overwrite)  # before the run, not after it
    started = time.perf_counter()
    model = CryptoEconomy(scenario, seed=seed)
    table = model.run()
    elapsed = time.perf_counter() - started
    try:
        write_run(out_dir, scenario, seed, table, str(args.config), overwrite=args.overwrite)
    except OSError as exc:
        print(f"cryptoabm: error: cannot write results to {out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        first, last = table["date"].iloc[0], table["date"].iloc[-1]
        print(f"{scenario.name}: {scenario.months} months ({first} to {last}), "
              f"{scenario.population.citizens:,} citizens, seed {seed}, ran in {elapsed:.2f} s")
        print(summary_table(table))
        print(f"results: {out_dir}/ (monthly.csv, monthly.parquet, config.toml, run.json, dashboard.png)")
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

    loaded = load_experiment(args.experiment, force=args.force)
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
              f"finish with: cryptoabm batch {args.experiment} --out {out_dir} --resume", file=sys.stderr)
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
    print(f"analysed in {time.perf_counter() - started:.1f} s")
    return 0


def command_rerun(args: argparse.Namespace) -> int:
    from cryptoabm.batch.experiment import expand_runs, load_experiment
    from cryptoabm.batch.runner import kept_months
    from cryptoabm.batch.store import ResultStore, check_unchanged, read_manifest, read_run_file
    from cryptoabm.model import CryptoEconomy
    from cryptoabm.outputs import write_run
    from cryptoabm.summary import summarise

    manifest = read_manifest(args.folder)
    loaded = load_experiment(manifest["experiment_file"], force=True)
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
    rebuilt = store.run_file_table(spec, kept, summarise(columns)).replace_schema_metadata(None)
    # compared in pandas, where NaN (e.g. "no rationing cap") equals NaN, unlike in Arrow
    same = rebuilt.to_pandas().equals(read_run_file(stored_path).to_pandas())
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
    from cryptoabm.calibration.targets import load_targets

    loaded = load_targets(args.targets, args.configs)
    if not loaded.calibration_targets:
        raise ConfigError(args.targets, "targets", "no target has calibrate = true: nothing to fit")
    if not args.dry_run and not args.behaviour.is_file():
        raise ConfigError("--behaviour", "", f"no such file: {args.behaviour}")
    check_out_folder(args.out)
    check_out_folder(args.work)
    with folder_lock(args.work, "calibrate or validate", "--work"):  # before anything in it is touched
        return _calibrate_in_locked_work(args, loaded)


def _calibrate_in_locked_work(args: argparse.Namespace, loaded) -> int:
    from cryptoabm.calibration.calibrate import UnmeasurableTarget, calibrate, update_behaviour_file, write_outputs
    from cryptoabm.calibration.parameters import CALIBRATED_RANGES
    from cryptoabm.calibration.simulate import BatchSimulator

    command = (f"cryptoabm calibrate {args.targets.as_posix()} --budget {args.budget} "
               f"--replications {args.replications} --refine {args.refine} --draws {args.draws}")
    executor, where, close = _shared_executor(args)
    print(f"calibrate: {len(CALIBRATED_RANGES)} parameters, {len(loaded.calibration_targets)} of "
          f"{len(loaded.targets.targets)} targets, on {where}", file=sys.stderr)
    simulator = BatchSimulator(loaded, args.work, lambda: executor, resume=args.resume, progress=not args.no_progress,
                               to_last_target=True)
    try:
        result = calibrate(loaded.targets.targets, CALIBRATED_RANGES, simulator, budget=args.budget,
                           replications=args.replications, refine_evaluations=args.refine, draws=args.draws,
                           log=lambda line: print(f"calibrate: {line}", file=sys.stderr))
    except KeyboardInterrupt:
        return _interrupted_in(args.work)
    except UnmeasurableTarget as exc:  # the target file's mistake: named there
        index = next(i for i, t in enumerate(loaded.targets.targets) if t.id == exc.target_id)
        raise ConfigError(args.targets, f"targets.{index}.window", str(exc)) from None
    finally:
        close()
    paths = write_outputs(result, args.out, command)
    if not args.dry_run:
        update_behaviour_file(args.behaviour, result.fitted(), result.uncertainty(), command)
    print(f"fitted {len(result.ranges)} parameters in {result.seconds:.0f} s ({len(result.evaluations)} points x "
          f"{args.replications} replications); criterion {result.best.criterion:.3f}; "
          f"{len(result.accepted)} accepted draws")
    for key, value in result.fitted().items():
        low, high = result.uncertainty()[key]
        print(f"  {key:<45} {value:>10.4g}   (accepted draws {low:.4g} to {high:.4g})")
    print(f"outputs: {', '.join(str(p) for p in paths)}"
          + ("" if args.dry_run else f"; fitted values written into {args.behaviour}"))
    return 0


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
        results, report = validate(loaded, simulator, presets, args.replications, args.out, command)
    except KeyboardInterrupt:
        return _interrupted_in(args.work)
    finally:
        close()
    print(f"{summary_line(results)} ({time.perf_counter() - started:.0f} s); report: {report}")
    return 0


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
                "viz": command_viz, "sensitivity": command_sensitivity}
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
    sys.exit(main())
