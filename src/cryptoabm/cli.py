"""The ``cryptoabm`` command line.

    cryptoabm run CONFIG [--seed N] [--months N] [--out DIR]
    cryptoabm check CONFIG
    cryptoabm batch EXPERIMENT [--workers N] [--scheduler ADDRESS|local] [--out DIR] [--resume]
    cryptoabm report DIR
    cryptoabm rerun DIR RUN_ID [--out DIR]
    cryptoabm viz [--host 127.0.0.1] [--port N]

Mistakes in the input are reported as one plain line on standard error, with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib.metadata import version
from pathlib import Path

from cryptoabm.config import ConfigError, Scenario, load_scenario

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

DESCRIPTION = """\
cryptoabm: an agent-based model of what a country's crypto policy does when it meets a
real economy. The state, the grid operator, miners, foreign investors and citizens
interact month by month under the policy a scenario file sets."""

EPILOG = """\
examples:
  cryptoabm batch experiments/central_asia_regimes.toml
  cryptoabm run configs/turkmenistan_2026.toml --out results/tkm
  cryptoabm run configs/el_salvador_2021.toml --seed 7 --months 36
  cryptoabm check configs/my_scenario.toml
  cryptoabm report results/central_asia_regimes
  cryptoabm viz                       # the browser app on http://127.0.0.1:8765/

