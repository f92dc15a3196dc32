"""``python -m trainers data demo``: generate the built-in synthetic demo dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from trainers.data.manifest import summary

GROUP = "data"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo", help="generate the synthetic demo dataset (paired masked/non-masked FACS faces)",
        description="Generate the demo dataset: images, manifest.csv, votes.csv, truth.csv, evidence/, demo.json.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--subjects", type=int, default=142, help="number of subjects (default 142)")
    parser.add_argument("--size", type=int, default=256, help="image side in pixels (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--preview", type=Path, default=None, help="write a contact sheet of one subject here")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate the dataset and print its Table-2 summary."""
    from trainers.data.demo import generate_demo

    manifest = generate_demo(args.out, subjects=args.subjects, size=args.size, seed=args.seed,
                             preview=args.preview, workers=args.workers)
    print(f"demo dataset: {len(manifest)} images in {args.out} (manifest.csv, votes.csv)")
    print(summary(manifest).to_string())
    return 0
