"""``python -m trainers data import --format FORMAT SRC --out MANIFEST``: import and check a dataset."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path

from trainers.data.check import format_report
from trainers.data.importers import IMPORTERS, option_fields, run_import
from trainers.common.errors import DataError

GROUP = "data"
OPTION_PREFIX = "importer_"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import`` command."""
    formats = "\n".join(f"  {name:9} {importer.summary}" for name, importer in sorted(IMPORTERS.items()))
    parser = subparsers.add_parser(
        "import",
        help="import a dataset layout into a checked manifest",
        description=f"Import a dataset into a manifest, check every image, print the summary.\n\nformats:\n{formats}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--format", required=True, choices=sorted(IMPORTERS), help="dataset layout of SRC")
    parser.add_argument("src", type=Path, help="the dataset folder (or file, for csv and fer2013)")
    parser.add_argument("--out", required=True, type=Path, help="manifest to write (.csv or .parquet)")
    parser.add_argument(
        "--skip-bad", action="store_true", help="leave bad images out (and list them) instead of failing"
    )
    parser.add_argument(
        "--no-decode", action="store_true", help="check files exist and are not empty, without decoding"
    )
    _add_importer_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the import; print counts, the Table-2 summary, the content hash and what was skipped."""
    options = {key[len(OPTION_PREFIX) :]: value for key, value in vars(args).items() if key.startswith(OPTION_PREFIX)}
    own = {field.name for field in option_fields(IMPORTERS[args.format])}
    foreign = sorted(set(options) - own)
    if foreign:
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in foreign)
        raise DataError(f"{flags}: not an option of --format {args.format}; see python -m trainers data import --help")
    result = run_import(args.format, args.src, args.out, skip_bad=args.skip_bad, decode=not args.no_decode, **options)
    print(format_report(result))
    print(f"\nmanifest written to {args.out}")
    return 0


def _add_importer_options(parser: argparse.ArgumentParser) -> None:
    """One flag per importer option field; a flag shared by formats is added once."""
    seen: dict[str, list[str]] = {}
    fields: dict[str, tuple[dataclasses.Field, type]] = {}
    for name, importer in sorted(IMPORTERS.items()):
        hints = typing.get_type_hints(importer.options)
        for field in option_fields(importer):
            seen.setdefault(field.name, []).append(name)
            fields.setdefault(field.name, (field, hints[field.name]))
    group = parser.add_argument_group("format options (only given ones are passed on)")
    for option, (field, hint) in fields.items():
        help_text = f"{field.metadata.get('help', '')} [{', '.join(seen[option])}; default {field.default!r}]"
        kwargs = _argument_kwargs(hint)
        if "action" not in kwargs and "choices" not in kwargs:
            kwargs["metavar"] = option.rsplit("_", 1)[-1].upper()
        group.add_argument(
            f"--{option.replace('_', '-')}",
            dest=OPTION_PREFIX + option,
            default=argparse.SUPPRESS,
            help=help_text,
            **kwargs,
        )


def _argument_kwargs(hint: object) -> dict[str, object]:
    """argparse keywords for a field's type: flag for bool, choices for Literal, converter otherwise."""
    if hint is bool:
        return {"action": "store_true"}
    if typing.get_origin(hint) is typing.Literal:
        return {"choices": typing.get_args(hint)}
    if Path in typing.get_args(hint) or hint is Path:
        return {"type": Path}
    return {"type": hint if hint in (int, float) else str}
