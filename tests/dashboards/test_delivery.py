"""How the app reaches the browser: plotly.js's cartesian bundle where Dash fetches plotly.js, compressed
responses (immutable files compressed once), year-long lifetimes for versioned files."""

from __future__ import annotations

import gzip

import brotli
from plotly.offline import get_plotlyjs_version

from dashboards import delivery


def test_the_vendored_bundle_is_the_installed_plotly_js_version():
    assert delivery.plotly_js_version() == get_plotlyjs_version()  # after a plotly upgrade: refresh vendor/


def test_plotly_route_serves_the_cartesian_bundle_compressed_and_cached(app):
    client = app.server.test_client()
    plain = client.get(f"/{delivery.PLOTLY_ROUTE}")
    assert plain.status_code == 200 and plain.data == delivery.PLOTLY_BUNDLE.read_bytes()
    assert b"plotly.js (cartesian" in plain.data[:200] and plain.headers["Cache-Control"] == "public, max-age=86400"
    packed = client.get(f"/{delivery.PLOTLY_ROUTE}", headers={"Accept-Encoding": "br, gzip"})
    assert packed.headers["Content-Encoding"] == "br" and len(packed.data) < len(plain.data) / 3
    assert brotli.decompress(packed.data) == plain.data
    again = client.get(f"/{delivery.PLOTLY_ROUTE}", headers={"Accept-Encoding": "br"})
    assert again.data == packed.data
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip" and b"_dash-renderer" in gzip.decompress(page.data)


def test_versioned_files_are_kept_a_year(app):
    client = app.server.test_client()
    index = client.get("/").get_data(as_text=True)
    scripts = [part.split('"')[0] for part in index.split('src="')[1:] if "_dash-component-suites" in part]
    assert scripts and all("max-age=31536000" in client.get(src).headers["Cache-Control"] for src in scripts)
    assert "max-age=31536000" in client.get(f"/{delivery.BOOTSTRAP_URL}").headers["Cache-Control"]


def test_only_immutable_files_are_cached_compressed():
    cache = delivery.AssetCache()
    cache.set("br;", b"a page")
    cache.set("br;/_dash-component-suites/dash/x.js", b"script")
    assert cache.get("br;") is None and cache.get("br;/_dash-component-suites/dash/x.js") == b"script"
