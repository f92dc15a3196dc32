"""Grad-CAM images/s for ResNet-18: batched vs one image at a time, and vs plain captum.

Three ways to explain the predicted class of ``--images`` random images:

- ``batched``: maskfer's :class:`interp.attribution.GradCam` with an internal batch size (one
  forward pass per batch chooses the argmax inside it; weights frozen; channels-last);
- ``batched-bf16``: the same under bfloat16 autocast;
- ``one-by-one``: the same class with ``batch_size=1``;
- ``captum-plain``: what a user writes with captum alone: a prediction pass, then
  ``LayerGradCam.attribute`` with the predicted targets, batched, weights not frozen.

Each is timed ``--repeats`` times after a warm-up; the best and the median are printed with the
batched / one-by-one ratio. Run: ``python -m benchmarks.gradcam_throughput [--size 112] [--batch 32]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from captum.attr import LayerAttribution, LayerGradCam

from interp.attribution import create
from trainers.models import create as create_model

GOAL = 50.0
"""Batched images/s the audit aims for at 112 px on a 2-core CPU."""


def ours(model: torch.nn.Module, images: torch.Tensor, batch_size: int, bf16: bool = False) -> None:
    with create("gradcam", model, batch_size=batch_size, bf16=bf16) as method:
        method.attribute(images, target="pred")


def captum_plain(model: torch.nn.Module, images: torch.Tensor, batch_size: int) -> None:
    layer = LayerGradCam(model, model.get_submodule(model.gradcam_layer))
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        with torch.no_grad():
            targets = model(batch).argmax(dim=1)
        coarse = layer.attribute(batch, target=targets)
        LayerAttribution.interpolate(coarse, tuple(batch.shape[-2:]), interpolate_mode="bilinear")


def measure(work: Callable[[], None], count: int, repeats: int) -> tuple[float, float]:
    """Best and median images/s over ``repeats`` timed runs (after one warm-up run)."""
    work()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        rates.append(count / (time.perf_counter() - start))
    return max(rates), statistics.median(rates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=112, help="input side in pixels (default 112)")
    parser.add_argument("--batch", type=int, default=32, help="internal batch size (default 32)")
    parser.add_argument("--images", type=int, default=128, help="images per timed run (default 128)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per variant (default 3)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = create_model("resnet18", 7).to(device).eval()
    images = torch.randn(args.images, 3, args.size, args.size, device=device)
    single = images[: max(8, args.images // 4)]  # one at a time is slow: fewer images, same rate
    variants = {
        "batched": (lambda: ours(model, images, args.batch), len(images)),
        "batched-bf16": (lambda: ours(model, images, args.batch, bf16=True), len(images)),
        "one-by-one": (lambda: ours(model, single, 1), len(single)),
        "captum-plain": (lambda: captum_plain(model, images, args.batch), len(images)),
    }
    print(f"Grad-CAM, ResNet-18 (layer4), {args.size} px, batch {args.batch}, {device}, "
          f"{torch.get_num_threads()} threads")
    rates = {}
    for name, (work, count) in variants.items():
        best, median = measure(work, count, args.repeats)
        rates[name] = best
        print(f"  {name:13s} {best:7.1f} img/s best, {median:7.1f} median ({count} images x {args.repeats})")
    print(f"  batched / one-by-one = {rates['batched'] / rates['one-by-one']:.2f}x; "
          f"batched / captum-plain = {rates['batched'] / rates['captum-plain']:.2f}x; "
          f"goal >= {GOAL:.0f} img/s batched: {'met' if rates['batched'] >= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
