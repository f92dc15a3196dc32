"""Training-step throughput of the demo's models on this CPU: what sized the ``quick`` preset.

For each model (ResNet-18, RAN over six crops, SCAN + CCI on its ResNet-50 and ResNet-18 trunks) one
Adam step on random ``--size`` px images is timed with one torch thread, with two, and as two one-thread
processes side by side (what ``make demo`` runs: Ray with two one-thread workers). Everything in one
run, so the ratios compare like with like; float32 (what training uses on a CPU without native bf16).

Run: ``python -m benchmarks.cpu_steps [--size 56] [--batch 32] [--steps 5] [--models resnet18,ran]``
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

import pandas as pd
import torch

from trainers.models import create
from trainers.models.scan import scan_cci_loss

MODELS: dict[str, dict] = {
    "resnet18": {"name": "resnet18"},
    "ran": {"name": "ran"},
    "scan-resnet50": {"name": "scan", "shared": True, "trunk": "resnet50"},
    "scan-resnet18": {"name": "scan", "shared": True, "trunk": "resnet18"},
}


def images_per_second(model_key: str, size: int, batch: int, steps: int, threads: int) -> float:
    """Training images/s of ``steps`` Adam steps after two warm-up steps (channels_last, float32)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    options = dict(MODELS[model_key])
    model = create(options.pop("name"), 7, **options).to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.randn(batch, 3, size, size).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 7, (batch,))

    def step() -> None:
        if model_key.startswith("scan"):
            loss = scan_cci_loss(model.run(x), y)["total"]
        else:
            loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - started)


def _worker(args: tuple[str, int, int, int]) -> float:
    return images_per_second(*args, threads=1)


def two_processes(model_key: str, size: int, batch: int, steps: int) -> float:
    """Summed images/s of two one-thread processes training at the same time."""
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return sum(pool.map(_worker, [(model_key, size, batch, steps)] * 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=56)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, of {', '.join(MODELS)}")
    args = parser.parse_args()
    rows = []
    for key in args.models.split(","):
        one = images_per_second(key, args.size, args.batch, args.steps, threads=1)
        two = images_per_second(key, args.size, args.batch, args.steps, threads=2)
        pair = two_processes(key, args.size, args.batch, args.steps)
        rows.append({"model": key, "1 thread img/s": one, "2 threads img/s": two,
                     "2 processes x 1 thread img/s": pair, "processes / threads": pair / two})
    table = pd.DataFrame(rows)
    reference = table.loc[table["model"] == "resnet18", "1 thread img/s"]
    if not reference.empty:
        table["step cost vs resnet18 (1 thread)"] = float(reference.iloc[0]) / table["1 thread img/s"]
    print(f"{args.size} px, batch {args.batch}, {args.steps} timed steps, float32")
    print(table.round(2).to_string(index=False))


if __name__ == "__main__":
    main()
