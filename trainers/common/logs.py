"""The command lines' logging: one format and one ``-v/--verbose`` flag for every ``python -m`` entry point."""

from __future__ import annotations

import argparse
import logging

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def add_verbose_flag(parser: argparse.ArgumentParser) -> None:
    """``-v/--verbose``: log debug messages."""
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")


def configure(verbose: bool = False) -> None:
    """Log to stderr in :data:`LOG_FORMAT`, from DEBUG when ``verbose`` else from INFO."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=LOG_FORMAT)
