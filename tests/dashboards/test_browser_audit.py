"""The dashboard in a real headless browser over a study written by ``interp.audit`` (one audited arm, fold
'all'): every page renders with no console error, the Overview shows the mask-sensitivity row of the arm and
the Classes page its per-class rows and chart."""

from __future__ import annotations

import pytest

import interp.results
from interp.sensitivity_views import sensitivity_cells
from dashboards.app import create_app
from tests.audit_fixture import audit_data, audited_study, unlabelled_study  # noqa: F401  (session fixtures)
from tests.dashboards.conftest import free_port

PAGES = {"/": "Mask sensitivity", "/classes": "Per-class recall", "/embeddings": "Cluster quality",
         "/attention": "audited images in"}


def _open_every_page(dash_duo, study) -> None:
    """Serve ``study`` and open each page of :data:`PAGES`: its text shows, no layout error, no browser log."""
    dash_duo.start_server(create_app([study]), port=free_port())
    for path, text in PAGES.items():
        dash_duo.wait_for_page(url=f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_contains_text("#_pages_content", text, timeout=30)
        assert "Error loading layout" not in dash_duo.driver.page_source
        assert dash_duo.get_logs() == [], path


@pytest.mark.slow
def test_audited_study_opens_on_every_page_with_its_mask_sensitivity(dash_duo, audited_study):  # noqa: F811
    _open_every_page(dash_duo, audited_study)
    cells = sensitivity_cells(interp.results.load(audited_study).mask_sensitivity()).set_index("class")
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/")
    dash_duo.wait_for_contains_text("#ov-sensitivity", cells.loc["all", "flip rate [95% CI]"], timeout=30)
    assert len(dash_duo.find_elements("#ov-sensitivity tbody tr")) == 1  # the arm over all classes
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/classes")
    dash_duo.wait_for_element("#cls-sensitivity-classes .js-plotly-plot", timeout=30)
    one_class = cells.drop(index="all").iloc[0]
    dash_duo.wait_for_contains_text("#cls-sensitivity", one_class["flip rate [95% CI]"], timeout=30)


@pytest.mark.slow
def test_unlabelled_audit_opens_on_every_page(dash_duo, unlabelled_study):  # noqa: F811
    _open_every_page(dash_duo, unlabelled_study)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/")
    dash_duo.wait_for_contains_text("#ov-sensitivity", "no labels", timeout=30)
