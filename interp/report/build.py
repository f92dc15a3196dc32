"""Assemble the report of a study: compute what is missing, lay out the chosen sections, write the PDF."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.platypus import Flowable

from interp import results as study_results
from interp.report.front import front_matter
from interp.report.sections import Context, Section, sections
from interp.results import Results, ResultMissing
from reports.document import Metadata, restart_numbering, write_pdf

log = logging.getLogger(__name__)

REPORT_FILE = "report.pdf"
AUTHOR = "maskfer interp.report"


@dataclass
class ReportResult:
    """What :func:`build_report` did: the PDF, the sections laid out, the steps it computed first,
    the notes of parts it could not show, and the seconds it took."""

    path: Path
    sections: list[str]
    computed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def needed_steps(chosen: Sequence[Section]) -> list[str]:
    """The analysis steps the chosen sections read, in section order."""
    return list(dict.fromkeys(step for section in chosen for step in section.steps))


def prepare(run: str | Path, chosen: Sequence[Section], compute: bool) -> tuple[Results, list[str]]:
    """The study with the chosen sections' analysis steps present.

    Raises
    ------
    ResultMissing
        With ``compute`` false, when a step is missing; the message names the command to run.
    """
    results = study_results.load(run)
    missing = results.missing_steps(needed_steps(chosen))
    if not missing:
        return results, []
    if not compute:
        commands = "; ".join(f"`{results.command(step)}`" for step in missing)
        raise ResultMissing(f"{results.run}: analysis step(s) {', '.join(missing)} missing (--no-compute); "
                            f"run {commands}, or drop --no-compute to compute them first")
    from interp.analyze import analyze  # imports the steps' heavy dependencies only when needed

    log.info("computing missing analysis step(s): %s", ", ".join(missing))
    analyze(run, only=missing)
    return study_results.load(run), missing


def story(results: Results, chosen: Sequence[Section], title: str | None = None) -> tuple[list[Flowable], Context]:
    """The flowables of the whole report: title page, contents, then each section."""
    restart_numbering()
    context = Context.of(results)
    flowables = front_matter(results, title)
    for number, section in enumerate(chosen, start=1):
        started = time.perf_counter()
        flowables += section.build(context, number)
        log.debug("section %s: %.2f s", section.name, time.perf_counter() - started)
    return flowables, context


def build_report(run: str | Path, out: str | Path | None = None, *, names: Sequence[str] | None = None,
                 compute: bool = True, title: str | None = None) -> ReportResult:
    """Write the PDF report of a study.

    Parameters
    ----------
    run
        The run directory (``runs/<study>``).
    out
        The PDF to write (default ``RUN/report.pdf``); replaced atomically.
    names
        Sections to include (default all, see :func:`interp.report.sections.available`).
    compute
        Run the missing ``interp.analyze`` steps first; when false a missing step raises.
    title
        The report's title (default: the study's name).

    Raises
    ------
    trainers.common.errors.DataError
        For an unknown section, a directory that is not a run, or (``compute`` false) a missing step.
    """
    started = time.perf_counter()
    chosen = sections(names)
    results, computed = prepare(run, chosen, compute)
    target = Path(out) if out else results.run / REPORT_FILE
    flowables, context = story(results, chosen, title)
    name = results.name
    write_pdf(flowables, target, Metadata(
        title=title or f"{name}: study report", author=AUTHOR,
        subject=f"study {name} ({results.study.get('preset') or 'custom'} preset, "
                f"{len(results.arms)} arms, k = {results.study.get('k')})",
        footer=f"{title or name} - {AUTHOR}"))
    return ReportResult(path=target, sections=[section.name for section in chosen], computed=computed,
                        notes=context.notes, seconds=time.perf_counter() - started)
