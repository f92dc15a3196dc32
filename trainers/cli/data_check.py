"""``python -m trainers data check MANIFEST``: check a manifest and its images."""

from __future__ import annotations

import argparse
from pathlib import Path

from trainers.data.check import check_manifest, format_report
from trainers.data.manifest import Manifest

GROUP = "data"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` command."""
    parser = subparsers.add_parser(
        "check",
        help="check a manifest: ids, files, images, geometry, pairs",
        description="Check a manifest and every image it names; print the summary, the content hash and "
        "what was skipped.",
    )
    parser.add_argument("manifest", type=Path, help="manifest file (.csv or .parquet)")
    parser.add_argument("--skip-bad", action="store_true", help="leave bad rows out (and list them) instead of failing")
    parser.add_argument(
        "--no-decode", action="store_true", help="check files exist and are not empty, without decoding"
    )
    parser.add_argument("--out", type=Path, help="write the checked (with --skip-bad: cleaned) manifest here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the manifest; exit 0 when it is usable (DataError, exit 2, when it is not)."""
    result = check_manifest(Manifest.load(args.manifest), decode=not args.no_decode, skip_bad=args.skip_bad)
    print(format_report(result))
    if args.out is not None:
        result.manifest.save(args.out)
        print(f"\nmanifest written to {args.out}")
    return 0
