"""benchmarks.dashboard_load on the smoke study: 16 clients on loopback, every kind of request, none failed."""

from __future__ import annotations

import pytest

from benchmarks import dashboard_load
from tests.dashboards.conftest import free_port


@pytest.mark.slow
def test_sixteen_clients_mixing_pages_callbacks_and_images_all_succeed(smoke_study, capsys):
    assert dashboard_load.main([str(smoke_study), "--requests", "96", "--clients", "16",
                                "--port", str(free_port())]) == 0
    out = capsys.readouterr().out
    assert "96 requests from 16 clients" in out and "0 failed" in out
    for kind in ("index page", "page (router callback)", "filter callback", "embedding hover card", "thumbnail",
                 "overlay"):
        assert kind in out, kind
