"""Page geometry and paragraph styles of the PDF report (one place for fonts, sizes and spacing)."""

from __future__ import annotations

from functools import lru_cache

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import mm

PAGE_SIZE = A4
MARGIN = 18 * mm
FRAME_WIDTH = PAGE_SIZE[0] - 2 * MARGIN
FRAME_HEIGHT = PAGE_SIZE[1] - 2 * MARGIN - 8 * mm  # room for the footer
INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#666666")
RULE = colors.HexColor("#BBBBBB")
HEADER_FILL = colors.HexColor("#EEF1F5")
STRIPE_FILL = colors.HexColor("#F8F9FB")

# Heading style name -> outline/TOC level (the document turns these paragraphs into bookmarks).
HEADING_LEVELS: dict[str, int] = {"Heading1": 0, "Heading2": 1}


@lru_cache(maxsize=1)
def stylesheet() -> StyleSheet1:
    """The report's paragraph styles: ``Title``, ``Subtitle``, ``Heading1``, ``Heading2``, ``Body``,
    ``Caption``, ``Note``, ``Cell``, ``CellRight``, ``CellHeader``, ``CellHeaderRight``,
    ``TOCLevel0`` and ``TOCLevel1``."""
    sheet = getSampleStyleSheet()
    base = ParagraphStyle("Body", parent=sheet["Normal"], fontName="Helvetica", fontSize=9.5, leading=12.5,
                          textColor=INK, spaceAfter=5)
    styles = StyleSheet1()
    for style in (
        base,
        ParagraphStyle("Title", parent=base, fontName="Helvetica-Bold", fontSize=22, leading=27,
                       alignment=TA_LEFT, spaceAfter=10),
        ParagraphStyle("Subtitle", parent=base, fontSize=12, leading=16, textColor=MUTED, spaceAfter=16),
        ParagraphStyle("Heading1", parent=base, fontName="Helvetica-Bold", fontSize=15, leading=19,
                       spaceBefore=4, spaceAfter=8, keepWithNext=1),
        ParagraphStyle("Heading2", parent=base, fontName="Helvetica-Bold", fontSize=11.5, leading=15,
                       spaceBefore=8, spaceAfter=4, keepWithNext=1),
        ParagraphStyle("Caption", parent=base, fontSize=8.5, leading=11, textColor=INK, spaceBefore=3,
                       spaceAfter=10),
        ParagraphStyle("Note", parent=base, fontSize=8.5, leading=11, textColor=MUTED),
        ParagraphStyle("Cell", parent=base, fontSize=8, leading=9.8, spaceAfter=0),
        ParagraphStyle("CellRight", parent=base, fontSize=8, leading=9.8, spaceAfter=0, alignment=2),
        ParagraphStyle("CellHeader", parent=base, fontName="Helvetica-Bold", fontSize=8, leading=9.8,
                       spaceAfter=0),
        ParagraphStyle("CellHeaderRight", parent=base, fontName="Helvetica-Bold", fontSize=8, leading=9.8,
                       spaceAfter=0, alignment=2),
        ParagraphStyle("TOCLevel0", parent=base, fontName="Helvetica-Bold", fontSize=10, leading=14,
                       leftIndent=0, firstLineIndent=0),
        ParagraphStyle("TOCLevel1", parent=base, fontSize=9, leading=12, leftIndent=14, firstLineIndent=0),
    ):
        styles.add(style)
    return styles
