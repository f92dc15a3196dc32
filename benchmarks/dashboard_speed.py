"""Dashboard speed on a study: time to the first drawn page after start, and callback latency.

- ``first page``: seconds from launching ``python -m dashboards RUN`` until a headless chromium (started
  beforehand, not counted) shows the Overview's accuracy plot; also the seconds until the server answered.
- ``callbacks``: every page's filter callback, in-process, for every single-filter change from the default
  view (each allowed value of each filter), plus the embedding hover card; each call is timed with the JSON
  encoding Dash does before sending it. p50, p95 and max per page and overall.

Goals (issue 12): first page < 2 s, callback p95 < 300 ms. Run:
``python -m benchmarks.dashboard_speed RUN [--port 8077] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextvars import copy_context

import plotly
from dash._callback_context import context_value
from dash._utils import AttributeDict

FIRST_PAGE_GOAL_S = 2.0
CALLBACK_P95_GOAL_MS = 300.0


def browser():
    """A headless Debian chromium through selenium (chromium-driver)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--window-size=1400,1000",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='maskfer-bench-')}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options)


def first_page(run: str, port: int) -> tuple[float, float]:
    """(seconds until the server answers, seconds until the Overview's accuracy plot is drawn)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser()
    url = f"http://127.0.0.1:{port}/"
    start = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "dashboards", run, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                if server.poll() is not None or time.perf_counter() - start > 60:
                    raise RuntimeError(f"python -m dashboards {run} did not start") from None
                time.sleep(0.02)
        answered = time.perf_counter() - start
        driver.get(url)
        WebDriverWait(driver, 60, poll_frequency=0.02).until(expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, "#ov-accuracy .main-svg .scatterlayer .trace")))
        return answered, time.perf_counter() - start
    finally:
        driver.quit()
        server.terminate()
        server.wait()


def _timed(function, *args, trigger: str = "") -> float:
    def call():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": trigger, "value": None}]))
        json.dumps(function(*args), cls=plotly.utils.PlotlyJSONEncoder)

    start = time.perf_counter()
    copy_context().run(call)
    return (time.perf_counter() - start) * 1000


def callback_calls(run_name: str) -> dict[str, list]:
    """Per page: (callback, args, trigger) for every single-filter change from the default view."""
    pages = {name: sys.modules[f"pages.{name}"] for name in ("overview", "classes", "statistics", "embeddings",
                                                            "attention")}
    plans: dict[str, list] = {}
    for name, module in pages.items():
        allowed = module.options(run_name)
        order = [p for p in module.update.__code__.co_varnames[:module.update.__code__.co_argcount] if p != "run"]
        defaults = {key: allowed[key][0] for key in order if key in allowed}
        calls = []
        for key in order:
            for value in allowed.get(key, [])[1:] if key in allowed else []:
                state = {**defaults, key: value}
                args = [state.get(p, 1) if p != "page" else int(state.get("page", 1)) for p in order]
                calls.append((module.update, [*args, run_name], f"att-{key}.value"))
        plans[name] = calls
    figure = pages["embeddings"].update(*[pages["embeddings"].options(run_name)[k][0]
                                          for k in ("arm", "method", "scope", "fold", "colour", "pairs")], run_name)[0]
    points = [{"customdata": list(row), "bbox": {}} for row in figure.data[-1].customdata[:50]]
    plans["embeddings hover"] = [(pages["embeddings"].hover, [{"points": [p]}, run_name], "") for p in points]
    return plans


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="python -m benchmarks.dashboard_speed", description=__doc__.splitlines()[0])
    cli.add_argument("run", help="analysed run directory")
    cli.add_argument("--port", type=int, default=8077)
    cli.add_argument("--repeats", type=int, default=3, help="first-page measurements (best and median printed)")
    args = cli.parse_args(argv)

    starts = [first_page(args.run, args.port) for _ in range(args.repeats)]
    answered = [a for a, _ in starts]
    ready = [r for _, r in starts]
    print(f"first page: server answers after {min(answered):.2f} s (median {statistics.median(answered):.2f}); "
          f"plot drawn after {min(ready):.2f} s (median {statistics.median(ready):.2f}; goal < {FIRST_PAGE_GOAL_S} s)")

    from dashboards.app import create_app

    create_app([args.run])
    from dashboards import data

    name = data.studies().names[0]
    everything = []
    for page, calls in callback_calls(name).items():
        for function, call_args, trigger in calls[:1]:
            _timed(function, *call_args, trigger=trigger)  # warm the table cache as the first view does
        times = [_timed(function, *call_args, trigger=trigger) for function, call_args, trigger in calls]
        everything += times
        if times:
            print(f"{page:18s} {len(times):4d} calls  p50 {percentile(times, 0.5):6.1f} ms  "
                  f"p95 {percentile(times, 0.95):6.1f} ms  max {max(times):6.1f} ms")
    p95 = percentile(everything, 0.95)
    print(f"{'all callbacks':18s} {len(everything):4d} calls  p95 {p95:6.1f} ms (goal < {CALLBACK_P95_GOAL_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