Scenario files are TOML; see configs/baseline.toml for every key, its unit and its source.
Experiment files are TOML too; see experiments/README.md."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cryptoabm", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cryptoabm {version('cryptoabm')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
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
    run.add_argument("-q", "--quiet", action="store_true", help="print only the results folder")

    check = commands.add_parser(
        "check", help="validate a config without running it",
        description="Validate a scenario file (and any file it extends) without running it. Prints a "
                    "one-line description on success; on a mistake prints one line naming the file, the "
                    "field and what is allowed, and exits with code 2.",
    )
    check.add_argument("config", metavar="CONFIG", help="scenario file (TOML)")

    batch = commands.add_parser(
        "batch", help="run an experiment file: many runs, then a comparison report",
        description="Run every arm x design point x replicate of an experiment file, with common random "
                    "numbers across arms, and write into DIR: runs/<run_id>.parquet for each finished run "
                    "(written atomically), manifest.json (experiment hash, versions, git commit, the design "
                    "with seeds, timings), and at the end timeseries.parquet, runs.parquet and report.md. "
                    "A run that raises is recorded (runs/<run_id>.failed.json) and the batch goes on; the "
                    "command then exits 1 with a count of failures. Ctrl-C stops cleanly, keeping every "
                    "finished run; --resume runs only the missing ones.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  cryptoabm batch experiments/central_asia_regimes.toml             # all cores\n"
               "  cryptoabm batch experiments/license_cap_sweep.toml --workers 1    # in this process\n"
               "  cryptoabm batch experiments/payment_ban_vs_bonus.toml --scheduler local   # a Dask LocalCluster\n"
               "  cryptoabm batch experiments/central_asia_regimes.toml --scheduler tcp://10.0.0.5:8786\n"
               "  cryptoabm batch experiments/central_asia_regimes.toml --resume    # finish an interrupted batch",
    )
    batch.add_argument("experiment", metavar="EXPERIMENT", help="experiment file (TOML), e.g. experiments/central_asia_regimes.toml")
    batch.add_argument("--workers", type=_positive_int, metavar="N",
                       help="parallel workers: 1 runs in this process; default: one per core "
                            "(with --scheduler local: the LocalCluster's worker count)")
    batch.add_argument("--scheduler", metavar="ADDRESS|local",
                       help="run on a Dask cluster: a scheduler address (tcp://host:8786), or 'local' to start a "
                            "LocalCluster; needs the optional extra: pip install 'cryptoabm[distributed]'")
    batch.add_argument("--out", type=Path, metavar="DIR", help="results folder (default: results/<experiment name>)")
    batch.add_argument("--resume", action="store_true",
                       help="finish an interrupted batch in DIR: run only the missing runs (refused if the "
                            "experiment file changed since)")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar")

    report = commands.add_parser(
        "report", help="write the comparison report of a batch",
        description="Write DIR/report.md and DIR/figures/ from a batch's tables: per-arm means, SDs and 95%% "
                    "t-intervals of the key outcomes, paired differences from the reference arm, fan charts "
                    "and a bar chart of differences. (batch runs this at the end.)",
    )
    report.add_argument("folder", metavar="DIR", type=Path, help="a batch results folder")

    rerun = commands.add_parser(
        "rerun", help="rerun one run of a batch alone and check it reproduces",
        description="Rerun one run of a batch by itself, from the experiment file named in DIR/manifest.json "
                    "(refused if that file has changed), check that its kept months equal the stored "
                    "DIR/runs/RUN_ID.parquet, and write the full single-run outputs (as `cryptoabm run` does) "
                    "into --out.",
    )
    rerun.add_argument("folder", metavar="DIR", type=Path, help="a batch results folder")
    rerun.add_argument("run_id", metavar="RUN_ID", help="e.g. kazakhstan_2021__p000__r003 (see DIR/manifest.json)")
    rerun.add_argument("--out", type=Path, metavar="OUT", help="where to write its outputs (default: DIR/rerun/RUN_ID)")

    from cryptoabm.viz.__main__ import add_arguments as add_viz_arguments

    viz = commands.add_parser(
        "viz", help="watch and steer one run in the browser",
        description="Start the browser app (Mesa's SolaraViz): Step, Play/Pause and Reset, a scenario picker "
                    "with the presets in configs/, the main policy levers, the citizens' network and live "
                    "charts. Prints the address; works offline (Solara's assets are served locally); each "
                    "browser tab runs its own model. Stop it with Ctrl-C. Needs the optional extra: "
                    "pip install 'cryptoabm[viz]'.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  cryptoabm viz\n  cryptoabm viz --port 9000\n"
               "  cryptoabm viz --host 0.0.0.0    # reachable from other machines",
    )
    add_viz_arguments(viz)
    return parser


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


def with_horizon(scenario: Scenario, months: int | None) -> Scenario:
    """The scenario cut (or extended) to ``months``; events after the horizon are dropped."""
    if months is None:
        return scenario
    events = [event for event in scenario.events if event.month <= months]
    return scenario.model_copy(update={"months": months, "events": events})


def command_check(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.config)
    print(f"{args.config}: ok: scenario '{scenario.name}', {scenario.months} months from {scenario.start_month}, "
          f"{scenario.population.citizens:,} citizens, {len(scenario.events)} scheduled events, "
          f"payment regime '{scenario.policy.payment_regime}'")
    return 0


def command_run(args: argparse.Namespace) -> int:
    from cryptoabm.model import CryptoEconomy
    from cryptoabm.outputs import write_run
    from cryptoabm.summary import summary_table

    scenario = with_horizon(load_scenario(args.config), args.months)
    seed = scenario.seed if args.seed is None else args.seed
    out_dir = args.out if args.out is not None else Path("results") / f"{scenario.name}-seed{seed}"
    started = time.perf_counter()
    model = CryptoEconomy(scenario, seed=seed)
    table = model.run()
    elapsed = time.perf_counter() - started
    try:
        write_run(out_dir, scenario, seed, table, str(args.config))
    except OSError as exc:
        print(f"cryptoabm: error: cannot write results to {out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        first, last = table["date"].iloc[0], table["date"].iloc[-1]
        print(f"{scenario.name}: {scenario.months} months ({first} to {last}), "
              f"{scenario.population.citizens:,} citizens, seed {seed}, ran in {elapsed:.2f} s")
        print(summary_table(table))
        print(f"results: {out_dir}/ (monthly.csv, monthly.parquet, config.toml, run.json, dashboard.png)")
    else:
        print(out_dir)
    return 0


def _executor_factory(args: argparse.Namespace):
    """What runs the batch: this process, a process pool, or a Dask cluster."""
    import os

    from cryptoabm.batch.runner import InProcessExecutor, process_pool

    if args.scheduler is None:
        workers = args.workers or os.cpu_count() or 1
        if workers == 1:
            return InProcessExecutor, "1 worker (in this process)"
        return (lambda: process_pool(workers)), f"{workers} worker processes"
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("--scheduler", "", "Dask is an optional extra: pip install 'cryptoabm[distributed]'") from None
    if args.scheduler == "local":
        cluster = LocalCluster(n_workers=args.workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
        where = f"a Dask LocalCluster of {len(cluster.workers)} workers"
    else:
        try:
            client = Client(args.scheduler, timeout=10)
        except OSError as exc:
            raise ConfigError("--scheduler", "", f"cannot reach the Dask scheduler at {args.scheduler}: {exc}") from None
        where = f"the Dask cluster at {args.scheduler}"
    return client.get_executor, where


def command_batch(args: argparse.Namespace) -> int:
    from cryptoabm.batch.experiment import load_experiment
    from cryptoabm.batch.report import write_report
    from cryptoabm.batch.runner import run_batch
    from cryptoabm.batch.store import StoreError

    loaded = load_experiment(args.experiment)
    out_dir = args.out if args.out is not None else Path("results") / loaded.experiment.name
    make_executor, where = _executor_factory(args)
    print(f"{loaded.experiment.name}: running on {where} into {out_dir}/", file=sys.stderr)
    try:
        outcome = run_batch(loaded, out_dir, make_executor, resume=args.resume, progress=not args.no_progress)
    except StoreError as exc:
        print(f"cryptoabm: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"cryptoabm: interrupted; finished runs are kept in {out_dir}/runs/; "
              f"finish with: cryptoabm batch {args.experiment} --out {out_dir} --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
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
              f"{out_dir}/runs/<run_id>.failed.json", file=sys.stderr)
        return 1
    return 0


def command_report(args: argparse.Namespace) -> int:
    from cryptoabm.batch.report import ReportError, write_report

    try:
        print(write_report(args.folder))
    except ReportError as exc:
        print(f"cryptoabm: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def command_rerun(args: argparse.Namespace) -> int:
    import json

    import pyarrow.parquet as pq

    from cryptoabm.batch.experiment import expand_runs, load_experiment
    from cryptoabm.batch.runner import kept_months
    from cryptoabm.config import scenario_from_dict
    from cryptoabm.model import CryptoEconomy
    from cryptoabm.outputs import write_run

    manifest_path = args.folder / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigError(args.folder, "", "holds no batch (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    loaded = load_experiment(manifest["experiment_file"])
    if loaded.file_hash != manifest["experiment_sha256"]:
        raise ConfigError(manifest["experiment_file"], "", f"has changed since the batch in {args.folder} ran")
    spec = next((run for run in expand_runs(loaded) if run.run_id == args.run_id), None)
    if spec is None:
        raise ConfigError(manifest_path, "design", f"no run '{args.run_id}' (run ids look like "
                                                   f"{manifest['design'][0]['run_id']})")
    scenario = scenario_from_dict(spec.scenario)
    table = CryptoEconomy(scenario, seed=spec.seed).run()
    out_dir = args.out if args.out is not None else args.folder / "rerun" / spec.run_id
    write_run(out_dir, scenario, spec.seed, table, f"{manifest['experiment_file']} [{spec.run_id}]")
    stored_path = args.folder / "runs" / f"{spec.run_id}.parquet"
    if not stored_path.exists():
        print(f"{spec.run_id}: seed {spec.seed}; rerun written to {out_dir}/ (the batch has no stored result to compare)")
        return 0
    stored = pq.read_table(stored_path).replace_schema_metadata(None)
    # compared in pandas, where NaN (e.g. "no rationing cap") equals NaN, unlike in Arrow
    same = kept_months(table, spec.metrics, spec.record_every_months).to_pandas().equals(stored.to_pandas())
    print(f"{spec.run_id}: seed {spec.seed}; {'reproduces the stored run exactly' if same else 'DIFFERS from the stored run'}; "
          f"outputs in {out_dir}/")
    return 0 if same else 1


def command_viz(args: argparse.Namespace) -> int:
    from cryptoabm.viz.server import serve

    return serve(args.host, args.port, configs=args.configs)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"run": command_run, "check": command_check, "batch": command_batch, "report": command_report,
                "rerun": command_rerun, "viz": command_viz}
    try:
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"cryptoabm: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("cryptoabm: interrupted; nothing was written for the unfinished run", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
