"""Learnability of the demo dataset: is it about as hard as MSD-E?

A small CNN is trained on non-masked images (``--train m``: masked, ``mix``: all) with
subject-disjoint folds (GroupKFold on subject) and evaluated on the held-out subjects'
non-masked and masked images. The demo is calibrated so
that non-masked accuracy lands in 55-85%, masked accuracy at least 10 points lower, and the
masked confusions concentrate on fear<->surprise and disgust<->angry (the pairs MSD-E reports).

Run: ``.venv/bin/python -m benchmarks.demo_learnability [--data DIR | --subjects 142] [--train nm]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from sklearn.model_selection import GroupKFold
from torch import nn
from tqdm import tqdm

from trainers.data.demo import generate_demo
from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest

CONFUSION_PAIRS = (("fear", "surprise"), ("disgust", "angry"))


class SmallCNN(nn.Module):
    """Four conv blocks (conv-BN-ReLU-pool), global average pooling, dropout, linear head."""

    def __init__(self, num_classes: int = len(CLASSES), width: int = 16) -> None:
        super().__init__()
        layers, channels = [], 3
        for out in (width, 2 * width, 4 * width, 4 * width):
            layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(channels, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def load_images(manifest: Manifest, size: int) -> torch.Tensor:
    """All images resized to ``size``, float in [0, 1], NCHW channels-last."""
    pixels = np.stack([
        np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.Resampling.BOX))
        for path in tqdm(manifest.abspaths(), desc="load", unit="image")
    ])
    tensor = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div(255.0)
    return tensor.contiguous(memory_format=torch.channels_last)


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and a shift of up to 4 pixels."""
    flip = torch.rand(len(batch), generator=generator) < 0.5
    batch = torch.where(flip[:, None, None, None], batch.flip(3), batch)
    dx, dy = (int(v) for v in torch.randint(-4, 5, (2,), generator=generator))
    return torch.roll(batch, shifts=(dy, dx), dims=(2, 3))


def train_fold(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> nn.Module:
    """Train the small CNN with AdamW, a cosine schedule and bf16 autocast."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = SmallCNN().to(memory_format=torch.channels_last)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=5e-4)
    steps = epochs * ((len(x) + 63) // 64)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), 64):
            index = order[start:start + 64]
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = loss_fn(model(augment(x[index], generator)), y[index])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Predicted class indices."""
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return torch.cat([model(x[i:i + 256]).argmax(1) for i in range(0, len(x), 256)]).numpy()


def confusion_report(table: pd.DataFrame) -> pd.DataFrame:
    """Symmetric off-diagonal confusion counts per class pair, largest first, with their share of errors."""
    errors = table[table["label"] != table["pred"]]
    pairs = errors.apply(lambda r: " <-> ".join(sorted((r["label"], r["pred"]))), axis=1)
    counts = pairs.value_counts().rename("errors").to_frame()
    counts["share"] = (counts["errors"] / max(len(errors), 1)).round(3)
    return counts


def run(manifest: Manifest, size: int, folds: int, epochs: int, train_on: str, seed: int) -> pd.DataFrame:
    """Cross-validate; return one row per image with the held-out prediction."""
    table = manifest.table
    x = load_images(manifest, size)
    y = torch.tensor([CLASSES.index(label) for label in table["label"]])
    predictions = np.full(len(table), -1)
    splitter = GroupKFold(n_splits=folds)
    for fold, (train, held) in enumerate(splitter.split(table, groups=table["subject"])):
        if train_on != "mix":
            train = train[table["masked"].to_numpy()[train] == (train_on == "m")]
        started = time.perf_counter()
        model = train_fold(x[train], y[train], epochs, seed + fold)
        predictions[held] = predict(model, x[held])
        held_table = table.iloc[held]
        acc = (predictions[held] == y[held].numpy())
        print(f"fold {fold}: train {len(train)} images, {time.perf_counter() - started:.0f}s, "
              f"NM {acc[~held_table['masked'].to_numpy()].mean():.3f} M {acc[held_table['masked'].to_numpy()].mean():.3f}",
              flush=True)
    return table.assign(pred=[CLASSES[i] for i in predictions])


def summarise(result: pd.DataFrame) -> None:
    """Print accuracies, per-class recall and the top confusion pairs for NM and M."""
    for name, subset in (("non-masked", result[~result["masked"]]), ("masked", result[result["masked"]])):
        accuracy = (subset["label"] == subset["pred"]).mean()
        recall = subset.assign(ok=subset["label"] == subset["pred"]).groupby("label")["ok"].mean().reindex(CLASSES)
        report = confusion_report(subset)
        focus = sum(report["share"].get(" <-> ".join(sorted(p)), 0.0) for p in CONFUSION_PAIRS)
        print(f"\n{name}: accuracy {accuracy:.3f} over {len(subset)} images")
        print("recall: " + ", ".join(f"{c} {v:.2f}" for c, v in recall.items()))
        print(f"share of errors on fear<->surprise + disgust<->angry: {focus:.3f}")
        print(report.head(6).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="an existing demo dataset folder (default: generate one)")
    parser.add_argument("--subjects", type=int, default=142)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64, help="training resolution")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--train", choices=("nm", "m", "mix"), default="nm",
                        help="train on the non-masked (default), the masked or all images")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.data
        if folder is None:
            folder = Path(scratch) / "demo"
            generate_demo(folder, subjects=args.subjects, seed=args.seed)
        manifest = Manifest.load(folder / "manifest.csv")
        started = time.perf_counter()
        result = run(manifest, args.size, args.folds, args.epochs, args.train, args.seed)
    print(f"\n{args.folds}-fold subject-disjoint CV, {args.size} px, {args.epochs} epochs, trained on {args.train}, "
          f"{time.perf_counter() - started:.0f}s")
    summarise(result)


if __name__ == "__main__":
    main()
