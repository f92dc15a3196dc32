"""Dashboard test settings: the system chromium for ``dash_duo`` and an app over the real smoke study."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

import dash
import pytest
from selenium.webdriver.chrome.options import Options

from dashboards.app import create_app
from tests.study_fixture import smoke_study  # noqa: F401  (session fixture)


def pytest_setup_options() -> Options:
    """Headless Debian chromium (``chromium`` + ``chromium-driver``; selenium 4.2 downloads no driver)."""
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1400,1800"):
        options.add_argument(flag)
    return options


def free_port() -> int:
    """A port nobody listens on now (dash_duo's own counter starts at 58050 in every xdist worker)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def app(smoke_study):  # noqa: F811
    """A fresh dashboard over the smoke study."""
    return create_app([smoke_study])


def page(name: str):
    """The module of a page of the current app (Pages executes them as ``pages.<name>``)."""
    assert f"pages.{name}" in dash.page_registry, f"no page {name}; build the app first"
    return sys.modules[f"pages.{name}"]


@pytest.fixture
def unanalysed(smoke_study, tmp_path: Path) -> Path:  # noqa: F811
    """A copy of the smoke study without its analysis/ folder."""
    return Path(shutil.copytree(smoke_study, tmp_path / "bare", ignore=shutil.ignore_patterns("analysis")))
