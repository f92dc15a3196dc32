"""A tiny paired dataset for the trainer tests: 32-px PNGs whose colour pattern depends on the class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest


def class_image(label: int, subject: int, masked: bool, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """Noise plus a bright block whose position encodes the class; masked images hide the lower half."""
    image = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
    image[..., subject % 3] += 40
    row, col = divmod(label, 4)
    q = size // 4
    image[row * q:(row + 1) * q + q // 2, col * q:(col + 1) * q, label % 3] = 230
    if masked:
        image[size // 2 + 2:, 4:-4] = (150, 200, 235)
    return image


def write_dataset(root: Path, subjects: int = 6, poses: int = 1, seed: int = 0) -> Path:
    """``subjects`` x 7 classes x ``poses`` pairs (non-masked + masked) as PNGs; returns the manifest path."""
    rng = np.random.default_rng(seed)
    rows = []
    for subject in range(subjects):
        for label, name in enumerate(CLASSES):
            for pose in range(poses):
                pair = f"s{subject}-{name}-{pose}"
                for masked in (False, True):
                    image_id = f"{pair}-{'m' if masked else 'nm'}"
                    path = Path("images") / f"{image_id}.png"
                    (root / path).parent.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(class_image(label, subject, masked, rng)).save(root / path)
                    rows.append({"image_id": image_id, "path": path.as_posix(), "subject": f"s{subject}",
                                 "label": name, "masked": masked, "pair_id": pair, "source": "test"})
    target = root / "manifest.csv"
    Manifest(pd.DataFrame(rows), root).save(target)
    return target


@pytest.fixture(scope="session")
def tiny_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-subject paired dataset (84 images), shared by the tests of a session."""
    return write_dataset(tmp_path_factory.mktemp("tiny-data"))


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the image cache out of the home folder."""
    monkeypatch.setenv("MASKFER_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
