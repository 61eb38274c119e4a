"""``python -m cryptoabm.viz [--host 127.0.0.1] [--port 8765] [--configs DIR] [--results DIR]``: start the app."""

from __future__ import annotations

import argparse
import sys

from cryptoabm.viz import DEFAULT_HOST, DEFAULT_PORT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cryptoabm.viz",
        description="Compare two policies on the same world month by month in the browser (A: a preset; B: "
                    "another preset's policy or changed levers; one seed), or explore a finished batch with "
                    "--results DIR. Works offline; stops with Ctrl-C.",
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The app's options, shared with ``cryptoabm viz``."""
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only; "
                             "0.0.0.0 exposes the app to the network)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N",
                        help=f"port to listen on (default: {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--configs", metavar="DIR",
                        help="folder of scenario presets for the picker (default: the repository's configs/)")
    parser.add_argument("--results", metavar="DIR",
                        help="a finished batch's folder (cryptoabm batch --out DIR) to explore: fan charts per arm, "
                             "paired differences, and a live replay of any run against the reference arm")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from cryptoabm.viz.server import serve

    return serve(args.host, args.port, configs=args.configs, results=args.results)


if __name__ == "__main__":
    sys.exit(main())
