"""Section ``dataset``: the frozen manifest's counts (the paper's Table 2) and a preview sheet of one
subject's non-masked and masked images."""

from __future__ import annotations

import pandas as pd
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from interp.palette import class_colour
from interp.report.sections import register
from interp.report.sections.base import Context, Section
from interp.results import Results
from reports.flowables import figure, image_file, note, paragraph, swatch, table, text
from reports.styles import FRAME_WIDTH, stylesheet
from trainers.data.labels import CLASSES


@register
class DatasetSection(Section):
    name = "dataset"
    title = "Dataset"
    order = 10
    steps = ("tables", "thumbnails")

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        images = results.images()
        counts = results.dataset_summary()
        subjects = images["subject"].nunique()
        sources = ", ".join(sorted(map(str, images["source"].dropna().unique()))) if "source" in images else "?"
        parts: list[Flowable] = [paragraph(
            f"The study's frozen manifest holds {len(images)} images of {subjects} subjects "
            f"(source: {text(sources)}), split by subject into {results.study.get('k')} folds. "
            "A pair is the non-masked and masked image of one subject posing one expression; the masked "
            "image is what the models must read without the mouth.")]
        header = ["class", "non-masked", "masked", "total", "pairs"]
        rows = [[swatch(class_colour(str(row["class"])), str(row["class"])) if row["class"] != "total"
                 else "<b>total</b>", *(str(int(row[column])) for column in header[1:])]
                for _, row in counts.iterrows()]
        parts += table(header, rows, "Images per expression class in the frozen manifest (the paper's Table 2): "
                       "non-masked and masked images, their total, and complete non-masked/masked pairs.",
                       widths=[0.32 * FRAME_WIDTH] + [0.17 * FRAME_WIDTH] * 4, numeric=(1, 2, 3, 4),
                       markup_columns=(0,))
        parts += context.optional(lambda: preview(results, images), "Preview sheet")
        return parts


def preview_subject(images: pd.DataFrame) -> str:
    """The subject with the most complete pairs over classes (first in name order on a tie)."""
    pairs = images.groupby(["subject", "label"])["masked"].nunique().eq(2).groupby("subject").sum()
    return str(pairs.sort_index().idxmax())


def preview(results: Results, images: pd.DataFrame) -> list[Flowable]:
    """A grid of one subject's thumbnails: columns are classes, rows non-masked and masked."""
    subject = preview_subject(images)
    own = images[images["subject"] == subject]
    styles = stylesheet()
    side = FRAME_WIDTH / (len(CLASSES) + 1) - 4
    header = [Paragraph(swatch(class_colour(name), name), styles["Cell"]) for name in CLASSES]
    grid: list[list[object]] = [["", *header]]
    for masked, label in ((False, "non-masked"), (True, "masked")):
        row: list[object] = [Paragraph(label, styles["Cell"])]
        for name in CLASSES:
            match = own[(own["label"] == name) & (own["masked"] == masked)]
            path = results.thumbnail(str(match["image_id"].iloc[0])) if len(match) else None
            row.append(image_file(path, side) if path else Paragraph("-", styles["Cell"]))
        grid.append(row)
    sheet = Table(grid, colWidths=[FRAME_WIDTH - len(CLASSES) * (side + 4)] + [side + 4] * len(CLASSES))
    sheet.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (-1, -1), "CENTER"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]))
    missing = [name for name in CLASSES if not (own["label"] == name).any()]
    parts: list[Flowable] = [figure(sheet, f"Preview sheet of subject <i>{text(subject)}</i>: one image per "
                                    "expression class, non-masked (top) and masked (bottom), as the models saw them "
                                    "(face crop of the image cache, thumbnails of <i>analysis/thumbnails</i>).")]
    if missing:
        parts.append(note(f"Subject {text(subject)} has no image of {text(', '.join(missing))}."))
    return parts
