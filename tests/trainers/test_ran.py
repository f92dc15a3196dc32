"""RAN: crops, attention arithmetic, the region-biased loss, shapes, parameter counts, training."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from torch.nn import functional as F

from trainers.config import load_preset, override
from trainers.common.errors import DataError
from trainers.methods import create_method
from trainers.methods.base import subset_images
from trainers.methods.ran import decay_milestones
from trainers.models import create
from trainers.models.ran import (
    CROPS,
    RanOutput,
    RegionAttentionHead,
    RegionAttentionNetwork,
    crop_batch,
    crop_boxes,
    ran_loss,
    region_biased_loss,
)
from trainers.models.checkpoint import load_fold_model
from trainers.runner import run_study


def test_crop_boxes_at_224_follow_the_paper_fractions() -> None:
    assert [c.name for c in CROPS] == ["whole", "top_left", "top_right", "centre_down", "centre_90", "centre_85"]
    assert crop_boxes(224, 224) == [
        (0, 224, 0, 224),
        (0, 168, 0, 168),  # y 0-0.75, x 0-0.75
        (0, 168, 56, 224),  # y 0-0.75, x 0.25-1
        (56, 224, 28, 196),  # y 0.25-1, x 0.125-0.875
        (11, 213, 11, 213),  # 0.05-0.95 of 224 = 11.2-212.8
        (17, 207, 17, 207),  # 0.075-0.925 of 224 = 16.8-207.2
    ]


def test_crop_batch_cuts_each_box_and_resizes_back() -> None:
    size = 64
    columns = torch.arange(size, dtype=torch.float32).expand(size, size)
    rows = columns.T
    images = torch.stack([columns, rows, torch.zeros(size, size)]).unsqueeze(0).repeat(2, 1, 1, 1)
    crops = crop_batch(images)
    assert crops.shape == (6 * 2, 3, size, size)
    assert torch.equal(crops[0:2], images)  # the whole image is not resampled
    for k, (top, bottom, left, right) in enumerate(crop_boxes(size, size)):
        crop = crops[2 * k]
        # bilinear resampling stays inside the box's pixel range
        assert left <= crop[0].min() and crop[0].max() <= right - 1
        assert top <= crop[1].min() and crop[1].max() <= bottom - 1
        assert crop[0].max() - crop[0].min() > 0.9 * (right - left - 1)


def test_attention_head_matches_a_hand_computation() -> None:
    torch.manual_seed(0)
    head = RegionAttentionHead(feature_dim=3, num_classes=2)
    features = torch.randn(1, 6, 3)
    out = head(features)
    f = features[0]
    alpha = [torch.sigmoid(head.self_attention.weight[0] @ f[i] + head.self_attention.bias[0]) for i in range(6)]
    mean = sum(a * f[i] for i, a in enumerate(alpha)) / sum(alpha)
    paired = [torch.cat([f[i], mean]) for i in range(6)]
    beta = [torch.sigmoid(head.relation_attention.weight[0] @ p + head.relation_attention.bias[0]) for p in paired]
    attended = sum(a * b * p for a, b, p in zip(alpha, beta, paired)) / sum(a * b for a, b in zip(alpha, beta))
    assert torch.allclose(out.alpha[0], torch.stack(alpha), atol=1e-6)
    assert torch.allclose(out.beta[0], torch.stack(beta), atol=1e-6)
    assert torch.allclose(out.attended[0], attended, atol=1e-6)
    assert torch.allclose(out.logits[0], head.classifier(attended), atol=1e-6)


def test_equal_attention_gives_plain_means() -> None:
    head = RegionAttentionHead(feature_dim=2, num_classes=3)
    for layer in (head.self_attention, head.relation_attention):
        torch.nn.init.zeros_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    features = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 0.0], [0.0, 0.0], [1.0, 1.0], [2.0, 5.0]]])
    out = head(features)
    assert torch.allclose(out.alpha, torch.full((1, 6), 0.5))
    mean = features.mean(dim=1)
    assert torch.allclose(out.attended, torch.cat([mean, mean], dim=1))


def test_region_biased_loss_on_a_hand_made_batch() -> None:
    alpha = torch.tensor([
        [0.5, 0.7, 0.2, 0.1, 0.3, 0.4],  # best crop leads by 0.2 >= margin: 0
        [0.6, 0.65, 0.1, 0.1, 0.1, 0.1],  # leads by 0.05: 0.05
        [0.9, 0.3, 0.2, 0.2, 0.1, 0.1],  # whole image on top by 0.6: 0.7
    ])
    assert region_biased_loss(alpha).item() == pytest.approx((0.0 + 0.05 + 0.7) / 3)
    alpha.requires_grad_(True)
    region_biased_loss(alpha[2:]).backward()
    assert alpha.grad[2, 0] > 0 and alpha.grad[2, 1] < 0  # pushes the whole image down, the best crop up


def test_ran_loss_is_cross_entropy_plus_region_bias() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    target = torch.tensor([0, 2])
    alpha = torch.tensor([[0.9, 0.3, 0.2, 0.2, 0.1, 0.1], [0.2, 0.5, 0.2, 0.2, 0.1, 0.1]])
    out = RanOutput(logits, alpha, torch.ones_like(alpha), torch.zeros(2, 4))
    terms = ran_loss(out, target)
    ce = (-math.log(math.exp(2) / (math.exp(2) + 1 + math.exp(-1))) - math.log(1 / (2 + math.e))) / 2
    assert terms["ce"].item() == pytest.approx(ce, rel=1e-6)
    assert terms["region_bias"].item() == pytest.approx(0.7 / 2)
    assert terms["total"].item() == pytest.approx(ce + 0.35, rel=1e-6)


@pytest.mark.parametrize("size", [112, 224])
def test_forward_shapes(size: int) -> None:
    model = create("ran", 7).eval()
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        out = model.run(x)
        assert model.features(x).shape == (1, 512, math.ceil(size / 32), math.ceil(size / 32))
    assert out.logits.shape == (1, 7) and out.alpha.shape == (1, 6) and out.beta.shape == (1, 6)
    assert out.attended.shape == (1, model.embedding_dim) == (1, 1024)
    assert ((out.alpha > 0) & (out.alpha < 1)).all()
    with torch.no_grad():
        assert torch.allclose(model(x), out.logits) and torch.allclose(model.embed(x), out.attended)


def test_parameters_are_the_trunk_plus_a_small_head() -> None:
    model = create("ran", 7)
    trunk = sum(p.numel() for p in torchvision.models.resnet18().parameters()) - (512 * 1000 + 1000)
    head = (512 + 1) + (1024 + 1) + (1024 * 7 + 7)
    assert sum(p.numel() for p in model.backbone.parameters()) == trunk
    assert sum(p.numel() for p in model.head.parameters()) == head == 8713
    assert sum(p.numel() for p in model.parameters()) == 11_185_225
    assert create("ran", 7, backbone="resnet50").embedding_dim == 4096
    with pytest.raises(DataError, match="resnet34"):
        create("ran", 7, backbone="resnet34")


def test_gradcam_layer_sees_the_whole_image_map_once() -> None:
    model = create("ran", 7).eval()
    seen = []
    layer = model.get_submodule(model.gradcam_layer)
    handle = layer.register_forward_hook(lambda module, args, output: seen.append(output))
    x = torch.randn(2, 3, 64, 64)
    try:
        logits = model(x)
    finally:
        handle.remove()
    assert len(seen) == 1 and seen[0].shape == (2, 512, 2, 2)
    gradient = torch.autograd.grad(logits[:, 0].sum(), seen[0])[0]
    assert gradient.abs().sum() > 0
    assert torch.allclose(model.features(x), seen[0])


def test_a_few_steps_lower_the_loss() -> None:
    torch.manual_seed(0)
    model = create("ran", 3).train()
    x = torch.randn(6, 3, 32, 32)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    x[y == 0, 0] += 2.0
    x[y == 1, 1] += 2.0
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = []
    for _ in range(6):
        terms = ran_loss(model.run(x), y)
        optimizer.zero_grad()
        terms["total"].backward()
        optimizer.step()
        losses.append(terms["total"].item())
    assert losses[-1] < losses[0]
    assert F.cross_entropy(model.eval()(x), y).item() < losses[0]


def test_method_uses_the_ran_optimiser_and_schedule() -> None:
    method = create_method("ran", override(load_preset("paper"), epochs=25))
    assert method.config.architecture == "ran" and method.architecture_options() == {"backbone": "resnet50"}  # paper preset: MSD-E ran RAN on ResNet-50
    model = method.build_model(7)
    optimizer, scheduler = method.configure_optimizers(model)
    assert isinstance(optimizer, torch.optim.SGD)
    assert [g["name"] for g in optimizer.param_groups] == ["backbone", "head"]
    assert all(g["momentum"] == 0.9 and g["weight_decay"] == 1e-4 for g in optimizer.param_groups)
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(model.parameters()))
    assert sorted(scheduler.milestones) == [8, 13, 20]  # 30/50/80% of 25 epochs
    assert decay_milestones(10, [0.3, 0.5, 0.8]) == [3, 5, 8]


def test_method_options_override_the_study(tmp_path: Path) -> None:
    config = override(load_preset("smoke"), weights=str(tmp_path / "study.pth"),
                      methods={"ran": {"epochs": 5, "batch_size": 4, "weights": "none", "backbone": "resnet50"}})
    method = create_method("ran", config)
    assert (method.config.epochs, method.config.batch_size, method.config.weights) == (5, 4, None)
    assert create_method("ran", override(config, methods={})).config.weights == str(tmp_path / "study.pth")
    with pytest.raises(DataError, match="subset"):
        create_method("ran", override(config, methods={"ran": {"subset": "everything"}}))


def test_pe_subset_trains_on_both_images_of_each_pair() -> None:
    table = pd.DataFrame({"image_id": ["a", "b", "c", "d", "e"], "label": ["happy", "happy", "sad", "sad", "fear"],
                          "masked": [False, True, False, True, False], "pair_id": ["p", "p", "q", "q", ""]})
    train = subset_images(table, "pe")
    assert sorted(train.rows[:, 0]) == [0, 1, 2, 3]
    assert sorted(train.labels) == [3, 3, 4, 4]
    assert len(subset_images(table, "mix")) == 5 and len(subset_images(table, "m")) == 2


def test_ran_trains_through_the_runner_and_saves_attention(tiny_manifest: Path, tmp_path: Path) -> None:
    config = override(load_preset("smoke"), folds=[0], epochs=1)
    out = tmp_path / "run"
    run_study(tiny_manifest, config, "smoke", ["ran"], out, device="cpu")
    fold = out / "ran" / "fold-0"
    predictions = pd.read_csv(fold / "predictions.csv")
    attention = pd.read_csv(fold / "attention.csv")
    assert list(attention["image_id"]) == list(predictions["image_id"])
    assert list(attention.columns[1:]) == [f"{k}_{c.name}" for k in ("alpha", "beta") for c in CROPS]
    values = attention.iloc[:, 1:].to_numpy()
    assert ((values > 0) & (values < 1)).all()
    assert np.load(fold / "embeddings.npy").shape == (len(predictions), 1024)
    history = pd.read_csv(fold / "history.csv")
    assert {"loss_ce", "loss_region_bias"} <= set(history.columns)
    model, fold_config = load_fold_model(fold)
    assert isinstance(model, RegionAttentionNetwork) and fold_config["architecture"] == "ran"
