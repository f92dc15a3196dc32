"""Building blocks of the report: headings, text, numbered tables and figures with captions.

Text arguments are reportlab paragraph markup (``<b>``, ``<i>``, ``<font>``); plain values coming from
data (model names, p-values such as ``<0.001``) go through :func:`text` or are table cells, which are
escaped here. Tables are numbered ``Table n.`` with their caption above; figures ``Figure n.`` with
the caption below, kept on one page with what they describe (``<seq>`` numbering, right across the
build's passes).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
from matplotlib.figure import Figure
from PIL import Image as PILImage
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.platypus import Flowable, Image, KeepTogether, PageBreak, Paragraph, Spacer, Table, TableStyle
from svglib.svglib import svg2rlg

from reports.styles import FRAME_HEIGHT, FRAME_WIDTH, HEADER_FILL, RULE, STRIPE_FILL, stylesheet

RASTER_DPI = 200
# Tables longer than this may break across pages (header row repeated) instead of moving whole.
KEEP_ROWS = 28
PLOT_STYLE: dict[str, object] = {
    "font.size": 7.5, "axes.titlesize": 8, "axes.labelsize": 7.5, "xtick.labelsize": 7, "ytick.labelsize": 7,
    "legend.fontsize": 7, "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "maskfer",
    "font.family": "DejaVu Sans",
}

Cell = str | Flowable


def text(value: object) -> str:
    """``value`` as escaped paragraph text."""
    return escape(str(value))


def heading(title: str, level: int = 1) -> Paragraph:
    """A section (level 1) or subsection (level 2) heading; it enters the outline and the contents."""
    return Paragraph(title, stylesheet()[f"Heading{level}"])


def paragraph(markup: str, style: str = "Body") -> Paragraph:
    """A paragraph of body text (or another style of :func:`reports.styles.stylesheet`)."""
    return Paragraph(markup, stylesheet()[style])


def note(markup: str) -> Paragraph:
    """A small grey remark (what is missing, how to compute it)."""
    return Paragraph(markup, stylesheet()["Note"])


def spacer(height: float = 6) -> Spacer:
    """Vertical space in points."""
    return Spacer(1, height)


def page_break() -> PageBreak:
    """Start a new page."""
    return PageBreak()


def swatch(colour: str, label: str) -> str:
    """Markup: ``label`` preceded by a small square in ``colour`` (the arm's or class's colour)."""
    return f'<font name="ZapfDingbats" color="{colour}">n</font> {text(label)}'


def caption(kind: str, markup: str) -> Paragraph:
    """``Table n.`` or ``Figure n.`` (``kind`` "table" or "figure") followed by ``markup``."""
    label = {"table": "Table", "figure": "Figure"}[kind]
    return Paragraph(f"<b>{label} <seq id='{kind}'/>.</b> {markup}", stylesheet()["Caption"])


def table(header: Sequence[str], rows: Sequence[Sequence[Cell]], caption_markup: str, *,
          widths: Sequence[float] | None = None, numeric: Sequence[int] = (), markup_columns: Sequence[int] = (),
          spans: Sequence[tuple[tuple[int, int], tuple[int, int]]] = ()) -> list[Flowable]:
    """A numbered table with its caption above (one block, or a table that breaks across pages with
    its header repeated when longer than :data:`KEEP_ROWS` rows); add it to a story with ``extend``.

    Parameters
    ----------
    header
        Column titles (plain text).
    rows
        Cells: plain text (escaped, wrapped) or flowables.
    caption_markup
        What the table shows and how to read it (markup).
    widths
        Column widths in points (default: equal shares of the frame).
    numeric
        Column indices to right-align.
    markup_columns
        Column indices whose text is markup (e.g. :func:`swatch`), not escaped.
    spans
        ``((col0, row0), (col1, row1))`` cells to merge (reportlab SPAN, header is row 0).
    """
    styles = stylesheet()

    def cell(value: Cell, column: int) -> Flowable:
        if not isinstance(value, str):
            return value
        markup = value if column in markup_columns else text(value)
        return Paragraph(markup, styles["CellRight" if column in numeric else "Cell"])

    data = [[Paragraph(text(title), styles["CellHeaderRight" if column in numeric else "CellHeader"])
             for column, title in enumerate(header)]]
    data += [[cell(value, column) for column, value in enumerate(row)] for row in rows]
    widths = list(widths) if widths else [FRAME_WIDTH / len(header)] * len(header)
    grid = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEABOVE", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("LINEBELOW", (0, -1), (-1, -1), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [("BACKGROUND", (0, row), (-1, row), STRIPE_FILL) for row in range(2, len(data), 2)]
    commands += [("SPAN", *span) for span in spans]
    if len(data) > 2:
        commands.append(("LINEBELOW", (0, 1), (-1, -2), 0.25, RULE))
    grid.setStyle(TableStyle(commands))
    head = caption("table", caption_markup)
    if len(rows) <= KEEP_ROWS:
        return [KeepTogether([head, grid, spacer(8)])]
    head.keepWithNext = True
    return [head, grid, spacer(8)]


def figure(body: Flowable | Sequence[Flowable], caption_markup: str) -> KeepTogether:
    """A numbered figure: ``body`` with its caption below, kept on one page."""
    parts = list(body) if isinstance(body, Sequence) else [body]
    return KeepTogether([*parts, caption("figure", caption_markup)])


@contextmanager
def plot_style() -> Iterator[None]:
    """matplotlib settings of report figures (small fonts, no top/right spines, stable SVG ids);
    create the figure inside this context."""
    with matplotlib.rc_context(PLOT_STYLE):
        yield


def vector(fig: Figure, width: float = FRAME_WIDTH, max_height: float = 0.8 * FRAME_HEIGHT) -> Drawing:
    """A matplotlib figure as a reportlab vector drawing (via SVG and svglib) scaled to ``width`` points
    (less when it would be taller than ``max_height``)."""
    buffer = io.BytesIO()
    with plot_style():
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    buffer.seek(0)
    drawing = svg2rlg(buffer)
    scale = min(width / drawing.width, max_height / drawing.height)
    drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
    drawing.scale(scale, scale)
    drawing.hAlign = "CENTER"
    return drawing


def raster(fig: Figure, width: float = FRAME_WIDTH, dpi: int = RASTER_DPI,
           max_height: float = 0.8 * FRAME_HEIGHT) -> Image:
    """A matplotlib figure as an embedded PNG (``dpi``), for heat maps and image galleries, ``width`` points
    wide (less when it would be taller than ``max_height``)."""
    buffer = io.BytesIO()
    with plot_style():
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    buffer.seek(0)
    return _scaled(Image(buffer), width, max_height)


def image_file(path: Path, width: float = FRAME_WIDTH, max_height: float | None = None) -> Image:
    """A PNG/JPEG file embedded at ``width`` points (keeping its aspect, at most ``max_height`` tall).

    A file finer than :data:`RASTER_DPI` at that size (a gallery such as the figure-6 grid) is
    downsampled to it and embedded as a quality-90 JPEG: a smoke study's figure-6 grid takes a third of its
    PNG size, and reportlab embeds a JPEG without re-encoding it.
    """
    with PILImage.open(path) as source:
        ratio = source.height / source.width
        shown = min(width, max_height / ratio) if max_height else width
        pixels = round(shown / 72 * RASTER_DPI)
        if source.width <= pixels:
            return _scaled(Image(str(path)), width, max_height)
        buffer = io.BytesIO()
        source.convert("RGB").resize((pixels, max(round(pixels * ratio), 1)), PILImage.Resampling.LANCZOS).save(
            buffer, format="JPEG", quality=90)
    buffer.seek(0)
    return _scaled(Image(buffer), width, max_height)


def _scaled(image: Image, width: float, max_height: float | None = None) -> Image:
    ratio = image.imageHeight / image.imageWidth
    height = width * ratio
    if max_height is not None and height > max_height:
        width, height = max_height / ratio, max_height
    image.drawWidth, image.drawHeight = width, height
    image.hAlign = "CENTER"
    return image
