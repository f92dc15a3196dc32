"""``python -m trainers data folds MANIFEST --k 10 --seed 0 [--out FOLDS.csv]``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from trainers.common.atomic import atomic_path
from trainers.data.manifest import Manifest

GROUP = "data"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``folds`` command."""
    parser = subparsers.add_parser(
        "folds",
        help="split a manifest into subject-disjoint, label-stratified folds",
        description="Assign every image the fold in which it is validated: subjects never span two folds, "
        "both images of a pair share one, classes are balanced as far as subjects allow. Prints fold sizes.",
    )
    parser.add_argument("manifest", type=Path, help="manifest file (.csv or .parquet)")
    parser.add_argument("--k", type=int, default=10, help="number of folds (default 10, as in the paper)")
    parser.add_argument("--seed", type=int, default=0, help="seed; the same seed gives the same folds (default 0)")
    parser.add_argument("--out", type=Path,
                        help="write image_id,subject,fold to this CSV (for `trainers run --fold-file`)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Assign folds, print their sizes and optionally write them."""
    # Imported here: scikit-learn takes seconds to import and every CLI call builds all parsers.
    from trainers.data.folds import assign_folds, fold_sizes

    manifest = Manifest.load(args.manifest)
    folds = assign_folds(manifest.table, args.k, args.seed)
    sizes = fold_sizes(manifest.table, folds)
    sizes.loc["total"] = sizes.sum()
    print(f"{args.k} subject-disjoint folds of {args.manifest} (seed {args.seed}):")
    print(sizes.to_string())
    if args.out is not None:
        with atomic_path(args.out) as tmp:
            pd.DataFrame({"image_id": manifest.table["image_id"], "subject": manifest.table["subject"],
                          "fold": folds}).to_csv(tmp, index=False)
        print(f"wrote {args.out}")
    return 0
