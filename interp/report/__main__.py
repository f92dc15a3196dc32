"""Command line of ``python -m interp.report``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from interp.report import available, build_report
from trainers.common import logs
from trainers.common.errors import DataError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m interp.report",
                                     description="Write a study's PDF report (RUN/report.pdf by default).")
    parser.add_argument("run", type=Path, help="run directory (runs/<study>)")
    parser.add_argument("--out", type=Path, help="PDF to write (default RUN/report.pdf)")
    parser.add_argument("--sections", help=f"comma-separated sections (default all: {', '.join(available())})")
    parser.add_argument("--no-compute", action="store_true",
                        help="do not run missing interp.analyze steps; a missing step is an error naming the command")
    parser.add_argument("--title", help="report title (default: '<study>: study report')")
    logs.add_verbose_flag(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry; returns the exit code (2 for bad input or, with --no-compute, a missing step)."""
    args = build_parser().parse_args(argv)
    logs.configure(args.verbose)
    names = [name.strip() for name in args.sections.split(",") if name.strip()] if args.sections else None
    try:
        result = build_report(args.run, args.out, names=names, compute=not args.no_compute, title=args.title)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.computed:
        print(f"computed first: {', '.join(result.computed)}")
    for line in result.notes:
        print(f"note: {line}")
    print(f"wrote {result.path} ({len(result.sections)} sections, {result.seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
