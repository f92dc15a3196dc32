"""The dashboard under load: many browsers at once on ``python -m dashboards`` (the production server).

Starts ``python -m dashboards RUN`` on 127.0.0.1 only (never another interface), then ``--clients``
threads send a fixed, seeded mix of ``--requests`` requests (an equal share of each kind) and stop: the index page, the Pages router
callback that builds each page, every page's filter callback with each allowed value of each filter
(the payloads Dash's renderer sends, built from the server's own ``/_dash-dependencies``), the embedding
hover card, and face thumbnails and overlay tiles. A request fails on an error status, a refused
connection or a callback answer without its outputs. Prints p50/p95/max per kind and overall and exits
1 when any request failed. Run:
``python -m benchmarks.dashboard_load RUN [--clients 16] [--requests 960] [--threads 8] [--port 8078]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import plotly

from benchmarks.dashboard_speed import callback_calls, percentile, start_server

HOST = "127.0.0.1"
PAGES = ("/", "/classes", "/statistics", "/embeddings", "/attention")
# The id prefix of each page's filters (its update callback writes the address bar).
PREFIXES = {"overview": "ov-", "classes": "cls-", "statistics": "st-", "embeddings": "emb-", "attention": "att-"}


def _payload(dependency: dict, values: list, changed: str) -> dict:
    """The body Dash's renderer posts for ``dependency`` with ``values`` for its inputs then its states."""
    outputs = [{"id": spec.rsplit(".", 1)[0], "property": spec.rsplit(".", 1)[1]}
               for spec in dependency["output"].strip(".").split("...")]
    count = len(dependency["inputs"])
    return {"output": dependency["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{**spec, "value": value} for spec, value in zip(dependency["inputs"], values[:count])],
            "state": [{**spec, "value": value} for spec, value in zip(dependency["state"], values[count:])],
            "changedPropIds": [changed]}


def _dependency(dependencies: list[dict], prefix: str) -> dict:
    return next(dep for dep in dependencies if "url-state.search" in dep["output"]
                and all(str(spec["id"]).startswith(prefix) for spec in dep["inputs"]))


def plan(run: str, base: str) -> list[tuple[str, str, dict | None]]:
    """Every request of the mix once: (kind, path, JSON body or None for a GET)."""
    from dashboards import data
    from dashboards.app import create_app

    create_app([run])  # in this process only to list the filters' allowed values, as dashboard_speed does
    name = data.studies().names[0]
    results = data.get(name)
    with urllib.request.urlopen(base + "_dash-dependencies", timeout=30) as response:
        dependencies = json.loads(response.read())
    router = next(dep for dep in dependencies if "_pages_content.children" in dep["output"])
    requests: list[tuple[str, str, dict | None]] = [("index page", "/", None)]
    requests += [("page (router callback)", "/_dash-update-component",
                  _payload(router, [path, ""], "_pages_location.pathname")) for path in PAGES]
    for page, calls in callback_calls(name).items():
        if page == "embeddings hover":
            hover = next(dep for dep in dependencies if "emb-tooltip.show" in dep["output"])
            requests += [("embedding hover card", "/_dash-update-component",
                          _payload(hover, json.loads(json.dumps(args, cls=plotly.utils.PlotlyJSONEncoder)),
                                   "emb-graph.hoverData")) for _, args, _ in calls[:10]]
            continue
        dependency = _dependency(dependencies, PREFIXES[page])
        for _, args, _ in calls:
            # the callback's last states are the address bar (the default view's, so each call is a change)
            # and the page's path
            path = "/" if page == "overview" else f"/{page}"
            values = json.loads(json.dumps(args, cls=plotly.utils.PlotlyJSONEncoder)) + ["", path]
            requests.append(("filter callback", "/_dash-update-component",
                             _payload(dependency, values, f"{dependency['inputs'][0]['id']}.value")))
    image_ids = sorted(results.images()["image_id"])
    thumbs = [f"/img/{name}/thumb/{image_id}.png" for image_id in image_ids if results.thumbnail(image_id)]
    requests += [("thumbnail", path, None) for path in thumbs[:60]]
    if results.attention_methods():
        method = results.attention_methods()[0]
        requests += [("overlay", f"/img/{name}/overlay/{method}/{arm}/{image_id}.png", None)
                     for arm, image_id, _ in results.overlays(method).itertuples(index=False)][:60]
    return requests


def mixed(requests: list[tuple[str, str, dict | None]], count: int, seed: int) -> list[tuple[str, str, dict | None]]:
    """``count`` requests, an equal share of each kind (each kind's requests in turn), in a seeded random order."""
    by_kind: dict[str, list] = defaultdict(list)
    for request in requests:
        by_kind[request[0]].append(request)
    turns = {kind: itertools.cycle(items) for kind, items in by_kind.items()}
    kinds = list(turns)
    mix = [next(turns[kinds[i % len(kinds)]]) for i in range(count)]
    random.Random(seed).shuffle(mix)
    return mix


def send(base: str, request: tuple[str, str, dict | None]) -> tuple[str, float, str | None]:
    """(kind, milliseconds, failure or None) of one request."""
    kind, path, body = request
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path.lstrip("/"), data=data, headers=headers),
                                    timeout=60) as response:
            content = response.read()
            failure = None if response.status == 200 else f"status {response.status}"
    except (urllib.error.URLError, OSError) as exc:
        return kind, (time.perf_counter() - start) * 1000, f"{path}: {exc}"
    if failure is None and body is not None and b'"response"' not in content:
        failure = f"{path}: callback answer without outputs"
    return kind, (time.perf_counter() - start) * 1000, failure


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="python -m benchmarks.dashboard_load", description=__doc__.splitlines()[0])
    cli.add_argument("run", help="analysed run directory")
    cli.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    cli.add_argument("--requests", type=int, default=960, help="requests in all (default 960)")
    cli.add_argument("--threads", type=int, default=8, help="the server's --threads (default 8)")
    cli.add_argument("--port", type=int, default=8078)
    cli.add_argument("--seed", type=int, default=0)
    args = cli.parse_args(argv)
    run = os.path.abspath(args.run)
    server, _ = start_server(run, args.port, extra=["--threads", str(args.threads)])
    base = f"http://{HOST}:{args.port}/"
    try:
        mix = mixed(plan(run, base), args.requests, args.seed)
        load = os.getloadavg()[0]
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            done = list(pool.map(lambda request: send(base, request), mix))
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait()
    failures = [failure for _, _, failure in done if failure]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, ms, _ in done:
        by_kind[kind].append(ms)
    print(f"{len(done)} requests from {args.clients} clients on {args.threads} server threads in {wall:.1f} s "
          f"({len(done) / wall:.1f}/s); load average {load:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"{len(failures)} failed")
    for kind, times in sorted(by_kind.items()):
        print(f"  {kind:24s} {len(times):5d}  p50 {percentile(times, 0.5):7.1f} ms  "
              f"p95 {percentile(times, 0.95):7.1f} ms  max {max(times):7.1f} ms")
    every = [ms for _, ms, _ in done]
    print(f"  {'all':24s} {len(every):5d}  p50 {statistics.median(every):7.1f} ms  "
          f"p95 {percentile(every, 0.95):7.1f} ms  max {max(every):7.1f} ms")
    for failure in failures[:10]:
        print(f"  failed: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
