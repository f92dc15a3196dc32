"""Command-line interface of ``python -m trainers``.

Every module in this package is one command: it defines ``GROUP`` (``"data"`` for
``python -m trainers data <command>``, ``None`` for a top-level command) and
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.
Adding a command is one new file. :class:`trainers.common.errors.DataError` exits with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from trainers.common import logs
from trainers.common.errors import DataError


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, assembled from the command modules of this package."""
    parser = argparse.ArgumentParser(prog="python -m trainers", description=__doc__.splitlines()[0])
    logs.add_verbose_flag(parser)
    top = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data = top.add_parser("data", help="import, check, split and validate datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="DATA_COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(data_commands if module.GROUP == "data" else top)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    logs.configure(args.verbose)
    try:
        return int(args.func(args) or 0)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
