"""The report's page template: A4 frame, footer with "Page X of Y", bookmarks, outline and table of contents.

Headings (``Heading1``/``Heading2`` paragraphs, see :mod:`reports.styles`) become PDF bookmarks,
outline entries and table-of-contents lines as they are laid out; :func:`write_pdf` builds the story in
as many passes as the table of contents and the page count need, with ``invariant=1`` so the same story
gives the same bytes, and replaces the target only when the PDF is complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.sequencer import Sequencer, setSequencer
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph
from reportlab.platypus.doctemplate import IndexingFlowable
from reportlab.platypus.tableofcontents import TableOfContents

from reports.styles import FRAME_HEIGHT, FRAME_WIDTH, HEADING_LEVELS, MARGIN, MUTED, PAGE_SIZE, stylesheet
from trainers.common.atomic import atomic_path


@dataclass(frozen=True)
class Metadata:
    """PDF document information: ``title``, ``author`` (the tool), ``subject`` (the study) and the
    ``footer`` text printed left of the page number on every page but the first."""

    title: str
    author: str
    subject: str
    footer: str


class PageCount(IndexingFlowable):
    """Invisible flowable at the end of the story that counts the pages of each pass; ``multiBuild``
    runs another pass until the count the footers printed ("Page X of Y") equals the real one."""

    def __init__(self) -> None:
        super().__init__()
        self.total: int | None = None  # the count of the previous pass: what the footers print
        self._counted: int | None = None
        self._satisfied = False

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self._counted = self.canv.getPageNumber()

    def afterBuild(self) -> None:  # noqa: N802 (reportlab's name)
        self._satisfied = self._counted == self.total
        self.total = self._counted

    def isSatisfied(self) -> bool:  # noqa: N802 (reportlab's name)
        return self._satisfied


class ReportDocument(BaseDocTemplate):
    """One-frame A4 document whose headings feed the outline and a :class:`TableOfContents`."""

    def __init__(self, filename: str, metadata: Metadata) -> None:
        super().__init__(filename, pagesize=PAGE_SIZE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                         bottomMargin=MARGIN, title=metadata.title, author=metadata.author,
                         subject=metadata.subject, creator=metadata.author, invariant=1)
        frame = Frame(MARGIN, PAGE_SIZE[1] - MARGIN - FRAME_HEIGHT, FRAME_WIDTH, FRAME_HEIGHT, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._footer)])
        self.footer = metadata.footer
        self.page_count = PageCount()
        self._headings = 0

    def _footer(self, canvas: Canvas, document: BaseDocTemplate) -> None:
        """``<footer>   Page X of Y`` at the foot of every page but the first (the title page)."""
        number = canvas.getPageNumber()
        if number == 1:
            return
        total = f" of {self.page_count.total}" if self.page_count.total else ""
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN * 0.6, self.footer)
        canvas.drawRightString(PAGE_SIZE[0] - MARGIN, MARGIN * 0.6, f"Page {number}{total}")
        canvas.restoreState()

    def beforeDocument(self) -> None:  # noqa: N802 (reportlab's name)
        self._headings = 0  # bookmark keys restart on every pass, so they match between passes

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 (reportlab's name)
        if not isinstance(flowable, Paragraph) or flowable.style.name not in HEADING_LEVELS:
            return
        level, text = HEADING_LEVELS[flowable.style.name], flowable.getPlainText()
        self._headings += 1
        key = f"heading-{self._headings}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
        self.notify("TOCEntry", (level, text, self.page, key))


def restart_numbering() -> None:
    """Number the next ``Table n.``/``Figure n.`` captions from 1 again.

    reportlab numbers a ``<seq>`` tag when the paragraph is created, from one counter per process; call
    this before creating a document's flowables (in reading order), or a second report built in the
    same process would continue the first one's numbers.
    """
    setSequencer(Sequencer())


def contents() -> TableOfContents:
    """The table of contents flowable (filled from the headings during the build)."""
    styles = stylesheet()
    toc = TableOfContents(dotsMinLevel=0)
    toc.levelStyles = [styles["TOCLevel0"], styles["TOCLevel1"]]
    return toc


def write_pdf(story: Sequence[Flowable], target: str | Path, metadata: Metadata) -> Path:
    """Lay out ``story`` into ``target`` (atomically: a failed build leaves ``target`` as it was)."""
    target = Path(target)
    with atomic_path(target) as tmp:
        document = ReportDocument(str(tmp), metadata)
        document.multiBuild([*story, document.page_count])
    return target
