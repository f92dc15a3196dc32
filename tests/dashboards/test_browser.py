"""The dashboard in a real headless browser (Debian chromium + chromium-driver through dash[testing]):
every page renders with data and no console error, a filter changes the gallery and the address bar, a
deep link restores its filters, the back button returns to the previous filters. Screenshots of each page
go to ``$MASKFER_SCREENSHOTS`` (default: the test's tmp folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import flask
import pytest
from dash.testing.wait import until

import interp.results
from dashboards.app import create_app
from tests.dashboards.conftest import dashboard_command, free_port, page

PAGES = {  # path -> text that only shows once the page's data is drawn
    "/": "Accuracy per arm and view",
    "/classes": "Per-class recall",
    "/statistics": "Effects with intervals",
    "/embeddings": "Cluster quality",
    "/attention": "audited images in",
}


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MASKFER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _query(dash_duo) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlparse(dash_duo.driver.current_url).query).items()}


def _gallery(dash_duo) -> list[str]:
    ids = dash_duo.driver.execute_script(  # one read of the DOM: cards may be replaced while we look
        "return Array.from(document.querySelectorAll('.gallery-card'), card => card.id)")
    return [json.loads(card)["index"] for card in ids]


def test_every_page_renders_without_console_errors(dash_duo, app, smoke_study, shots):
    dash_duo.start_server(app, port=free_port())
    image_id = interp.results.load(smoke_study).overlays().iloc[0]["image_id"]
    for path, text in {**PAGES, f"/image/{image_id}": "Region metrics"}.items():
        dash_duo.wait_for_page(url=f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_contains_text("#_pages_content", text, timeout=20)
        dash_duo.wait_for_element(".js-plotly-plot, .ag-root, img", timeout=10)
        assert "Error loading layout" not in dash_duo.driver.page_source
        name = path.strip("/").split("/")[0] or "overview"
        dash_duo.driver.save_screenshot(str(shots / f"{name}.png"))
        assert dash_duo.get_logs() == [], path
    thumbs = dash_duo.find_elements("img.thumb, img.overlay")
    assert thumbs and all(img.get_property("naturalWidth") > 0 for img in thumbs)


def test_filter_changes_gallery_and_back_and_forward_restore(dash_duo, app):
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/attention?overlay=no")
    dash_duo.wait_for_contains_text("#att-count", "audited images")
    before = _gallery(dash_duo)
    dash_duo.find_element("#att-masked label[for$='M']").click()
    dash_duo.wait_for_contains_text("#att-count", "audited images")
    until(lambda: _gallery(dash_duo) != before, timeout=10)
    after = _gallery(dash_duo)
    assert after and all(card.endswith("_m") for card in after)
    assert _query(dash_duo) == {"overlay": "no", "masked": "M"}
    dash_duo.driver.back()
    until(lambda: _query(dash_duo) == {"overlay": "no"}, timeout=10)
    until(lambda: _gallery(dash_duo) == before, timeout=10)
    dash_duo.driver.forward()
    until(lambda: _query(dash_duo) == {"overlay": "no", "masked": "M"}, timeout=10)
    until(lambda: _gallery(dash_duo) == after, timeout=10)
    assert dash_duo.find_element("#att-masked input[value='M']").is_selected()
    assert dash_duo.get_logs() == []


def test_deep_link_restores_filters(dash_duo, app):
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/classes?arm=cl&subset=NM&fold=1&norm=count")
    dash_duo.wait_for_contains_text("#cls-confusion", "cl, NM images, fold 1", timeout=20)
    assert dash_duo.find_element("#cls-subset input[value='NM']").is_selected()
    assert dash_duo.find_element("#cls-norm input[value='count']").is_selected()
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/attention?arm=cl&masked=M&overlay=no")
    dash_duo.wait_for_contains_text("#att-count", "audited images")
    cards = _gallery(dash_duo)
    assert cards and all(card.startswith("cl/") and card.endswith("_m") for card in cards)
    assert dash_duo.get_logs() == []


def test_a_page_load_builds_each_page_once(dash_duo, app, monkeypatch):
    """Dash calls a page's filter callback once more when the page router adds the page (its address-bar output
    lies outside the page); that call must change nothing: no second copy of the figures or tables is sent, and a
    gallery opened on page 2 stays on page 2."""
    answers: list[tuple[str, int]] = []

    @app.server.after_request
    def record(response):
        if flask.request.path.endswith("_dash-update-component"):
            answers.append((flask.request.get_json()["output"], response.status_code))
        return response

    dash_duo.start_server(app, port=free_port())
    for path, text in PAGES.items():
        answers.clear()
        dash_duo.wait_for_page(url=f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_contains_text("#_pages_content", text, timeout=20)
        until(lambda: any("url-state.search" in output for output, _ in answers), timeout=10)
        assert [(output, status) for output, status in answers if "url-state.search" in output and status != 204] == []
    monkeypatch.setattr(page("attention"), "PAIRS_PER_PAGE", 2)  # the smoke study's pairs on several pages
    assert page("attention").options("smoke", {"overlay": "no"})["page"][:2] == ["1", "2"]
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/attention?overlay=no&page=2")
    dash_duo.wait_for_contains_text("#att-count", "audited images")
    until(lambda: any("att-gallery" in output for output, _ in answers), timeout=10)
    assert dash_duo.find_element("#att-page .active").text.startswith("2")
    assert _query(dash_duo) == {"overlay": "no", "page": "2"}
    assert dash_duo.get_logs() == []


def test_several_studies_deep_link_and_links_keep_the_study(dash_duo, smoke_study, unanalysed):
    dash_duo.start_server(create_app([smoke_study, unanalysed]), port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/?run=bare")
    dash_duo.wait_for_text_to_equal("#ov-study", "Study bare", timeout=20)
    dash_duo.wait_for_contains_text("#analysis-status", f"python -m interp.analyze {unanalysed} --only tables")
    until(lambda: "run=bare" in dash_duo.find_element("a[href*='/classes']").get_attribute("href"), timeout=10)
    dash_duo.find_element("a[href*='/classes']").click()
    dash_duo.wait_for_contains_text("#_pages_content", "Not analysed yet", timeout=20)
    assert _query(dash_duo) == {"run": "bare"}
    assert dash_duo.get_logs() == []


def _loaded_images(browser) -> list[tuple[str, int]]:
    return browser.driver.execute_script(
        "return Array.from(document.querySelectorAll('img.thumb, img.overlay'),"
        " img => [img.className + ' ' + img.getAttribute('src'), img.complete ? img.naturalWidth : -1])")


def test_command_with_a_relative_path_from_another_directory_shows_every_image(dash_br, smoke_study, shots):
    """The README's command as a user types it: ``python -m dashboards runs/smoke`` from the folder above
    the runs, not the repository; every thumbnail and overlay loads in the browser (not only answers)."""
    image_id = interp.results.load(smoke_study).overlays().iloc[0]["image_id"]
    relative = smoke_study.relative_to(smoke_study.parent.parent)
    with dashboard_command([str(relative)], cwd=smoke_study.parent.parent) as url:
        for path, kinds in ((f"image/{image_id}", {"thumb", "overlay"}), ("attention?overlay=yes", {"overlay"})):
            dash_br.driver.get(url + path)
            until(lambda: _loaded_images(dash_br) and all(width >= 0 for _, width in _loaded_images(dash_br)),
                  timeout=30)
            loaded = _loaded_images(dash_br)
            assert {name.split()[0] for name, _ in loaded} >= kinds, path
            assert all(width > 0 for _, width in loaded), [name for name, width in loaded if width <= 0]
            dash_br.driver.save_screenshot(str(shots / f"relative-{path.split('/')[0].split('?')[0]}.png"))
        assert dash_br.get_logs() == []
