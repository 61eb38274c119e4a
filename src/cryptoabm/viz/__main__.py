"""``python -m cryptoabm.viz [--host 127.0.0.1] [--port 8765] [--configs DIR]``: start the app."""

from __future__ import annotations

import argparse
import sys

from cryptoabm.viz import DEFAULT_HOST, DEFAULT_PORT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cryptoabm.viz",
        description="Watch one run month by month in the browser and try the policy levers: Mesa's "
                    "SolaraViz with Step, Play/Pause and Reset, a scenario picker, the citizens' network "
                    "and live charts. Works offline; stops with Ctrl-C.",
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from cryptoabm.viz.server import serve

    return serve(args.host, args.port, configs=args.configs)


if __name__ == "__main__":
    sys.exit(main())
