"""Dashboard speed on a study: time to the first drawn page after start, and callback latency.

- ``first page``: seconds from launching ``python -m dashboards RUN`` until a headless chromium (started
  beforehand, not counted) shows the Overview's accuracy plot; also the seconds until the server answered.
- ``warm server, cold browser``: the server started and one page served; then each repeat opens a fresh
  chromium profile (empty cache) and times from navigation start to the accuracy plot drawn (polled in the
  page every 10 ms), with where the time went: the HTML, the scripts' download, their parse and run
  (DOMContentLoaded), the router callback (Python building the page), plotly's bundle, the JS main thread's
  long tasks, and the bytes sent per resource (``transfer``: on the wire, compressed or not).
- ``callbacks``: every page's filter callback, in-process, for every single-filter change from the default
  view (each allowed value of each filter), plus the embedding hover card; each call is timed with the JSON
  encoding Dash does before sending it. p50, p95 and max per page and overall.

Goals (issue 12): first page < 2 s, callback p95 < 300 ms. Run:
``python -m benchmarks.dashboard_speed RUN [--port 8077] [--repeats 3] [--skip-start] [--skip-callbacks]``;
``--cwd DIR`` starts the server from DIR (e.g. an older checkout, to compare before and after).
"""

from __future__ import annotations

import argparse
import json
import os
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


DRAWN = "#ov-accuracy .main-svg .scatterlayer .trace"
# Installed before any page script: the time the plot appears and the main thread's long tasks.
PROBE = f"""
window.__long = [];
try {{ new PerformanceObserver(list => list.getEntries().forEach(e => window.__long.push(e.duration)))
        .observe({{type: 'longtask', buffered: true}}); }} catch (e) {{}}
const __poll = setInterval(() => {{ if (document.querySelector('{DRAWN}')) {{
    window.__drawn = performance.now(); clearInterval(__poll); }} }}, 10);
"""
TIMINGS = """
const nav = performance.getEntriesByType('navigation')[0];
return {drawn: window.__drawn, long: window.__long, html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd,
        resources: performance.getEntriesByType('resource').map(r => ({name: r.name, start: r.startTime,
            end: r.responseEnd, server: r.responseStart - r.requestStart, transfer: r.transferSize,
            size: r.decodedBodySize}))};
"""


def start_server(run: str, port: int, cwd: str | None = None,
                 extra: list[str] | None = None) -> tuple[subprocess.Popen, float]:
    """``python -m dashboards RUN --port PORT [EXTRA]`` (from ``cwd``; on 127.0.0.1, its default) and the
    seconds until it answered."""
    url = f"http://127.0.0.1:{port}/"
    start = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "dashboards", run, "--port", str(port), *(extra or [])], cwd=cwd,
                              stdout=subprocess.DEVNULL, stderr=open(os.environ.get("DASHBOARD_LOG", os.devnull), "w"))
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return server, time.perf_counter() - start
        except OSError:
            if server.poll() is not None or time.perf_counter() - start > 60:
                server.terminate()
                raise RuntimeError(f"python -m dashboards {run} did not start") from None
            time.sleep(0.02)


def cold_browser(port: int) -> dict:
    """One visit of the Overview by a fresh chromium profile (empty cache): milliseconds from navigation
    start to the plot drawn and the page's resource and long-task timings."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser()
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
        driver.get(f"http://127.0.0.1:{port}/")
        WebDriverWait(driver, 60, poll_frequency=0.05).until(lambda d: d.execute_script("return window.__drawn"))
        return driver.execute_script(TIMINGS)
    finally:
        driver.quit()


def _short(url: str) -> str:
    path = url.split("?")[0].split("/", 3)[-1]
    return path.rsplit("/", 1)[-1] if "_dash-component-suites" in path else path


def breakdown(visit: dict) -> list[str]:
    """Lines saying where one cold visit's time went."""
    resources = visit["resources"]
    scripts = [r for r in resources if r["name"].split("?")[0].endswith(".js")]
    router = [r for r in resources if "_dash-update-component" in r["name"]]
    plotly_js = [r for r in scripts if "plotly" in _short(r["name"])]
    lines = [f"  html {visit['html']:.0f} ms; scripts downloaded {max((r['end'] for r in scripts), default=0):.0f} ms; "
             f"DOMContentLoaded (scripts parsed and run) {visit['dcl']:.0f} ms; "
             f"first callback answered {min((r['end'] for r in router), default=0):.0f} ms "
             f"(server {min((r['server'] for r in router), default=0):.0f} ms); "
             f"plotly.js loaded {max((r['end'] for r in plotly_js), default=0):.0f} ms; "
             f"drawn {visit['drawn']:.0f} ms",
             f"  JS long tasks: {len(visit['long'])}, {sum(visit['long']):.0f} ms in all; "
             f"{len(resources)} requests, {sum(r['transfer'] for r in resources) / 1e6:.2f} MB sent "
             f"for {sum(r['size'] for r in resources) / 1e6:.2f} MB of content"]
    for item in sorted(resources, key=lambda r: -r["size"])[:6]:
        lines.append(f"    {_short(item['name'])[:48]:48s} {item['size'] / 1e3:8.0f} kB content "
                     f"{item['transfer'] / 1e3:8.0f} kB sent  {item['start']:5.0f}-{item['end']:5.0f} ms")
    return lines


def warm_server_cold_browser(run: str, port: int, repeats: int, cwd: str | None = None) -> list[dict]:
    """``repeats`` cold-cache visits of a server that already served the Overview once."""
    server, _ = start_server(run, port, cwd)
    try:
        cold_browser(port)  # warms the server: tables read, figures built once
        return [cold_browser(port) for _ in range(repeats)]
    finally:
        server.terminate()
        server.wait()


def first_page(run: str, port: int, cwd: str | None = None) -> tuple[float, float]:
    """(seconds until the server answers, seconds until the Overview's accuracy plot is drawn), both from
    the launch of ``python -m dashboards`` (the browser is started beforehand)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser()
    start = time.perf_counter()
    server, answered = start_server(run, port, cwd)
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        WebDriverWait(driver, 60, poll_frequency=0.02).until(expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, DRAWN)))
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
    cli.add_argument("--cwd", help="start the server from this folder (default: here)")
    cli.add_argument("--skip-start", action="store_true", help="skip the from-start measurement")
    cli.add_argument("--skip-callbacks", action="store_true", help="skip the callback latencies")
    args = cli.parse_args(argv)
    run = os.path.abspath(args.run)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    visits = warm_server_cold_browser(run, args.port, args.repeats, args.cwd)
    drawn = sorted(visit["drawn"] / 1000 for visit in visits)
    print(f"warm server, cold browser cache: Overview plot drawn after {', '.join(f'{d:.2f}' for d in drawn)} s "
          f"(median {statistics.median(drawn):.2f} s; goal < {FIRST_PAGE_GOAL_S} s); the median visit:")
    print("\n".join(breakdown(sorted(visits, key=lambda v: v["drawn"])[len(visits) // 2])))
    if not args.skip_start:
        starts = [first_page(run, args.port, args.cwd) for _ in range(args.repeats)]
        answered = [a for a, _ in starts]
        ready = [r for _, r in starts]
        print(f"from start: server answers after {min(answered):.2f} s (median {statistics.median(answered):.2f}); "
              f"plot drawn after {min(ready):.2f} s (median {statistics.median(ready):.2f})")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.skip_callbacks:
        return 0

    from dashboards.app import create_app

    create_app([run])
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
