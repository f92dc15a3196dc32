"""Face thumbnails and attention overlays, served only from files that ``analysis/index.json`` lists.

Routes (under the app's path prefix)::

    /img/<run>/thumb/<image_id>.png                   the thumbnails step's face image
    /img/<run>/overlay/<method>/<arm>/<image_id>.png  the attention audit's overlay tile
    /img/<run>/figure6/<method>.png                   the audit's figure-6 grid (rows = arms), to download

A URL never becomes a path: the (run, kind, ids) are looked up in :mod:`interp.results` (whose
``files()`` is the allow-list) and anything else is a 404. ``send_from_directory`` re-checks that the
file lies inside ``analysis/``.
"""

from __future__ import annotations

from pathlib import Path

import dash
import flask
from dash import html

from dashboards import data
from interp.results import Results, ResultMissing

PREFIX = "/img"


def thumbnail_url(run: str, image_id: str) -> str:
    """URL of an image's thumbnail (relative to the app's path prefix)."""
    return dash.get_relative_path(f"{PREFIX}/{run}/thumb/{image_id}.png")


def overlay_url(run: str, method: str, arm: str, image_id: str) -> str:
    """URL of an overlay tile of ``arm`` on ``image_id``."""
    return dash.get_relative_path(f"{PREFIX}/{run}/overlay/{method}/{arm}/{image_id}.png")


def figure6_url(run: str, method: str) -> str:
    """URL of the audit's figure-6 grid (the PNG ``interp.analyze`` wrote, labelled rows and columns)."""
    return dash.get_relative_path(f"{PREFIX}/{run}/figure6/{method}.png")


_OVERLAYS: dict[tuple[str, str], dict[tuple[str, str], Path]] = {}


def _overlays(results: Results, method: str) -> dict[tuple[str, str], Path]:
    """(arm, image_id) -> tile of one audit, listed once per process."""
    key = (str(results.run), method)
    if key not in _OVERLAYS:
        tiles = {}
        if method in results.attention_methods():
            table = results.overlays(method)
            tiles = {(model, image_id): Path(path) for model, image_id, path in table.itertuples(index=False)}
        _OVERLAYS[key] = tiles
    return _OVERLAYS[key]


def overlay_file(results: Results, method: str, arm: str, image_id: str) -> Path | None:
    """The overlay tile of (method, arm, image) when the audit wrote one, else ``None``."""
    try:
        return _overlays(results, method).get((arm, image_id))
    except ResultMissing:
        return None


def has_overlay(results: Results, method: str, arm: str, image_id: str) -> bool:
    """Whether an overlay tile exists for (method, arm, image)."""
    return overlay_file(results, method, arm, image_id) is not None


def _send(results: Results, path: Path | None) -> flask.Response:
    if path is None or not path.is_file() or path.relative_to(results.analysis).as_posix() not in results.files():
        flask.abort(404)
    return flask.send_from_directory(results.analysis, path.relative_to(results.analysis).as_posix(),
                                     mimetype="image/png", max_age=3600)


def register(server: flask.Flask) -> None:
    """Add the two image routes to the Flask server of the app."""

    def study(run: str) -> Results:
        by_name = data.studies().by_name
        if run not in by_name:
            flask.abort(404)
        return by_name[run]

    @server.route(f"{PREFIX}/<run>/thumb/<image_id>.png")
    def thumbnail(run: str, image_id: str) -> flask.Response:
        results = study(run)
        return _send(results, results.thumbnail(image_id))

    @server.route(f"{PREFIX}/<run>/overlay/<method>/<arm>/<image_id>.png")
    def overlay(run: str, method: str, arm: str, image_id: str) -> flask.Response:
        return _send(study(run), overlay_file(study(run), method, arm, image_id))

    @server.route(f"{PREFIX}/<run>/figure6/<method>.png")
    def figure6(run: str, method: str) -> flask.Response:
        results = study(run)
        if method not in results.attention_methods():
            flask.abort(404)
        try:
            return _send(results, results.figure6(method))
        except ResultMissing:
            flask.abort(404)


def face(results: Results, run: str, image_id: str, size: int = 96, overlay: tuple[str, str] | None = None):
    """An ``<img>`` of an image's overlay tile (``overlay=(method, arm)``) or thumbnail, or a grey placeholder
    box naming what is missing - never a broken image."""
    style = {"width": f"{size}px", "height": f"{size}px", "objectFit": "contain"}
    if overlay and has_overlay(results, overlay[0], overlay[1], image_id):
        return html.Img(src=overlay_url(run, overlay[0], overlay[1], image_id), alt=image_id, style=style,
                        className="overlay")
    if results.thumbnail(image_id) is not None:
        return html.Img(src=thumbnail_url(run, image_id), alt=image_id, style=style, className="thumb")
    return html.Div("no image", className="placeholder text-muted small d-flex align-items-center "
                    "justify-content-center", style={**style, "background": "#eee"})
