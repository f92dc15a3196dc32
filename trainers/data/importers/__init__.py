"""Importers: turn a dataset layout into a checked manifest.

Each module of this package registers one format with :func:`register_importer`: a function
``read(src, out_dir, options) -> ImportedTable`` and a dataclass of its options (each field's
``metadata["help"]`` is its command-line help). :func:`import_dataset` runs an importer, checks
the result with :func:`trainers.data.check.check_manifest` and writes the manifest atomically.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trainers.data.check import CheckResult, Problem, check_manifest
from trainers.data.manifest import REQUIRED_COLUMNS, Manifest
from trainers.common.errors import DataError
from trainers.common.registry import Registry

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


@dataclass
class ImportedTable:
    """What an importer read.

    Attributes
    ----------
    table
        Manifest columns; ``path`` relative to ``root`` (or absolute), labels as class names.
    root
        The folder that ``path`` values start from.
    problems
        Inputs that could not become rows (bad file names, unknown labels, missing files).
    """

    table: pd.DataFrame
    root: Path
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Importer:
    """A registered dataset format."""

    name: str
    read: Callable[[Path, Path, Any], ImportedTable]
    options: type
    summary: str


IMPORTERS: Registry[Importer] = Registry("dataset format", package=__name__)


def register_importer(name: str, options: type) -> Callable:
    """Decorator registering ``read(src, out_dir, options)`` as format ``name``.

    ``options`` is a dataclass whose fields (all with defaults) are the format's options.
    """

    def decorate(read: Callable[[Path, Path, Any], ImportedTable]) -> Callable:
        summary = (read.__doc__ or name).strip().splitlines()[0]
        IMPORTERS.add(name, Importer(name, read, options, summary), origin=read)
        return read

    return decorate


def run_import(
    fmt: str,
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    skip_bad: bool = False,
    decode: bool = True,
    **options: Any,
) -> CheckResult:
    """Import ``src`` as format ``fmt``, check it, and write the manifest to ``out``.

    Parameters
    ----------
    fmt
        A key of :data:`IMPORTERS`.
    src
        The dataset (folder or file, as the format expects).
    out
        Manifest file to write (``.csv`` or ``.parquet``); its folder becomes the dataset root.
    skip_bad
        Leave bad rows out (listed in the result's ``skipped``) instead of failing.
    decode
        Decode every image during the check.
    **options
        Fields of the format's options dataclass.

    Raises
    ------
    DataError
        Unknown format or option, missing source, or bad rows without ``skip_bad``; nothing is
        written then.
    """
    importer = IMPORTERS[fmt]
    out = Path(out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise DataError(f"{out}: the manifest file must end in .csv or .parquet")
    src = Path(src)
    if not src.exists():
        raise DataError(f"{src}: dataset not found; give the folder (or file) the {fmt} format expects")
    parsed = _options(importer, options)
    out_dir = out.parent.resolve()
    imported = importer.read(src, out_dir, parsed)
    manifest = Manifest(imported.table, imported.root)
    result = check_manifest(manifest, decode=decode, skip_bad=skip_bad, earlier_problems=imported.problems)
    if not len(result.manifest):
        raise DataError(f"{src}: no usable images found for format {fmt!r}; check SRC and the format's layout")
    result.manifest.save(out)
    log.info("wrote %d rows to %s", len(result.manifest), out)
    return CheckResult(Manifest.load(out), result.skipped)


def import_dataset(fmt: str, src: str | os.PathLike, out: str | os.PathLike, **options: Any) -> Manifest:
    """:func:`run_import` returning only the written manifest."""
    return run_import(fmt, src, out, **options).manifest


def rows_table(rows: list[dict[str, Any]], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """A table with the manifest's required columns (plus ``extra``) from row dicts, even when empty."""
    return pd.DataFrame.from_records(rows, columns=list(REQUIRED_COLUMNS) + list(extra))


def option_fields(importer: Importer) -> list[dataclasses.Field]:
    """The option fields of an importer, in declaration order."""
    return list(dataclasses.fields(importer.options))


def _options(importer: Importer, options: dict[str, Any]) -> Any:
    known = {f.name for f in option_fields(importer)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise DataError(
            f"format {importer.name!r} has no option {', '.join(unknown)}; "
            f"its options: {', '.join(sorted(known)) or 'none'}"
        )
    return importer.options(**options)


def compile_regex(pattern: str, option: str, groups: tuple[str, ...] = ()) -> re.Pattern:
    """Compile a user's regular expression; DataError when it is invalid or lacks a named group."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise DataError(f"--{option.replace('_', '-')} {pattern!r} is not a valid regular expression ({exc})") from exc
    missing = [g for g in groups if g not in compiled.groupindex]
    if missing:
        raise DataError(f"--{option.replace('_', '-')} {pattern!r} needs a named group (?P<{missing[0]}>...)")
    return compiled


def image_files(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted, hidden files skipped); logs what was ignored."""
    found, ignored = [], 0
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES:
            found.append(path)
        else:
            ignored += 1
    if ignored:
        log.info(
            "%s: ignored %d file(s) without an image suffix (%s)", folder, ignored, ", ".join(sorted(IMAGE_SUFFIXES))
        )
    return found
