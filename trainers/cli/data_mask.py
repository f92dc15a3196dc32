"""``python -m trainers data mask MANIFEST --out DIR``: synthetic face masks, paired with the originals."""

from __future__ import annotations

import argparse
from pathlib import Path

GROUP = "data"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``mask`` command."""
    from trainers.data.masking.styles import STYLES

    parser = subparsers.add_parser(
        "mask", help="put a synthetic face mask on every unpaired non-masked face (needs landmarks)",
        description="Draw a face mask from each face's landmarks (run `data faces` first) and write DIR/manifest.csv: "
        "every row plus a masked partner per unpaired non-masked face, sharing pair_id and the exact mask_polygon; "
        "masked images in DIR/images/.",
    )
    parser.add_argument("manifest", type=Path, help="manifest with landmarks (from `data faces`)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--styles", default=",".join(STYLES),
                        help=f"comma-separated mask styles to draw from (default {','.join(STYLES)})")
    parser.add_argument("--seed", type=int, default=0, help="seed of styles, colours and shapes (default 0)")
    parser.add_argument("--preview", type=Path, default=None, help="write a before/after sheet (PNG) here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Draw the masks; print the counts and where the files are."""
    from trainers.data.manifest import summary
    from trainers.data.masking.apply import mask_dataset, parse_styles
    from trainers.data.masking.preview import before_after_sheet

    result = mask_dataset(args.manifest, args.out, styles=parse_styles(args.styles), seed=args.seed)
    print(f"mask: {result.masked} masked image(s) drawn; {len(result.manifest)} rows in {result.manifest_path}")
    print(summary(result.manifest).to_string())
    if args.preview is not None:
        print(f"preview: {before_after_sheet(result.manifest, args.preview)}")
    return 0
