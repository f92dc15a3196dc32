"""Faithfulness with known answers: ROAD imputation, deletion/insertion curves, region occlusion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from interp.faithfulness import control_region, deletion_insertion, noisy_linear_imputation, region_occlusion

SIZE = 16
HALF = SIZE // 2


class LowerHalfNet(nn.Module):
    """Logit 0 is 4 x the mean of channel 0 over the lower half; logit 1 is 0: only the lower half matters."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lower = x[:, 0, HALF:, :].mean(dim=(1, 2))
        return torch.stack([4.0 * lower, torch.zeros_like(lower)], dim=1)


def _images(count: int = 4, seed: int = 0) -> torch.Tensor:
    """Dark upper half (0), bright lower half (1), a little texture."""
    rng = np.random.default_rng(seed)
    images = rng.normal(0.0, 0.05, size=(count, 3, SIZE, SIZE))
    images[:, :, HALF:, :] += 1.0
    return torch.tensor(images, dtype=torch.float32)


def _halves(count: int) -> tuple[np.ndarray, np.ndarray]:
    upper = np.zeros((count, SIZE, SIZE), dtype=bool)
    upper[:, :HALF] = True
    return upper, ~upper


def test_imputation_fills_a_hole_from_its_neighbours_not_the_mean():
    image = torch.full((1, 3, 9, 9), 5.0)
    image[0, :, 0, :] = -40.0  # far from the hole; pulls the image mean down to 0.0
    hole = torch.zeros(1, 9, 9, dtype=torch.bool)
    hole[0, 4:7, 3:6] = True
    filled = noisy_linear_imputation(image, hole, noise=0.0)
    assert float(image.mean()) == pytest.approx(0.0)
    np.testing.assert_allclose(filled[0, :, 4:7, 3:6].numpy(), 5.0, atol=0.05)  # the neighbours' 5, not the mean 0
    assert torch.equal(filled[~hole[:, None].expand_as(filled)], image[~hole[:, None].expand_as(image)])


def test_imputation_continues_a_linear_ramp_and_its_noise_is_seeded():
    ramp = torch.arange(9.0).repeat(1, 2, 9, 1)  # value = column
    hole = torch.zeros(1, 9, 9, dtype=torch.bool)
    hole[0, 2:7, 2:7] = True
    filled = noisy_linear_imputation(ramp, hole, noise=0.0)
    np.testing.assert_allclose(filled.numpy(), ramp.numpy(), atol=0.02)
    noisy = [noisy_linear_imputation(ramp, hole, generator=torch.Generator().manual_seed(3)) for _ in range(2)]
    assert torch.equal(noisy[0], noisy[1]) and not torch.equal(noisy[0], filled)
    assert float((noisy[0] - filled)[0, :, 2:7, 2:7].std()) == pytest.approx(0.01, rel=0.5)


def test_nothing_kept_gives_the_mean_colour():
    filled = noisy_linear_imputation(torch.randn(2, 3, 8, 8), torch.ones(2, 8, 8, dtype=torch.bool), noise=0.0)
    np.testing.assert_allclose(filled.numpy(), 0.0, atol=1e-6)


def test_deletion_auc_is_lower_when_the_used_pixels_come_first():
    images = _images()
    upper, lower = _halves(len(images))
    targets = np.zeros(len(images), dtype=int)
    right = deletion_insertion(LowerHalfNet(), images, lower.astype(float), targets, steps=8)
    reverse = deletion_insertion(LowerHalfNet(), images, upper.astype(float), targets, steps=8)
    assert (right.auc_deletion < reverse.auc_deletion - 0.1).all()
    assert (right.auc_insertion > reverse.auc_insertion + 0.1).all()
    np.testing.assert_allclose(right.deletion[:, 0], right.insertion[:, -1])  # both ends are the original image
    assert right.fractions.tolist() == pytest.approx(np.linspace(0, 1, 9).tolist())


def test_lower_face_occlusion_drops_the_probability_and_upper_face_does_not():
    images = _images()
    upper, lower = _halves(len(images))
    face = np.ones_like(upper)
    targets = np.zeros(len(images), dtype=int)
    frame = region_occlusion(LowerHalfNet(), images, targets, {"upper": upper, "lower": lower}, face, repeats=2)
    assert (frame["p_target"] > 0.97).all()
    assert (frame["drop_lower"] > 0.4).all()                       # 0.98 -> about 0.5: the lower half became dark
    np.testing.assert_allclose(frame["drop_upper"], 0.0, atol=1e-6)  # the model never reads the upper half
    assert (frame["drop_lower"] > frame["drop_lower_control"]).all()
    np.testing.assert_allclose(frame["area_upper"], 0.5)


def test_control_region_has_the_area_and_lies_on_the_face():
    rng = np.random.default_rng(0)
    face = np.zeros((20, 20), dtype=bool)
    face[4:16, 5:15] = True
    region = np.zeros_like(face)
    region[0:3, 0:10] = True  # 30 pixels, partly off the face
    for _ in range(5):
        control = control_region(region, face, rng)
        assert control.sum() == 30 and not (control & ~face).any()
    assert control_region(np.zeros_like(face), face, rng) is None
    assert control_region(np.ones_like(face), face, rng) is None  # larger than the face
