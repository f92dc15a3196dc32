"""``python -m interp.analyze RUN``: write ``RUN/analysis/`` (tables, figures, index.json).

Incremental: each step's inputs (file hashes, options, code) are hashed and stored in
``analysis/index.json``; a step whose hash is unchanged and whose outputs are all present is
skipped, so a rerun with nothing changed writes nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from interp import layout
from interp.headline import headline_cells
from interp.present import accuracy_cells
from interp.results import Results, ResultMissing
from interp.results import load as load_results
from interp.runs import Run, open_run
from interp.shift_text import shift_printout
from interp.steps import available, steps
from interp.steps.base import Step, file_digest
from trainers.common import logs
from trainers.common.atomic import atomic_open
from trainers.common.errors import DataError
from trainers.common.options import build, parse_assignments
from trainers.common.provenance import provenance

log = logging.getLogger(__name__)

@dataclass
class AnalysisResult:
    """What :func:`analyze` did: ``ran`` and ``skipped`` step names, and the index it left."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    index: dict = field(default_factory=dict)


def build_config(step: Step, options: dict[str, object] | None) -> object:
    """The step's config dataclass with ``options`` (field -> value, or text from ``--set``) applied.

    Raises
    ------
    DataError
        For an unknown option or a value that is not of the option's type (see :mod:`trainers.common.options`).
    """
    return build(step.Config, options, f"step {step.name!r}")


def _up_to_date(entry: dict | None, fingerprint: dict, analysis: Path) -> bool:
    if not entry or entry.get("input_hash") != fingerprint["input_hash"]:
        return False
    return all((analysis / item["path"]).is_file() for item in entry.get("outputs", []))


def _run_step(step: Step, run: Run, config: object, fingerprint: dict, analysis: Path, previous: dict | None) -> dict:
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outputs = step.run(run, config, analysis)
    for warning in caught:
        log.warning("%s: %s", step.name, warning.message)
    keep = {path.resolve() for path in outputs}
    for item in (previous or {}).get("outputs", []):
        stale = analysis / item["path"]
        if stale.resolve() not in keep:
            stale.unlink(missing_ok=True)
    return {
        **fingerprint,
        "description": step.description,
        "outputs": [{"path": path.relative_to(analysis).as_posix(), "sha256": file_digest(path),
                     "bytes": path.stat().st_size} for path in outputs],
        "warnings": sorted({str(w.message) for w in caught}),
        "seconds": round(time.perf_counter() - started, 3),
        "provenance": provenance(step=step.name),
    }


def analyze(path: str | Path, *, only: Sequence[str] | None = None, force: bool = False,
            options: dict[str, dict[str, object]] | None = None, allow_partial: bool = False) -> AnalysisResult:
    """Run the analysis steps of a run directory, skipping those whose inputs are unchanged.

    Parameters
    ----------
    path
        The run directory.
    only
        Step names to consider (default: all registered steps).
    force
        Rerun the chosen steps even when up to date.
    options
        Step name -> {option: value} for the steps' config dataclasses; every chosen step's options
        are checked (:func:`build_config`) before any step runs.
    allow_partial
        Analyse the finished folds of a run with missing or unfinished folds (with a warning).
    """
    unknown = [name for name in [*(only or ()), *(options or {})] if name not in available()]
    if unknown:
        raise DataError(f"unknown step(s) {', '.join(unknown)}; available: {', '.join(available())}")
    registry = steps(only)
    configs = {name: build_config(step, (options or {}).get(name)) for name, step in registry.items()}  # all first
    run = open_run(path, allow_partial=allow_partial)
    analysis = layout.analysis_dir(run.path)
    index = layout.read_index(analysis)
    result = AnalysisResult(index=index)
    for name in tqdm(list(registry), desc="analysis", unit="step"):
        step, config = registry[name], configs[name]
        fingerprint = step.fingerprint(run, config)
        if not force and _up_to_date(index["steps"].get(name), fingerprint, analysis):
            log.info("%s: up to date", name)
            result.skipped.append(name)
            continue
        log.info("%s: running", name)
        index["steps"][name] = _run_step(step, run, config, fingerprint, analysis, index["steps"].get(name))
        result.ran.append(name)
        _write_index(index, run, analysis)  # after every step: a later failure keeps the finished steps
    return result


def _write_index(index: dict, run: Run, analysis: Path) -> None:
    index.update({"schema": layout.INDEX_SCHEMA, "run": run.path.resolve().as_posix(), "study": run.study["study"],
                  "provenance": provenance()})
    with atomic_open(analysis / layout.INDEX_FILE) as handle:
        json.dump(index, handle, indent=2, default=str)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m interp.analyze", description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run directory (runs/<study>)")
    parser.add_argument("--only", help=f"comma-separated steps (default all: {', '.join(available())})")
    parser.add_argument("--force", action="store_true", help="rerun the steps even when up to date")
    parser.add_argument("--allow-partial", action="store_true", help="analyse the finished folds only")
    parser.add_argument("--set", action="append", default=[], metavar="STEP.OPTION=VALUE",
                        help="step option, e.g. stats.baseline=baseline-nm, embeddings.methods=tsne "
                             "(lists comma-separated) or attributions.settings.steps=32 (the attribution "
                             "method's own settings); repeatable")
    parser.add_argument("--method", help="attribution method of the attributions step "
                        "(gradcam, guided_gradcam, integrated_gradients, occlusion)")
    parser.add_argument("--max-images", type=int,
                        help="at most N validation images per arm, over all its folds, in the attributions step "
                             "(a seeded, subject-stratified sample of whole pairs)")
    logs.add_verbose_flag(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    logs.configure(args.verbose)
    try:
        only = [name.strip() for name in args.only.split(",")] if args.only else None
        options = parse_assignments(args.set, "STEP.OPTION=VALUE")
        if args.method:
            options.setdefault("attributions", {})["method"] = args.method
        if args.max_images is not None:
            options.setdefault("attributions", {})["max_images"] = str(args.max_images)
        result = analyze(args.run, only=only, force=args.force, options=options,
                         allow_partial=args.allow_partial)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"ran: {', '.join(result.ran) or 'nothing'}; up to date: {', '.join(result.skipped) or 'nothing'}")
    results = load_results(args.run)
    if results.has("tables"):
        print(accuracy_cells(results.accuracy()).to_string(index=False))
    if results.has("stats"):
        cells = headline_cells(results.comparisons())
        if len(cells):
            print("\nHypotheses (each family's primary test; every row in analysis/tables/comparisons):")
            print(cells.to_string(index=False))
    _print_shift(results)
    print(f"outputs: {results.analysis} (index.json lists every file)")
    return 0


def _print_shift(results: Results) -> None:
    """The attention shift of every audited method, per arm, against its null band (:mod:`interp.shift_text`)."""
    for method in results.attention_methods():
        try:
            text = shift_printout(results.attention_shift(method), method)
        except ResultMissing:  # an audit without complete pairs writes no shift table
            continue
        if text:
            print(text)


if __name__ == "__main__":
    sys.exit(main())
