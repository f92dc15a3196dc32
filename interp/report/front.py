"""The title page (study, date, commit, device, preset) and the table of contents."""

from __future__ import annotations

from reportlab.platypus import Flowable

from interp.results import Results
from reports.document import contents
from reports.flowables import page_break, paragraph, spacer, table, text
from reports.styles import FRAME_WIDTH


def facts(results: Results) -> list[tuple[str, str]]:
    """The study's identity as (label, value) rows, from ``study.json`` and ``analysis/index.json``."""
    study = results.study
    config = results.config()
    folds = study.get("folds") or []
    analysed = sorted({str((entry.get("provenance") or {}).get("created_utc", ""))[:19]
                       for entry in results.index.get("steps", {}).values()} - {""})
    analysis_commits = sorted({str((entry.get("provenance") or {}).get("git_commit", ""))
                               for entry in results.index.get("steps", {}).values()} - {""})
    return [
        ("Study", results.name),
        ("Run directory", str(results.run)),
        ("Preset", str(study.get("preset") or "custom")),
        ("Arms", ", ".join(study.get("models", []))),
        ("Folds", "one fold, 'all' (an audit: every image scored, none trained on)" if results.audited() else
                  f"k = {study.get('k')}; trained folds {', '.join(map(str, folds)) or 'none'}"),
        ("Model", f"audited, not trained here (python -m interp.audit) at {config.get('image_size', '?')} px"
                  if results.audited() else
                  f"{config.get('architecture', '?')} at {config.get('image_size', '?')} px, "
                  f"{config.get('epochs', '?')} epochs, init {config.get('weights') or 'random'}"),
        ("Seed", str(study.get("seed"))),
        ("Device", str(study.get("device"))),
        ("Trained (UTC)", str(study.get("created_utc", "unknown"))),
        ("Training commit", str(study.get("git_commit", "unknown"))),
        ("Analysed (UTC)", f"{analysed[0]} to {analysed[-1]}" if len(analysed) > 1 else (analysed or ["never"])[0]),
        ("Analysis commit", ", ".join(analysis_commits) or "unknown"),
        ("Manifest SHA-256", str(study.get("manifest_hash", "unknown"))),
    ]


def front_matter(results: Results, title: str | None = None) -> list[Flowable]:
    """Title, subtitle, the study's facts (Table 1), and the table of contents; then a new page."""
    title = title or f"{results.name}: study report"
    rows = [[label, value] for label, value in facts(results)]
    return [
        spacer(30),
        paragraph(text(title), "Title"),
        paragraph("Facial expression recognition on masked faces: results, statistics and attention audit "
                  "of one study, generated from its <i>analysis/</i> folder by <i>python -m interp.report</i>.",
                  "Subtitle"),
        *table(["field", "value"], rows, "The study: what was trained, where and from which code. Every number in "
               "this report comes from the files of <i>analysis/</i> listed in its <i>index.json</i>.",
               widths=[0.24 * FRAME_WIDTH, 0.76 * FRAME_WIDTH]),
        spacer(12),
        paragraph("<b>Contents</b>"),
        contents(),
        page_break(),
    ]
