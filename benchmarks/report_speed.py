"""Seconds to write a study's PDF report when its analysis is present (``--no-compute``).

Builds the full report of ``RUN`` into a temporary folder ``--repeats`` times and prints, for the
fastest build, the wall and CPU seconds of each section's content (tables, matplotlib figures) and of
the layout (reportlab's passes, svglib, PNG embedding), with the page count and the file size. The
goal is under 30 s for the demo study on a 2-core CPU. CPU seconds are given because on a shared
machine wall time also measures the neighbours.

Run: ``python -m benchmarks.report_speed demo-output/runs/quick [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pypdf import PdfReader

from interp import results as study_results
from interp.report.build import AUTHOR
from interp.report.front import front_matter
from interp.report.sections import Context, sections
from reports.document import Metadata, restart_numbering, write_pdf

GOAL = 30.0
"""Wall seconds for the demo study's report on a 2-core CPU."""


def build_once(run: Path, target: Path) -> list[tuple[str, float, float]]:
    """One build; (part, wall seconds, CPU seconds) for each section and for the layout."""
    timings = []
    wall, cpu = time.perf_counter(), time.process_time()
    results = study_results.load(run)
    restart_numbering()
    context = Context.of(results)
    story = front_matter(results)
    timings.append(("title page", time.perf_counter() - wall, time.process_time() - cpu))
    for number, section in enumerate(sections(), start=1):
        wall, cpu = time.perf_counter(), time.process_time()
        story += section.build(context, number)
        timings.append((section.name, time.perf_counter() - wall, time.process_time() - cpu))
    wall, cpu = time.perf_counter(), time.process_time()
    write_pdf(story, target, Metadata(title=results.name, author=AUTHOR, subject=results.name, footer=results.name))
    timings.append(("layout (reportlab)", time.perf_counter() - wall, time.process_time() - cpu))
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="an analysed run directory")
    parser.add_argument("--repeats", type=int, default=3, help="builds; the fastest is reported")
    args = parser.parse_args(argv)
    missing = study_results.load(args.run).missing_steps()
    if missing:
        parser.error(f"{args.run}: analysis step(s) {', '.join(missing)} missing; run python -m interp.analyze first")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "report.pdf"
        builds = [build_once(args.run, target) for _ in range(args.repeats)]
        pages, size = len(PdfReader(target).pages), target.stat().st_size
    best = min(builds, key=lambda timings: sum(wall for _, wall, _ in timings))
    print(f"{'part':<22}{'wall s':>8}{'CPU s':>8}")
    for part, wall, cpu in best:
        print(f"{part:<22}{wall:>8.2f}{cpu:>8.2f}")
    total_wall, total_cpu = sum(t[1] for t in best), sum(t[2] for t in best)
    print(f"{'total':<22}{total_wall:>8.2f}{total_cpu:>8.2f}")
    print(f"{pages} pages, {size / 1e6:.2f} MB; goal < {GOAL:.0f} s: {'met' if total_wall < GOAL else 'missed'} "
          f"(fastest of {args.repeats} builds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
