"""Registry of report sections: one module per section, named after it, each registering a
:class:`~interp.report.sections.base.Section` with :func:`register`; the report lays them out in
``order``. Adding a section is one new file here."""

from __future__ import annotations

from collections.abc import Iterable

from interp.report.sections.base import Context, Section
from trainers.common.errors import DataError
from trainers.common.registry import Registry

SECTIONS: Registry[Section] = Registry("report section", package=__name__, skip=("base",))


def register(section: type[Section]) -> type[Section]:
    """Class decorator adding an instance of ``section`` to the registry under ``section.name``."""
    SECTIONS.add(section.name, section(), origin=section)
    return section


def available() -> list[str]:
    """Section names in report order."""
    SECTIONS.load()
    return [name for name, _ in sorted(SECTIONS.items(), key=lambda item: item[1].order)]


def sections(names: Iterable[str] | None = None) -> list[Section]:
    """The sections ``names`` (default: all) in report order.

    Raises
    ------
    DataError
        For a name that is not a section, naming the choices.
    """
    everything = available()
    wanted = list(everything if names is None else names)
    unknown = [name for name in wanted if name not in everything]
    if unknown:
        raise DataError(f"--sections: unknown section(s) {', '.join(unknown)}; choose from {', '.join(everything)}")
    return [SECTIONS[name] for name in everything if name in wanted]


__all__ = ["SECTIONS", "Context", "Section", "available", "register", "sections"]
