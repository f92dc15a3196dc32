"""reports: page template, numbered captions, contents, outline, metadata and reproducible bytes."""

from __future__ import annotations

import re

from matplotlib.figure import Figure
from pypdf import PdfReader

from reports.document import Metadata, contents, restart_numbering, write_pdf
from reports.flowables import figure, heading, page_break, paragraph, plot_style, raster, table, vector

META = Metadata(title="T report", author="maskfer interp.report", subject="study x", footer="x - footer")


def _plot() -> Figure:
    with plot_style():
        fig = Figure(figsize=(4, 2))
        fig.add_subplot(1, 1, 1).plot([0, 1, 2], [1, 0, 1])
    return fig


def _story() -> list:
    restart_numbering()
    return [
        paragraph("Title page"), contents(), page_break(),
        heading("1 First"), paragraph("Text with <b>markup</b>."),
        *table(["arm", "value"], [["a<b", "1.00"], ["c", "2.00"]], "A small table.", numeric=(1,)),
        figure(vector(_plot()), "A vector plot."),
        heading("1.1 Sub", level=2), page_break(),
        heading("2 Second"),
        *table(["row"], [[str(i)] for i in range(60)], "A long table that breaks across pages."),
        figure(raster(_plot()), "A raster plot."),
    ]


def test_contents_captions_outline_metadata(tmp_path):
    path = write_pdf(_story(), tmp_path / "out" / "r.pdf", META)
    reader = PdfReader(path)
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)
    assert reader.metadata.title == "T report" and reader.metadata.author == "maskfer interp.report"
    assert reader.metadata.subject == "study x"
    assert [item.title for item in reader.outline if not isinstance(item, list)] == ["1 First", "2 Second"]
    assert [item.title for item in reader.outline[1]] == ["1.1 Sub"]
    # The contents on page 1 give each heading's page (two passes of multiBuild), as does the outline.
    expected = [next(i for i, page in enumerate(pages) if i and marker in page) + 1
                for marker in ("1 First", "1.1 Sub", "2 Second")]
    assert [int(n) for n in re.findall(r"(?m)^[\s.]+(\d+)\s*$", pages[0])] == expected
    items = [reader.outline[0], reader.outline[1][0], reader.outline[2]]
    assert [reader.get_destination_page_number(item) + 1 for item in items] == expected
    for caption in ("Table 1. A small table.", "Table 2. A long table", "Figure 1. A vector plot.",
                    "Figure 2. A raster plot."):
        assert caption in " ".join(text.split())
    assert "a<b" in text  # cells are escaped, not parsed as markup
    total = len(reader.pages)
    assert total >= 4 and f"Page {total} of {total}" in pages[-1] and "x - footer" in pages[-1]
    assert "Page 1 of" not in pages[0]  # no footer on the title page
    assert sum(len(page.images) for page in reader.pages) == 1  # the raster plot; the vector plot is drawn


def test_same_story_same_bytes_and_atomic(tmp_path):
    first = write_pdf(_story(), tmp_path / "a.pdf", META).read_bytes()
    assert write_pdf(_story(), tmp_path / "b.pdf", META).read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf", "b.pdf"]  # no temporary file left
