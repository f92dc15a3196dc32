"""Sharing a study: a non-loopback host needs a password; with one, every route (pages, callbacks, component
scripts, images) answers 401 without it and 200 with it; the password never reaches the page or the log."""

from __future__ import annotations

import base64
import json

import pytest

import interp.results
from dashboards import access, delivery
from dashboards.__main__ import main, parser
from dashboards.app import create_app
from tests.dashboards.conftest import dashboard_command, http_get

SECRET = "correct horse battery staple"


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("localhost", True), ("127.0.1.1", True),
                                            ("::1", True), ("0.0.0.0", False), ("192.168.1.20", False),
                                            ("::", False), ("lab-pc.example", False)])
def test_loopback_addresses(host, loopback):
    assert access.is_loopback(host) is loopback


def test_a_shared_host_without_a_password_exits_2_naming_the_options(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(access.PASSWORD_ENV, raising=False)
    assert main([str(tmp_path), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "--password-file" in err and access.PASSWORD_ENV in err and "--no-auth" in err
    (tmp_path / "empty").write_text("\n")
    assert main([str(tmp_path), "--host", "0.0.0.0", "--password-file", str(tmp_path / "empty")]) == 2
    assert "empty" in capsys.readouterr().err
    assert main([str(tmp_path), "--host", "0.0.0.0", "--password-file", str(tmp_path / "absent")]) == 2
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a password and --no-auth contradict each other
        parser().parse_args(["runs/a", "--no-auth", "--password-file", "f"])


def test_secret_from_file_or_environment(tmp_path):
    (tmp_path / "pw").write_text(f"{SECRET}\nignored\n")
    assert access.read_secret(tmp_path / "pw", {access.PASSWORD_ENV: "other"}) == SECRET
    assert access.read_secret(None, {access.PASSWORD_ENV: SECRET}) == SECRET
    assert access.read_secret(None, {}) is None
    access.check_exposure("0.0.0.0", SECRET, no_auth=False)
    access.check_exposure("0.0.0.0", None, no_auth=True)
    access.check_exposure("127.0.0.1", None, no_auth=False)


def _routes(client, smoke_study) -> dict[str, tuple[str, dict | None]]:
    """(method, path, json body) of a page, a deep link, Dash's layout and dependencies, a component script,
    the stylesheet, a thumbnail, an overlay and a filter callback (built from Dash's own dependency list)."""
    results = interp.results.load(smoke_study)
    tile = results.overlays().iloc[0]
    auth = _basic("anyone", SECRET)
    index = client.get("/", headers=auth).get_data(as_text=True)
    script = next(part.split('"')[0] for part in index.split('src="')[1:] if "_dash-component-suites" in part)
    dependencies = client.get("/_dash-dependencies", headers=auth).get_json()
    overview = next(dep for dep in dependencies if any(item["id"] == "ov-metric" for item in dep["inputs"]))
    values = {"ov-metric": "macro_f1", "ov-test": "corrected-t", "ov-run": "smoke", "url-state": ""}
    body = {"output": overview["output"], "outputs": [{"id": o.split(".")[0], "property": o.split(".", 1)[1]}
                                                      for o in overview["output"].strip(".").split("...")],
            "inputs": [{**item, "value": values[item["id"]]} for item in overview["inputs"]],
            "state": [{**item, "value": values[item["id"]] if item["property"] != "pathname" else "/"}
                      for item in overview["state"]],
            "changedPropIds": ["ov-metric.value"]}
    return {"page": ("GET", "/", None), "deep link": ("GET", "/attention?arm=cl&masked=M", None),
            "layout": ("GET", "/_dash-layout", None), "dependencies": ("GET", "/_dash-dependencies", None),
            "script": ("GET", script, None), "stylesheet": ("GET", f"/{delivery.BOOTSTRAP_URL}", None),
            "plotly.js": ("GET", f"/{delivery.PLOTLY_ROUTE}", None),
            "thumbnail": ("GET", f"/img/smoke/thumb/{tile['image_id']}.png", None),
            "overlay": ("GET", f"/img/smoke/overlay/gradcam/{tile['model']}/{tile['image_id']}.png", None),
            "callback": ("POST", "/_dash-update-component", body)}


def test_every_route_needs_the_password(smoke_study):
    app = create_app([smoke_study])
    access.protect(app, SECRET)
    client = app.server.test_client()
    routes = _routes(client, smoke_study)
    for name, (method, path, body) in routes.items():
        for headers in ({}, _basic("anyone", "wrong"), {"Authorization": "Basic !!"}, {"Authorization": "Bearer x"}):
            response = client.open(path, method=method, json=body, headers=headers)
            assert response.status_code == 401, (name, headers)
            assert "Basic" in response.headers["WWW-Authenticate"]
        response = client.open(path, method=method, json=body, headers=_basic("anyone", SECRET))
        assert response.status_code == 200, name
        assert SECRET.encode() not in response.data, name
    assert b"Macro-F1 per arm and view" in client.post("/_dash-update-component", json=routes["callback"][2],
                                      headers=_basic("x", SECRET)).data


def test_served_by_waitress_with_a_password_file_never_logged(smoke_study, tmp_path):
    secret_file = tmp_path / "password"
    secret_file.write_text(SECRET + "\n")
    log: list[str] = []
    with dashboard_command([str(smoke_study), "--password-file", str(secret_file), "-v"], tmp_path, log) as url:
        assert http_get(url)[0] == 401
        status, page = http_get(url, _basic("viewer", SECRET))
        assert status == 200 and b"_dash-renderer" in page and SECRET.encode() not in page
        status, layout = http_get(url + "_dash-layout", _basic("viewer", SECRET))
        assert status == 200 and SECRET not in json.dumps(json.loads(layout))
    assert "waitress" in log[0] and "password required" in log[0] and SECRET not in log[0]
