"""Figure 6 in the PDF: the audit's overlay tiles in a table whose row labels (arms), column headers (view
and true class) and predicted classes are text (at least 7 pt, readable at 100% zoom, searchable), not
pixels of a scaled-down contact sheet. The tiles keep their green (right) or red (wrong) border."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, Table, TableStyle

from interp.palette import CORRECT_COLOURS
from interp.present import figure6_grid
from interp.results import Results
from reports.flowables import image_file, swatch, text
from reports.styles import FRAME_HEIGHT, FRAME_WIDTH, stylesheet

LABEL_WIDTH = 0.14 * FRAME_WIDTH
HEADER_POINTS = 7.5
PREDICTION_POINTS = 7.0


def figure6_table(results: Results, arms: list[str], colours: dict[str, str], method: str | None = None,
                  max_height: float = 0.8 * FRAME_HEIGHT) -> Table:
    """The figure-6 grid of ``results``' audit: one row per arm (its name, in its colour swatch, on the left),
    one column per audited image (NM then M of each pair, headed ``NM · happy``), each tile with the arm's
    predicted class under it in green (right) or red (wrong).

    Raises
    ------
    interp.results.ResultMissing
        When the study has no attention audit (the message names the command).
    """
    tiles = results.overlays(method)
    paths = {(arm, image_id): path for arm, image_id, path in tiles.itertuples(index=False)}
    grid = figure6_grid(results.attention(method), paths, arms)
    body = stylesheet()["Cell"]
    header = ParagraphStyle("Figure6Header", parent=stylesheet()["CellHeader"], fontSize=HEADER_POINTS,
                            leading=HEADER_POINTS + 1.5, alignment=TA_CENTER)
    label = ParagraphStyle("Figure6Arm", parent=body, fontName="Helvetica-Bold", alignment=TA_RIGHT)
    prediction = ParagraphStyle("Figure6Prediction", parent=body, fontSize=PREDICTION_POINTS,
                                leading=PREDICTION_POINTS + 1, alignment=TA_CENTER)
    row_room = (max_height - 3 * HEADER_POINTS) / max(len(grid.arms), 1) - (PREDICTION_POINTS + 5)
    side = min((FRAME_WIDTH - LABEL_WIDTH) / len(grid.images) - 4, row_room)
    data = [[""] + [Paragraph(text(title), header) for title in grid.headers]]
    for arm in grid.arms:
        row = [Paragraph(swatch(colours.get(arm, "#000000"), arm), label)]
        for image_id in grid.images:
            if (arm, image_id) not in paths:
                row.append("")
                continue
            pred, right = grid.predictions.get((arm, image_id), ("?", True))
            row.append([image_file(paths[(arm, image_id)], side),
                        Paragraph(f'<font color="{CORRECT_COLOURS[right]}">{text(pred)}</font>', prediction)])
        data.append(row)
    table = Table(data, colWidths=[LABEL_WIDTH] + [side + 4] * len(grid.images), repeatRows=1, hAlign="CENTER")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, 0), "BOTTOM"), ("VALIGN", (0, 1), (-1, -1), "MIDDLE"),
                               ("ALIGN", (1, 0), (-1, -1), "CENTER"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                               ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black)]))
    return table
