"""Command line of ``python -m interp.audit MODEL --data MANIFEST --out RUN``: audit a model trained elsewhere.

MODEL is a built-in card (``fer``), a JSON model card, or a model file (ONNX, TorchScript, a state dict
with ``--arch``, Keras HDF5; or nothing with ``--factory``); the flags fill or override the card
(:func:`interp.external.card.load_card`). The run directory it writes (:mod:`interp.audit.study`) is
analysed at once, so ``python -m interp.report RUN`` and ``python -m dashboards RUN`` open it directly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from trainers.common import logs
from trainers.common.errors import DataError

CARD_FLAGS: tuple[str, ...] = ("name", "format", "arch", "factory", "input_size", "colour", "mean", "std", "crop",
                               "outputs", "classes", "layer")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m interp.audit", description=__doc__.splitlines()[0])
    parser.add_argument("model", help="built-in card (fer), a JSON model card, or a model file "
                                      "(.onnx, TorchScript .pt, state dict .pt/.pth with --arch, Keras .h5/.hdf5)")
    parser.add_argument("--data", type=Path, required=True,
                        help="manifest with NM/M pairs (trainers data mask); labels optional")
    parser.add_argument("--out", type=Path, required=True, help="run directory to write (an earlier audit is replaced)")
    parser.add_argument("--name", help="arm name (default: the model file's stem, or the card's name)")
    parser.add_argument("--card", type=Path, help="JSON model card applied on top of MODEL (flags still win)")
    parser.add_argument("--format", help="onnx, torchscript, state_dict, factory or keras (default: by extension)")
    parser.add_argument("--arch", help="our registry's architecture for a bare state dict (e.g. resnet18)")
    parser.add_argument("--factory", help="package.module:function returning an nn.Module (weights from MODEL if a file)")
    parser.add_argument("--input-size", type=int, help="side of the square input in pixels (default: from the model)")
    parser.add_argument("--colour", choices=["grey", "rgb"], help="input colour (default rgb)")
    parser.add_argument("--mean", help="per-channel mean on 0-1 pixels, e.g. 0.485,0.456,0.406 or 0.5")
    parser.add_argument("--std", help="per-channel standard deviation on 0-1 pixels, e.g. 0.229,0.224,0.225")
    parser.add_argument("--crop", choices=["face", "none"], help="face crop (default) or the whole image")
    parser.add_argument("--outputs", choices=["logits", "probs", "auto"], help="what the model returns (default auto)")
    parser.add_argument("--classes", help="output names in the model's output order, comma-separated "
                                          "(synonyms such as anger, fearful, happiness are mapped; contempt is kept)")
    parser.add_argument("--layer", help="Grad-CAM layer (dotted module name; default the deepest conv map >= 7x7)")
    parser.add_argument("--target", choices=["true", "pair", "pred"],
                        help="class the maps explain: true (label; default with labels), pair (the class predicted "
                             "on the non-masked image, for both images; default without labels) or pred (each "
                             "image's own prediction)")
    parser.add_argument("--max-images", type=int, default=0,
                        help="at most N images (whole pairs) get attribution maps (default 0 = all)")
    parser.add_argument("--no-sanity", action="store_true", help="skip the sanity checks and the other checks of the maps (null band, faithfulness, "
                             "method agreement): maps, region metrics and mask sensitivity only, several times faster")
    logs.add_verbose_flag(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    logs.configure(args.verbose)
    from interp.audit.study import AuditOptions, audit_card
    from interp.external.card import load_card

    try:
        overrides = {flag: getattr(args, flag) for flag in CARD_FLAGS}
        card = load_card(args.model, card_file=args.card, **overrides)
        options = AuditOptions(target=args.target, max_images=args.max_images, sanity=not args.no_sanity)
        out = audit_card(card, args.data, args.out, options)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from interp.results import load

    results = load(out)
    summary = results.mask_sensitivity()
    overall = summary[summary["class"] == "all"]
    print(overall.to_string(index=False, columns=[c for c in ("model", "n_pairs", "flip_rate", "flip_ci_low",
                                                               "flip_ci_high", "accuracy_nm", "accuracy_m")
                                                  if c in overall]))
    print(f"run directory: {out}; report: python -m interp.report {out}; dashboard: python -m dashboards {out}")
    return 0
