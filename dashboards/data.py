"""The studies a dashboard shows: each run directory opened once through :mod:`interp.results`.

Pages ask :func:`get` for a study by its name in the URL (``?run=NAME``); tables are read once per
process and cached by :class:`interp.results.Results`. Nothing here computes a result.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import interp.results
from dashboards import urlstate
from dashboards.figures import empty
from interp import layout
from interp.results import Results
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

STUDY_FILE = "study.json"
# Every analysis step that writes a table, from the analysis/ contract (asking interp.steps for its
# registry would import torch and captum, seconds at start-up).
STEPS: list[str] = list(dict.fromkeys(spec.step for spec in layout.TABLES.values()))


@dataclass
class Studies:
    """Opened studies by unique name, in the order given on the command line."""

    by_name: dict[str, Results]

    @property
    def names(self) -> list[str]:
        """Study names, first one is the default."""
        return list(self.by_name)

    def get(self, name: str | None) -> Results:
        """The study called ``name``, or the first one when ``name`` is unknown or empty."""
        return self.by_name.get(name or "", next(iter(self.by_name.values())))

    def default(self, name: str | None) -> str:
        """``name`` when it is an opened study, else the first study's name."""
        return name if name in self.by_name else self.names[0]


def absolute(path: Path) -> Path:
    """``path`` made absolute against the working directory, ``..`` removed, symbolic links kept (a link's
    name stays the study's name)."""
    return Path(os.path.abspath(path))


def find_runs(paths: Iterable[str | Path]) -> list[Path]:
    """Absolute run directories named by ``paths``: each is a run (it has ``study.json``) or a folder of runs.
    Paths are resolved here, once, so files are found whatever the server's working directory and however
    Flask resolves a relative folder (``send_from_directory`` takes it relative to the app's package).

    Raises
    ------
    DataError
        When a path does not exist, or is neither a run nor a folder holding runs.
    """
    runs: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise DataError(f"{path}: no such run directory; pass a run (runs/NAME) or a folder of runs")
        if (path / STUDY_FILE).is_file():
            runs.append(absolute(path))
            continue
        inside = sorted(absolute(child) for child in path.iterdir() if (child / STUDY_FILE).is_file())
        if not inside:
            raise DataError(f"{path}: neither a run directory (no {STUDY_FILE}) nor a folder of runs; "
                            "train one with `python -m trainers run --out RUN`")
        runs.extend(inside)
    if not runs:
        raise DataError("no run directory given; usage: python -m dashboards RUN [RUN2 ...|FOLDER]")
    return runs


def open_studies(runs: Iterable[str | Path]) -> Studies:
    """Open every run of ``runs`` (runs or folders of runs); names are the folder names, made unique."""
    by_name: dict[str, Results] = {}
    for path in find_runs(runs):
        results = interp.results.load(path)
        name, n = path.name, 2
        while name in by_name:
            name, n = f"{path.name}-{n}", n + 1
        by_name[name] = results
        missing = results.missing_steps(STEPS)
        if missing:
            log.warning("%s: analysis steps missing: %s; run `python -m interp.analyze %s`",
                        path, ", ".join(missing), path)
    return Studies(by_name)


def read(getter: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame | None, str | None]:
    """``(table, None)``, or ``(None, message)`` when the table is missing; the message names the command."""
    try:
        return getter(), None
    except DataError as exc:  # ResultMissing names the interp.analyze command; a damaged file says to rerun it
        return None, str(exc)


def figure(run: str | None, table: str, build: Callable[..., object], *args: object):
    """``build(table, arm colours, *args)`` for one study, where ``table`` names the :class:`Results` method that
    reads it, or an empty figure naming the command that writes the missing table.

    A built figure is kept for the life of the process (the study's tables are read once and cached, so the
    same arguments give the same figure): building one through plotly's validators takes tens of milliseconds,
    on the path of every page load."""
    name = studies().default(run)
    results = get(name)
    frame, note = read(getattr(results, table))
    return empty(note) if frame is None else _built(name, table, build, args)


@functools.lru_cache(maxsize=512)
def _built(run: str, table: str, build: Callable[..., object], args: tuple):
    results = get(run)
    return build(getattr(results, table)(), results.arm_colours, *args)


STUDIES: Studies | None = None


def install(studies: Studies) -> None:
    """Make ``studies`` the ones the pages show (one app per process, as Dash Pages has one registry)."""
    global STUDIES
    STUDIES = studies
    _built.cache_clear()


def studies() -> Studies:
    """The installed studies (:func:`install`)."""
    if STUDIES is None:
        raise RuntimeError("no studies installed; build the app with dashboards.app.create_app(runs)")
    return STUDIES


def get(name: str | None) -> Results:
    """The study called ``name`` (the first one when unknown)."""
    return studies().get(name)


def page_state(query: dict, options: Callable[[str], urlstate.Options]) -> tuple[urlstate.Options, dict[str, str]]:
    """A page's allowed filter values and its state for a URL query: ``options`` of the study the query names
    (``?run=``; the first study when it names none or an unknown one), then each filter from the query."""
    allowed = options(studies().default(query.get("run")))
    return allowed, urlstate.query_to_state(query, allowed)
