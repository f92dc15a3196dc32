"""What a report section is: a title, the analysis steps it reads, and the flowables it lays out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from reportlab.platypus import CondPageBreak, Flowable

from interp.results import Results, ResultMissing
from reports.flowables import heading, note, text
from reports.styles import FRAME_HEIGHT

MIN_SPACE = 0.3 * FRAME_HEIGHT


@dataclass
class Context:
    """What every section reads: the study's :class:`~interp.results.Results` and the arm colours
    shared with the dashboard (:mod:`interp.palette`).

    Attributes
    ----------
    results
        The study.
    colours
        Arm -> hex colour.
    notes
        Remarks sections leave for the limitations section (e.g. a table that could not be shown).
    """

    results: Results
    colours: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, results: Results) -> Context:
        """The context of a study, with its arms' colours."""
        return cls(results=results, colours=results.arm_colours)

    @property
    def arms(self) -> list[str]:
        """The study's arms with results, in study order."""
        return self.results.arms

    def optional(self, part: Callable[[], list[Flowable]], what: str) -> list[Flowable]:
        """``part()``, or a note naming the command that computes ``what`` when its table is missing."""
        try:
            return part()
        except ResultMissing as exc:
            message = str(exc)
            command = message[message.find("run `"):] if "run `" in message else message
            self.notes.append(f"{what} not shown: {command}")
            return [note(f"<i>{text(what)} not available</i> ({text(command)}).")]


class Section(ABC):
    """One section of the report.

    Attributes
    ----------
    name
        The ``--sections`` key (the module's name).
    title
        The heading printed in the PDF, in the outline and in the table of contents.
    order
        Position in the report (lower first).
    steps
        The ``interp.analyze`` steps whose outputs the section reads (computed first unless
        ``--no-compute``).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    order: ClassVar[int]
    steps: ClassVar[tuple[str, ...]] = ()

    def build(self, context: Context, number: int) -> list[Flowable]:
        """The section's heading (``number`` and title) followed by its :meth:`content`; a section starts
        on a new page when less than :data:`MIN_SPACE` of the page is left."""
        return [CondPageBreak(MIN_SPACE), heading(f"{number} {self.title}"), *self.content(context)]

    @abstractmethod
    def content(self, context: Context) -> list[Flowable]:
        """The section's paragraphs, tables and figures."""
