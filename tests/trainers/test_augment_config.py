"""Pair-consistent augmentation, normalisation and config presets."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from trainers.augment import augment_views, normalise
from trainers.config import AugmentConfig, config_differences, from_dict, load_preset, override, preset_names, to_dict
from trainers.common.errors import DataError

IDENTITY = AugmentConfig(flip=0, shift=0, scale=0, rotate=0, brightness=0, contrast=0, saturation=0)


def test_views_of_a_sample_get_the_same_augmentation() -> None:
    image = torch.rand(6, 1, 3, 24, 24)
    out = augment_views(torch.cat([image, image], 1), AugmentConfig(), torch.Generator().manual_seed(0))
    assert torch.equal(out[:, 0], out[:, 1])
    assert not torch.allclose(out[:, 0], image[:, 0], atol=1e-3)
    assert out.min() >= 0 and out.max() <= 1


def test_samples_get_different_augmentations() -> None:
    image = torch.rand(1, 1, 3, 24, 24).expand(4, 1, 3, 24, 24)
    out = augment_views(image, AugmentConfig(), torch.Generator().manual_seed(0))
    assert not torch.allclose(out[0], out[1])


def test_identity_and_flip() -> None:
    image = torch.rand(3, 2, 3, 16, 16)
    same = augment_views(image, IDENTITY, torch.Generator().manual_seed(0))
    assert torch.allclose(same, image, atol=1e-5)
    flipped = augment_views(image, dataclasses.replace(IDENTITY, flip=1.0), torch.Generator().manual_seed(0))
    assert torch.allclose(flipped, image.flip(-1), atol=1e-5)


def test_same_seed_same_augmentation() -> None:
    image = torch.rand(4, 1, 3, 16, 16)
    a = augment_views(image, AugmentConfig(), torch.Generator().manual_seed(5))
    b = augment_views(image, AugmentConfig(), torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_imagenet_normalisation() -> None:
    grey = torch.full((1, 3, 2, 2), 0.485)
    assert normalise(grey)[0, 0].abs().max() < 1e-6


def test_presets_load() -> None:
    assert {"paper", "quick", "smoke"} <= set(preset_names())
    paper = load_preset("paper")
    assert (paper.k, paper.epochs, paper.image_size, paper.batch_size) == (10, 25, 224, 32)
    assert (paper.optim.lr_backbone, paper.optim.lr_head) == (1e-4, 1e-3)
    assert paper.optim.milestones == [8, 14, 20, 25]
    assert paper.methods["cl"]["feature_weight"] == 0.2 and paper.methods["kd"]["feature_weight"] == 100.0
    quick = load_preset("quick")
    assert quick.folds is not None and all(0 <= f < quick.k for f in quick.folds)


def test_config_round_trip_and_overrides() -> None:
    config = load_preset("smoke")
    assert from_dict(to_dict(config)) == config
    changed = override(config, epochs=7, seed=None)
    assert changed.epochs == 7 and changed.seed == config.seed
    assert config_differences(to_dict(config), to_dict(changed)) == [f"epochs: {config.epochs} -> 7"]
    with pytest.raises(DataError, match="unknown"):
        override(config, epoch=3)
    with pytest.raises(DataError, match="preset"):
        load_preset("nonexistent")
