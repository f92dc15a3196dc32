"""The Ray executor on one machine: its overhead against the local executor, and its scaling.

Each run trains the same study (``--preset``, ``--models``, ``--folds``, ``--epochs``) into a fresh
run directory; the image cache is built before any timing. Runs:

- ``local``: the local executor, ``--threads`` torch threads, one task after another;
- ``ray 1 x N threads``: a Ray instance of N CPUs, each task N CPUs and threads, so one task at a
  time, as locally: the difference to ``local`` is the executor's overhead (worker processes that
  import torch, scheduling, passing the plan);
- ``ray P x 1 thread`` for each P of ``--parallel``: a Ray instance of P CPUs, tasks of 1 CPU, so up
  to P tasks at once (KD still waits for its teacher).

Ray's start-up (``ray.init`` of a fresh local instance) is timed apart from the study. ``--skip-local``
leaves out the first two runs. On CPUs without native bf16 pass ``--no-bf16`` (autocast is slower there).

Run: ``python -m benchmarks.ray_scaling [--data MANIFEST] [--preset quick] [--models baseline-nm,kd]
[--folds 0,1] [--epochs 2] [--parallel 1,2,4] [--threads N]`` (without ``--data`` the demo dataset
is generated into a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import ray
import torch

from trainers.config import load_preset, override
from trainers.data.demo import generate_demo
from trainers.executors.ray import RayExecutor
from trainers.runner import plan_study, run_study


def timed(manifest: Path, config, preset: str, models: list[str], out: Path, executor=None) -> float:
    """Wall seconds of one study into ``out``."""
    started = time.perf_counter()
    run_study(manifest, config, preset, models, out, device="cpu" if executor is None else None, executor=executor)
    return time.perf_counter() - started


def ray_run(num_cpus: int, cpus_per_task: int, manifest: Path, config, preset: str, models: list[str],
            out: Path) -> tuple[float, float]:
    """(Ray start-up seconds, study wall seconds) on a fresh local Ray instance of ``num_cpus`` CPUs."""
    started = time.perf_counter()
    os.environ.setdefault("RAY_worker_niceness", "0")  # as the executor does when it starts Ray
    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    startup = time.perf_counter() - started
    try:
        wall = timed(manifest, config, preset, models, out, RayExecutor(cpus_per_task=cpus_per_task))
    finally:
        ray.shutdown()
    return startup, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="manifest (default: generate the demo dataset)")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--models", default="baseline-nm,kd")
    parser.add_argument("--folds", default="0,1")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--parallel", default="1,2,4", help="parallel Ray tasks to time (empty: none)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads of the local run")
    parser.add_argument("--skip-local", action="store_true", help="time only the --parallel Ray runs")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false", default=None,
                        help="train in float32 (on CPUs without native bf16, autocast is slower than float32)")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    config = override(load_preset(args.preset), folds=[int(f) for f in args.folds.split(",")], epochs=args.epochs,
                      bf16=args.bf16)
    torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        os.environ.setdefault("MASKFER_CACHE", str(root / "cache"))
        if args.data is None:
            generate_demo(root / "data", size=128, workers=os.cpu_count() or 1)
        manifest = args.data or root / "data" / "manifest.csv"
        plan_study(manifest, config, args.preset, models, root / "cache-warmup", "cpu", "cpu")  # builds the cache
        print(f"{args.preset} preset, models {','.join(models)}, folds {args.folds}, epochs {config.epochs}, bf16 {config.bf16}, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before", flush=True)
        if not args.skip_local:
            wall = timed(manifest, config, args.preset, models, root / "local")
            rows.append({"run": f"local, {args.threads} threads", "ray_start_s": None, "study_s": wall})
            print(rows[-1], flush=True)
            startup, wall = ray_run(args.threads, args.threads, manifest, config, args.preset, models, root / "ray-one")
            rows.append({"run": f"ray 1 x {args.threads} threads", "ray_start_s": startup, "study_s": wall})
            print(rows[-1], flush=True)
        for parallel in (int(p) for p in args.parallel.split(",") if p):
            startup, wall = ray_run(parallel, 1, manifest, config, args.preset, models, root / f"ray-{parallel}")
            rows.append({"run": f"ray {parallel} x 1 thread", "ray_start_s": startup, "study_s": wall})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    if not args.skip_local:
        table["vs_local"] = (table["study_s"] / table["study_s"].iloc[0]).round(2)
    print(f"load average {os.getloadavg()[0]:.1f} after")
    print(table.round(1).to_string(index=False))


if __name__ == "__main__":
    main()
