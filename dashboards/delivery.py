"""How a browser gets the app quickly (measured in docs/dashboard.md, "Speed").

- plotly.js: Dash's renderer fetches ``_dash-component-suites/plotly/package_data/plotly.min.js`` (4.8 MB,
  every trace type); this route answers with plotly.js's cartesian partial bundle of the same version
  (``vendor/plotly-cartesian.min.js``, 1.5 MB: scatter, box, heatmap, bar, ...), which the browser parses in
  about a third of the time.
- Compressed responses (flask-compress: brotli or gzip, as the browser accepts): Dash's scripts,
  stylesheets, pages and callback answers; the compressed bytes of an immutable file (a component script,
  the vendored bundles) are kept in memory, so each is compressed once per process.
- Cache lifetimes: Dash already sends its fingerprinted component scripts with a year's lifetime; the
  Bootstrap stylesheet's URL carries its version and gets the same; plotly's URL is fixed by the renderer,
  so it gets a day and an ETag.
"""

from __future__ import annotations

import threading
from importlib import metadata
from pathlib import Path

import dash
import flask
import flask_bootstrap
from flask_compress import Compress

VENDOR = Path(__file__).parent / "vendor"
PLOTLY_BUNDLE = VENDOR / "plotly-cartesian.min.js"
# Where Dash's renderer loads plotly.js from when it serves its files itself (dash-renderer, serve_locally).
PLOTLY_ROUTE = "_dash-component-suites/plotly/package_data/plotly.min.js"
BOOTSTRAP_DIR = Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5" / "css"
# The wheel's version in the URL: a new wheel is a new URL, so browsers may keep the file a year.
BOOTSTRAP_URL = f"vendor/bootstrap-flask-{metadata.version('bootstrap-flask')}.min.css"
YEAR = 365 * 24 * 3600
DAY = 24 * 3600
IMMUTABLE = ("/_dash-component-suites/", "/vendor/")


def plotly_js_version() -> str:
    """The plotly.js version of the vendored cartesian bundle (from its header comment)."""
    head = PLOTLY_BUNDLE.read_text(encoding="utf-8", errors="replace")[:200]
    return head.split(" v", 1)[1].split()[0] if " v" in head else "unknown"


class AssetCache:
    """flask-compress's cache: compressed bytes of immutable files only (keys of other responses are
    empty and never stored, so a page or callback answer is always compressed afresh)."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._store.get(key)

    def set(self, key: str, value: bytes) -> None:
        if key.endswith(";"):  # not an immutable file
            return
        with self._lock:
            self._store[key] = value


def _cache_key(request: flask.Request) -> str:
    return request.path if any(part in request.path for part in IMMUTABLE) else ""


def stylesheet_url(prefix: str) -> str:
    """The versioned Bootstrap stylesheet's URL under the app's path prefix."""
    return prefix + BOOTSTRAP_URL


def install(app: dash.Dash) -> None:
    """Serve ``app`` compressed, with the cartesian plotly.js bundle and a versioned stylesheet."""
    server = app.server
    routes = app.config.routes_pathname_prefix
    server.config.update(COMPRESS_ALGORITHM=["br", "gzip"], COMPRESS_CACHE_BACKEND=AssetCache,
                         COMPRESS_CACHE_KEY=_cache_key, COMPRESS_MIN_SIZE=1024)
    Compress(server)
    server.add_url_rule(f"{routes}{BOOTSTRAP_URL}", "bootstrap", lambda: flask.send_from_directory(
        BOOTSTRAP_DIR, "bootstrap.min.css", mimetype="text/css", max_age=YEAR))
    server.add_url_rule(f"{routes}{PLOTLY_ROUTE}", "plotly_cartesian", lambda: flask.send_from_directory(
        VENDOR, PLOTLY_BUNDLE.name, mimetype="text/javascript", max_age=DAY, etag=True))

