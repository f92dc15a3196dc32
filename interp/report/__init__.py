"""``python -m interp.report RUN``: a publication-quality PDF of one study.

The report reads the study only through :mod:`interp.results` (so it prints the dashboard's numbers,
formatted by :mod:`interp.present`) and hands headings, tables and figures to :mod:`reports`, which owns
the look (page template, styles, captions, table of contents). Sections are a registry
(:mod:`interp.report.sections`, one file each); ``--sections`` picks some.

Examples
--------
>>> from interp.report import build_report                          # doctest: +SKIP
>>> build_report("demo-output/runs/quick").path                     # doctest: +SKIP
PosixPath('demo-output/runs/quick/report.pdf')
"""

from interp.report.build import REPORT_FILE, ReportResult, build_report
from interp.report.sections import available

__all__ = ["REPORT_FILE", "ReportResult", "available", "build_report"]
