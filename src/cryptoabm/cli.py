"""The ``cryptoabm`` command line.

    cryptoabm run CONFIG [--seed N] [--months N] [--out DIR]
    cryptoabm check CONFIG

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
  cryptoabm run configs/turkmenistan_2026.toml --out results/tkm
  cryptoabm run configs/el_salvador_2021.toml --seed 7 --months 36
  cryptoabm check configs/my_scenario.toml

Scenario files are TOML; see configs/baseline.toml for every key, its unit and its source."""


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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"run": command_run, "check": command_check}
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
