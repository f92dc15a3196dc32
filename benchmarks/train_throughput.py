"""Training images/s: maskfer's loop vs a reference-style loop, in the same process.

Reference style (as the MSD-E code trains): every step decodes each JPEG with PIL and runs
per-sample torchvision transforms (resize, flip, affine, colour jitter, to-tensor, normalise) in
a DataLoader, then a float32 ResNet-18 step. maskfer: the uint8 cache (decoded once, not timed;
on a GPU it lives on the device), batched pair-consistent augmentation on tensors on the same
device, channels_last and bf16 autocast; ``--compile`` adds a row with the trunk compiled.

Run: ``python -m benchmarks.train_throughput [--sizes 112,224] [--steps 6] [--devices cpu,cuda]``
(default devices: the CPU, and the GPU when there is one).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torchvision import transforms

from trainers.augment import IMAGENET_MEAN, IMAGENET_STD
from trainers.config import load_preset, override
from trainers.data.cache import load_images
from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest
from trainers.device import compile_trunk, place_images
from trainers.loop import training_batch
from trainers.methods import create_method
from trainers.models import create


def write_photos(root: Path, count: int, side: int, seed: int = 0) -> Manifest:
    """``count`` random-textured ``side``-px JPEGs and their manifest (stand-ins for face photos)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        coarse = rng.integers(0, 256, (side // 16, side // 16, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((side, side), Image.BILINEAR)
        path = root / f"img{i:04d}.jpg"
        image.save(path, quality=90)
        rows.append({"image_id": f"img{i:04d}", "path": path.name, "subject": f"s{i % 8}",
                     "label": CLASSES[i % 7], "masked": False, "pair_id": "", "source": "bench"})
    return Manifest(pd.DataFrame(rows), root)


class PhotoDataset(torch.utils.data.Dataset):
    """Decode with PIL and transform per sample on every access, like the reference code."""

    def __init__(self, manifest: Manifest, size: int) -> None:
        self.paths = manifest.abspaths()
        self.labels = [CLASSES.index(label) for label in manifest.table["label"]]
        self.transform = transforms.Compose([
            transforms.Resize((size, size)),
            transforms.RandomHorizontalFlip(),
            transforms.RandomAffine(3, translate=(0.0625, 0.0625), scale=(0.9, 1.1)),
            transforms.ColorJitter(0.2, 0.2, 0.2),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ])

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.paths[index]) as image:
            return self.transform(image.convert("RGB")), self.labels[index]


def reference_loop(manifest: Manifest, size: int, batch: int, steps: int, device: torch.device,
                   workers: int = 0, warmup: int = 2) -> float:
    """Images/s of the reference-style loop (float32, PIL decode and transforms every step, in
    ``workers`` DataLoader processes)."""
    model = create("resnet18", 7).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), 1e-4)
    loader = torch.utils.data.DataLoader(PhotoDataset(manifest, size), batch_size=batch, shuffle=True, drop_last=True,
                                         num_workers=workers, persistent_workers=workers > 0,
                                         pin_memory=device.type == "cuda")

    def batches():
        while True:
            yield from loader

    return _timed(batches(), steps, lambda x, y: _step(model, optimizer, x.to(device), y.to(device)), warmup)


def our_loop(manifest: Manifest, size: int, batch: int, steps: int, device: torch.device,
             compile_model: bool = False, warmup: int = 2, bf16: bool = True) -> float:
    """Images/s of maskfer's loop body (cache, batched augmentation, channels_last, bf16 unless ``bf16=False``)."""
    config = override(load_preset("paper"), image_size=size, batch_size=batch)
    method = create_method("baseline-nm", config)
    images = place_images(load_images(manifest, size, face_crop=False), device)
    train = method.training_set(manifest.table)
    model = method.build_model(7).to(device, memory_format=torch.channels_last).train()
    if compile_model:
        compile_trunk(model)
    optimizer, _ = method.configure_optimizers(model)
    generator = torch.Generator().manual_seed(0)

    def batches():
        while True:
            yield method.sample_order(train, 0, generator)[:batch]

    def step(order: np.ndarray, _: object) -> None:
        data = training_batch(train, order, images, method, generator, device, torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = method.training_step(model, data).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return _timed(((order, None) for order in batches()), steps, step, warmup)


def _step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    loss = torch.nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def _timed(batches, steps: int, step, warmup: int = 2) -> float:
    """Run ``warmup`` steps, then time ``steps`` steps; images per second."""
    seen, started = 0, 0.0
    for i, (x, y) in enumerate(batches):
        if i == warmup:
            _sync()
            started, seen = time.perf_counter(), 0
        if i == steps + warmup:
            break
        step(x, y)
        seen += len(x)
    _sync()
    return seen / (time.perf_counter() - started)


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def main() -> None:
    """Print images/s of both loops and their ratio at each size, on each device."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="112,224")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--gpu-steps", type=int, default=30, help="timed steps on a GPU (after 5 warm-up steps)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--photo-side", type=int, default=640, help="side of the JPEG stand-ins")
    parser.add_argument("--devices", default="cpu,cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader processes of the reference loop")
    parser.add_argument("--compile", action="store_true", help="also time maskfer's loop with the trunk compiled")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false",
                        help="maskfer's loop in float32 (CPUs without native bf16 run autocast slower than float32)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["MASKFER_CACHE"] = str(Path(folder) / "cache")
        manifest = write_photos(Path(folder), count=2 * args.batch, side=args.photo_side)
        for device in (torch.device(name) for name in args.devices.split(",")):
            gpu = device.type == "cuda"
            steps, warmup = (args.gpu_steps, 5) if gpu else (args.steps, 2)
            name = torch.cuda.get_device_name(device) if gpu else f"cpu, {torch.get_num_threads()} torch threads"
            print(f"device {device} ({name}), batch {args.batch}, {steps} timed steps after {warmup} warm-up, "
                  f"maskfer {'bf16' if args.bf16 else 'float32'}, "
                  f"{args.photo_side}-px JPEGs, reference DataLoader workers {args.workers}")
            for size in (int(s) for s in args.sizes.split(",")):
                reference = reference_loop(manifest, size, args.batch, steps, device, args.workers, warmup)
                ours = our_loop(manifest, size, args.batch, steps, device, warmup=warmup, bf16=args.bf16)
                line = (f"{device.type:>4} {size:4d} px: reference {reference:8.1f} img/s, maskfer {ours:8.1f} img/s, "
                        f"ratio {ours / reference:5.2f}x")
                if args.compile:
                    compiled = our_loop(manifest, size, args.batch, steps, device, compile_model=True, warmup=warmup,
                                        bf16=args.bf16)
                    line += f", maskfer compiled {compiled:8.1f} img/s"
                print(line, flush=True)


if __name__ == "__main__":
    main()
