"""The code paths that only run on a GPU, checked against each other on one fold of a small demo set.

1. Image cache on the device vs in pinned host memory (the fallback for a cache that does not fit):
   the same kernels on the same device, so the predictions must be identical.
2. ``torch.compile`` of the trunk vs eager: the same model up to kernel rounding; reports the share
   of equal predicted classes and the largest logit difference.
3. CPU vs CUDA in float32: reports the same two figures.

Each run's training seconds are printed. Exit status 1 when check 1 fails. Needs CUDA unless
``--device cpu`` (then only check the plumbing: 1 and 2 run on the CPU, 3 is skipped).

Run: ``python -m benchmarks.cuda_paths [--subjects 16] [--image-size 64] [--epochs 2]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from trainers import rundir
from trainers.config import load_preset, override
from trainers.data.demo import generate_demo
from trainers.data.labels import CLASSES
from trainers.device import configure_determinism, place_images
from trainers.executors.task import open_cache, train_task
from trainers.runner import plan_study

LOGITS = [f"logit_{name}" for name in CLASSES]


def train_once(manifest: Path, out: Path, config, device: str, pinned: bool | None,
               compile_model: bool) -> tuple[pd.DataFrame, float]:
    """Train ``baseline-mix`` on fold 0 into ``out``; its predictions and training seconds."""
    plan = plan_study(manifest, config, "cuda-paths", ["baseline-mix"], out, device, device, compile_model)
    images = place_images(open_cache(plan.cache), torch.device(device), pinned=pinned)
    started = time.perf_counter()
    train_task(plan, plan.tasks[0], images)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    return pd.read_csv(rundir.fold_dir(out, "baseline-mix", 0) / rundir.PREDICTIONS_FILE), seconds


def agreement(a: pd.DataFrame, b: pd.DataFrame) -> str:
    """Share of equal predicted classes and the largest absolute logit difference."""
    same = float((a["pred"] == b["pred"]).mean())
    largest = float(np.abs(a[LOGITS].to_numpy() - b[LOGITS].to_numpy()).max())
    return f"{100 * same:.1f}% equal predictions, largest logit difference {largest:.3g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=16)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--no-compile", dest="compile", action="store_false", help="skip check 2")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("cuda_paths: no CUDA device here; use --device cpu to check the plumbing only", file=sys.stderr)
        return 2
    configure_determinism()
    config = override(load_preset("smoke"), image_size=args.image_size, epochs=args.epochs, folds=[0], bf16=True)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        os.environ["MASKFER_CACHE"] = str(root / "cache")
        manifest = root / "data" / "manifest.csv"
        generate_demo(root / "data", subjects=args.subjects, size=2 * args.image_size, workers=min(8, os.cpu_count() or 1))
        device_cache, seconds = train_once(manifest, root / "device", config, args.device, False, False)
        print(f"1. cache on the device: {seconds:.1f} s")
        pinned, seconds = train_once(manifest, root / "pinned", config, args.device, True, False)
        identical = device_cache.equals(pinned)
        print(f"1. cache in pinned host memory: {seconds:.1f} s; predictions "
              f"{'identical' if identical else 'DIFFER: ' + agreement(device_cache, pinned)}")
        if args.compile:
            compiled, seconds = train_once(manifest, root / "compiled", config, args.device, None, True)
            print(f"2. torch.compile: {seconds:.1f} s (compilation included); vs eager: "
                  f"{agreement(device_cache, compiled)}")
        if args.device.startswith("cuda"):
            fp32 = override(config, bf16=False)
            on_gpu, gpu_seconds = train_once(manifest, root / "gpu32", fp32, args.device, None, False)
            on_cpu, cpu_seconds = train_once(manifest, root / "cpu32", fp32, "cpu", None, False)
            print(f"3. float32 CUDA {gpu_seconds:.1f} s vs CPU {cpu_seconds:.1f} s: {agreement(on_gpu, on_cpu)}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
