"""Dashboard test settings: the system chromium for ``dash_duo`` and an app over the real smoke study."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dash
import pytest
from selenium.webdriver.chrome.options import Options

from dashboards.app import create_app
from tests.study_fixture import smoke_study  # noqa: F401  (session fixture)

ROOT = Path(__file__).resolve().parents[2]


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


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """(status, body) of a GET, also for an error status."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextmanager
def dashboard_command(args: list[str], cwd: Path, log: list[str] | None = None) -> Iterator[str]:
    """``python -m dashboards ARGS --port P`` started from ``cwd`` (the repository on ``PYTHONPATH``, no
    password in the environment); yields its URL once it answers, stops it after and appends its output
    to ``log``."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MASKFER_DASHBOARD_PASSWORD", None)
    server = subprocess.Popen([sys.executable, "-m", "dashboards", *args, "--port", str(port)], cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                http_get(url)
                break
            except OSError:
                assert server.poll() is None, f"python -m dashboards exited {server.returncode}"
                assert time.monotonic() < deadline, "python -m dashboards did not answer within 90 s"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
        if log is not None:
            log.append(output)
