"""``python -m trainers data faces MANIFEST --out DIR``: find faces and 478-point landmarks."""

from __future__ import annotations

import argparse
from pathlib import Path

GROUP = "data"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``faces`` command."""
    parser = subparsers.add_parser(
        "faces", help="find the face and its 478 landmarks in every image (MediaPipe, offline)",
        description="Detect faces (MediaPipe full- and short-range) and 478 face-mesh landmarks in every image; "
        "write DIR/manifest.csv with face_box, landmarks, landmark_layout, face_roll, an estimated mask_polygon "
        "where none is drawn, and DIR/faces-audit.csv listing images without a face.",
    )
    parser.add_argument("manifest", type=Path, help="manifest file (.csv or .parquet)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--all-faces", action="store_true",
                        help="one row per face (face_index; <image_id>#k for k > 0) instead of the largest face")
    parser.add_argument("--min-size", type=float, default=24.0,
                        help="ignore faces smaller than this many pixels (default 24)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 2 when any image has no face (the audit CSV is still written)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Find the faces; print the counts, the speed and where the files are."""
    from trainers.data.faces.annotate import find_faces

    result = find_faces(args.manifest, args.out, all_faces=args.all_faces, min_size=args.min_size,
                        strict=args.strict)
    per_image = 1000 * result.seconds / max(result.images, 1)
    print(f"faces: {len(result.manifest)} row(s) from {result.images} image(s), {len(result.audit)} left out "
          f"({per_image:.0f} ms per image)")
    print(f"manifest written to {result.manifest_path}; audit: {result.audit_path}")
    return 0
