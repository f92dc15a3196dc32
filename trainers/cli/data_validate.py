"""``python -m trainers data validate MANIFEST VOTES --out DIR``."""

from __future__ import annotations

import argparse
from pathlib import Path

from trainers.data.manifest import Manifest, summary
from trainers.data.validation import load_votes, validate_labels, write_validation

GROUP = "data"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` command."""
    parser = subparsers.add_parser(
        "validate",
        help="validate labels with volunteer votes (MSD-E paper, section 2.2)",
        description="Keep, relabel or remove every flagged image by the volunteers' votes and build the "
        "MSD-PE pair subset. Writes DIR/manifest.csv, DIR/audit.csv and DIR/pairs.csv.",
    )
    parser.add_argument("manifest", type=Path, help="manifest file (.csv or .parquet)")
    parser.add_argument("votes", type=Path, help="votes CSV with columns image_id,volunteer,proposed_label")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate, write the outputs, print the decision counts and the Table-2 summary."""
    manifest = Manifest.load(args.manifest)
    votes = load_votes(args.votes, manifest)
    result = validate_labels(manifest, votes)
    written = write_validation(result, args.out)
    counts = result.counts
    print(
        f"{counts['images']} images, {counts['volunteers']} volunteers: {counts['unflagged']} unflagged, "
        f"{counts['flagged']} flagged ({counts['kept']} kept, {counts['relabelled']} relabelled, "
        f"{counts['removed']} removed); pairs {counts['pairs_before']} -> {counts['pairs_kept']} "
        f"({counts['pairs_removed']} removed)"
    )
    print("Validated dataset (MSD-E) with MSD-PE pairs:")
    print(summary(result.manifest).to_string())
    for path in written.values():
        print(f"wrote {path}")
    return 0
