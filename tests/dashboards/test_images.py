"""Images are served only from files analysis/index.json lists: traversal and unknown ids are 404."""

from __future__ import annotations

import pytest

import interp.results
from dashboards import delivery

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def client(app):
    return app.server.test_client()


def test_listed_thumbnail_and_overlay_are_served(client, smoke_study):
    results = interp.results.load(smoke_study)
    overlay = results.overlays().iloc[0]
    image_id = overlay["image_id"]
    response = client.get(f"/img/smoke/thumb/{image_id}.png")
    assert response.status_code == 200 and response.content_type == "image/png"
    assert response.data.startswith(PNG) and response.data == results.thumbnail(image_id).read_bytes()
    response = client.get(f"/img/smoke/overlay/gradcam/{overlay['model']}/{image_id}.png")
    assert response.status_code == 200 and response.data == overlay["path"].read_bytes()


@pytest.mark.parametrize("path", [
    "/img/smoke/thumb/nope.png",
    "/img/other/thumb/x.png",
    "/img/smoke/thumb/../../study.json",
    "/img/smoke/thumb/..%2f..%2fstudy.json",
    "/img/smoke/thumb/%2e%2e%2f%2e%2e%2fstudy.png",
    "/img/smoke/thumb/%252e%252e%252fstudy.png",
    "/img/smoke/thumb//etc/passwd",
    "/img/smoke/thumb/%2fetc%2fpasswd.png",
    "/img/smoke/overlay/gradcam/cl/..%2f..%2f..%2f..%2findex.png",
    "/img/smoke/overlay/..%2f..%2f/cl/x.png",
    "/img/smoke/overlay/gradcam/../../tables/accuracy.png",
    "/img/smoke/overlay/nomethod/cl/x.png",
])
def test_anything_else_is_refused(client, path):
    response = client.get(path)
    # Dash's catch-all page route may answer 200 with its HTML page; never with a file of the study.
    assert response.status_code == 404 or (response.content_type.startswith("text/html")
                                           and b"<!DOCTYPE html>" in response.data[:200])
    assert not response.data.startswith(PNG) and b'"study"' not in response.data and b"root:" not in response.data


def test_bootstrap_is_served_locally(client):
    response = client.get(f"/{delivery.BOOTSTRAP_URL}")
    assert response.status_code == 200 and response.content_type.startswith("text/css")
    assert b"Bootstrap" in response.data[:300]


def test_behind_a_proxy_path(smoke_study):
    from dashboards import images
    from dashboards.app import create_app

    app = create_app([smoke_study], requests_pathname_prefix="/maskfer/")
    client = app.server.test_client()
    page = client.get("/").data.decode()
    assert f"/maskfer/{delivery.BOOTSTRAP_URL}" in page
    with app.server.test_request_context("/"):
        assert images.thumbnail_url("smoke", "x") == "/maskfer/img/smoke/thumb/x.png"
    assert client.get(f"/{delivery.BOOTSTRAP_URL}").status_code == 200  # the proxy strips the prefix


def test_figure6_download(client, smoke_study):
    results = interp.results.load(smoke_study)
    response = client.get("/img/smoke/figure6/gradcam.png")
    assert response.status_code == 200 and response.data == results.figure6("gradcam").read_bytes()
    assert client.get("/img/smoke/figure6/nomethod.png").status_code == 404
    assert client.get("/img/other/figure6/gradcam.png").status_code == 404
