"""SCAN + CCI: patch tiling, attention blocks, loss, shapes, parameter counts, training, VGGFace2 pickles."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision

from trainers.config import load_preset, override
from trainers.common.errors import DataError
from trainers.methods import create_method
from trainers.methods.base import TrainingSet
from trainers.models import create
from trainers.models.scan import (
    ComplementaryContext,
    EfficientChannelAttention,
    ScanCciOutput,
    patch_boxes,
    patch_edges,
    scan_cci_loss,
)
from trainers.models.vggface2 import load_vggface2_pickle, torchvision_key
from trainers.models.checkpoint import load_fold_model
from trainers.runner import run_study


def coverage(height: int, width: int) -> np.ndarray:
    counts = np.zeros((height, width), dtype=int)
    for top, bottom, left, right in patch_boxes(height, width):
        counts[top:bottom, left:right] += 1
    return counts


def test_the_25_patches_tile_the_28x28_map_exactly_once() -> None:
    boxes = patch_boxes(28, 28)
    assert len(boxes) == 25
    assert (coverage(28, 28) == 1).all()
    shapes = [(bottom - top, right - left) for top, bottom, left, right in boxes]
    assert shapes == [(6, 6)] * 16 + [(6, 4)] * 4 + [(4, 6)] * 4 + [(4, 4)]
    assert boxes[16:20] == [(0, 6, 24, 28), (6, 12, 24, 28), (12, 18, 24, 28), (18, 24, 24, 28)]
    assert boxes[20] == (24, 28, 0, 6)  # the bottom strip is cut into true 4x6 blocks


@pytest.mark.parametrize("side", range(5, 41))
def test_the_grid_scales_and_still_tiles(side: int) -> None:
    assert len(patch_boxes(side, side)) == 25
    assert (coverage(side, side) == 1).all()


def test_the_grid_halves_at_112_px_and_refuses_tiny_maps() -> None:
    assert patch_edges(14) == [0, 3, 6, 9, 12, 14]
    with pytest.raises(DataError, match="5x5"):
        patch_edges(4)


def test_eca_with_a_zero_kernel_halves_the_input() -> None:
    eca = EfficientChannelAttention(kernel_size=5)
    torch.nn.init.zeros_(eca.conv.weight)
    x = torch.randn(2, 8, 3, 3)
    assert torch.allclose(eca(x), 0.5 * x)


def test_quadrants_tile_an_odd_map_in_reading_order() -> None:
    cci = ComplementaryContext(channels=4, num_classes=3)
    torch.nn.init.zeros_(cci.eca.conv.weight)
    x = torch.zeros(1, 4, 7, 7)
    x[..., :3, :3], x[..., :3, 3:], x[..., 3:, :3], x[..., 3:, 3:] = 1.0, 2.0, 3.0, 4.0
    logits = cci(x)
    assert logits.shape == (1, 4, 3)
    for index, value in enumerate([1.0, 2.0, 3.0, 4.0]):
        assert torch.allclose(logits[0, index], cci.heads[0](torch.full((4,), 0.5 * value)), atol=1e-6)


def test_loss_on_a_hand_made_batch() -> None:
    target = torch.tensor([0, 1])
    uniform = ScanCciOutput(torch.zeros(2, 7), torch.zeros(2, 7), torch.zeros(2, 4, 7), torch.zeros(2, 8),
                            torch.zeros(2, 2, 2))
    terms = scan_cci_loss(uniform, target)
    assert terms["attention"].item() == pytest.approx(math.log(7))
    assert terms["quadrants"].item() == pytest.approx(4 * math.log(7))
    assert terms["total"].item() == pytest.approx(0.2 * math.log(7) + 0.8 * 4 * math.log(7))
    quadrants = torch.zeros(2, 4, 7)
    quadrants[:, 2] = 100.0 * torch.nn.functional.one_hot(target, 7)  # one quadrant certain and right
    terms = scan_cci_loss(ScanCciOutput(torch.zeros(2, 7), torch.zeros(2, 7), quadrants, torch.zeros(2, 8),
                                        torch.zeros(2, 2, 2)), target)
    assert terms["quadrants"].item() == pytest.approx(3 * math.log(7), abs=1e-6)


@pytest.mark.parametrize(("size", "batch"), [(112, 2), (224, 1)])
def test_forward_shapes_and_the_mean_prediction(size: int, batch: int) -> None:
    model = create("scan", 7, shared=True).eval()
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        out = model.run(x)
        layer2, layer3 = model.backbone(x)
    side = size // 8
    assert layer2.shape == (batch, 512, side, side) and layer3.shape == (batch, 1024, side // 2, side // 2)
    assert out.logits.shape == (batch, 7) and out.quadrant_logits.shape == (batch, 4, 7)
    assert out.embedding.shape == (batch, model.embedding_dim) == (batch, 1024)
    assert torch.allclose(out.embedding.norm(dim=1), torch.ones(batch))
    assert out.local_attention.shape == (batch, side, side)
    assert ((out.local_attention > 0) & (out.local_attention < 1)).all()
    expected = (out.attention_logits + out.quadrant_logits.sum(dim=1)) / 5
    assert torch.allclose(out.logits, expected, atol=1e-6)
    with torch.no_grad():
        assert torch.allclose(model(x), out.logits, atol=1e-6)
        assert model.features(x).shape == layer3.shape


def test_separate_units_run_at_112_px_and_tiny_inputs_are_upsampled() -> None:
    model = create("scan", 7).eval()
    assert len(model.head.scan.local_units) == 25
    with torch.no_grad():
        assert model(torch.randn(1, 3, 112, 112)).shape == (1, 7)
        assert model.run(torch.randn(1, 3, 32, 32)).local_attention.shape == (1, 5, 5)
    assert model.get_submodule(model.gradcam_layer) is model.backbone.layer3


def test_parameter_counts() -> None:
    resnet50 = torchvision.models.resnet50()
    trunk = sum(p.numel() for name, p in resnet50.named_parameters() if not name.startswith(("layer4", "fc")))
    unit = 512 * 512 * 9 + 512 + 2 * 512  # conv (no bias), PReLU, BatchNorm
    quadrant_head = (1024 * 256 + 256) + (256 * 7 + 7)
    rest = (1024 * 7 + 7) + 5  # SCAN classifier, ECA kernel

    def count(**options: bool) -> int:
        return sum(p.numel() for p in create("scan", 7, **options).parameters())

    assert count() == trunk + 26 * unit + quadrant_head + rest == 70_196_307
    assert count(shared=True) == trunk + 2 * unit + quadrant_head + rest == 13_536_339
    assert count(shared=True, separate_quadrant_heads=True) == 13_536_339 + 3 * quadrant_head


def test_resnet18_trunk_keeps_the_method_on_narrower_maps() -> None:
    model = create("scan", 7, shared=True, trunk="resnet18").eval()
    x = torch.randn(2, 3, 56, 56)
    with torch.no_grad():
        out = model.run(x)
        layer2, layer3 = model.backbone(x)
    assert layer2.shape == (2, 128, 7, 7) and layer3.shape == (2, 256, 4, 4)
    assert out.embedding.shape == (2, model.embedding_dim) == (2, 256)
    assert out.local_attention.shape == (2, 7, 7) and out.quadrant_logits.shape == (2, 4, 7)
    resnet18 = torchvision.models.resnet18()
    trunk = sum(p.numel() for name, p in resnet18.named_parameters() if not name.startswith(("layer4", "fc")))
    unit = 128 * 128 * 9 + 128 + 2 * 128
    quadrant_head = (256 * 64 + 64) + (64 * 7 + 7)
    rest = (256 * 7 + 7) + 5
    assert sum(p.numel() for p in model.parameters()) == trunk + 2 * unit + quadrant_head + rest
    with pytest.raises(DataError, match="trunk 'vgg'"):
        create("scan", 7, trunk="vgg")
    with pytest.raises(DataError, match=r"\[methods.scan\]: SCAN trunk 'vgg' is not one of resnet50, resnet18"):
        create_method("scan", override(load_preset("smoke"), methods={"scan": {"trunk": "vgg"}}))


def test_a_few_steps_lower_the_loss() -> None:
    torch.manual_seed(0)
    model = create("scan", 3, shared=True).train()
    x = torch.randn(4, 3, 40, 40)
    y = torch.tensor([0, 1, 2, 0])
    x[y == 0, 0] += 2.0
    x[y == 1, 1] += 2.0
    # Adam, as the quick preset trains SCAN from random init (SGD at these rates barely moves it).
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(6):
        terms = scan_cci_loss(model.run(x), y)
        optimizer.zero_grad()
        terms["total"].backward()
        optimizer.step()
        losses.append(terms["total"].item())
    assert losses[-1] < losses[0]


def write_pickle(path: Path, arrays: dict) -> Path:
    with path.open("wb") as handle:
        pickle.dump(arrays, handle, protocol=2)
    return path


@pytest.fixture(scope="module")
def vggface2_like(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    """A pickle shaped like SCAN's: torchvision-named float32 arrays, with some layer4 and fc entries."""
    torch.manual_seed(1)
    state = create("scan", 7, shared=True).backbone.state_dict()
    arrays = {k: v.numpy().copy() for k, v in state.items() if not k.endswith("num_batches_tracked")}
    arrays.update({"layer4.0.conv1.weight": np.ones((512, 1024, 1, 1), np.float32),
                   "layer4.0.bn1.weight": np.ones(512, np.float32), "fc.weight": np.ones((1000, 2048), np.float32),
                   "fc.bias": np.ones(1000, np.float32)})
    return write_pickle(tmp_path_factory.mktemp("vgg") / "resnet50_ft_weight.pkl", arrays), arrays


def test_pickle_needs_trust(vggface2_like: tuple[Path, dict]) -> None:
    path, _ = vggface2_like
    with pytest.raises(DataError, match="--trust-pickle"):
        load_vggface2_pickle(create("scan", 7, shared=True), path)


def test_pickle_loads_layers_1_to_3_and_skips_layer4_and_fc(vggface2_like: tuple[Path, dict]) -> None:
    path, arrays = vggface2_like
    model = create("scan", 7, shared=True)
    report = load_vggface2_pickle(model, path, trust_pickle=True)
    trunk = [k for k in model.backbone.state_dict() if not k.endswith("num_batches_tracked")]
    assert report.matched == len(trunk) and report.missing == 0
    assert report.skipped == sum(1 for k in arrays if k.startswith(("layer4.", "fc.")))
    loaded = model.backbone.state_dict()
    for key in ("conv1.weight", "layer3.5.bn3.running_var", "layer2.0.downsample.0.weight"):
        assert np.array_equal(loaded[key].numpy(), arrays[key])


def test_caffe_names_map_to_torchvision_keys(tmp_path: Path) -> None:
    assert torchvision_key("conv1/7x7_s2/bn.running_mean") == "bn1.running_mean"
    assert torchvision_key("conv2_1_1x1_reduce.weight") == "layer1.0.conv1.weight"
    assert torchvision_key("conv3_2_3x3/bn.weight") == "layer2.1.bn2.weight"
    assert torchvision_key("conv4_1_1x1_proj/bn.bias") == "layer3.0.downsample.1.bias"
    assert torchvision_key("module.layer1.0.conv3.weight") == "layer1.0.conv3.weight"
    model = create("scan", 7, shared=True)
    weight = np.full((64, 64, 1, 1), 0.25, dtype=np.float64)
    path = write_pickle(tmp_path / "caffe.pkl", {"conv2_1_1x1_reduce.weight": weight, "classifier.weight": weight})
    with pytest.raises(DataError, match="fills 1 of the ScanCci backbone's"):
        load_vggface2_pickle(model, path, trust_pickle=True)
    report = load_vggface2_pickle(model, path, trust_pickle=True, partial=True)
    assert (report.matched, report.skipped) == (1, 1)
    assert torch.equal(model.backbone.layer1[0].conv1.weight, torch.full((64, 64, 1, 1), 0.25))


def test_pickle_without_a_match_or_with_code_is_refused(tmp_path: Path) -> None:
    model = create("scan", 7, shared=True)
    path = write_pickle(tmp_path / "other.pkl", {"encoder.weight": np.zeros(3, dtype=np.float32)})
    with pytest.raises(DataError, match="none of its 1 arrays"):
        load_vggface2_pickle(model, path, trust_pickle=True)
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple:
            return (Path.touch, (marker,))

    path = write_pickle(tmp_path / "evil.pkl", {"conv1.weight": Payload()})
    with pytest.raises(DataError, match="not allowed"):
        load_vggface2_pickle(model, path, trust_pickle=True)
    assert not marker.exists()


def test_method_uses_the_scan_optimiser_and_schedule() -> None:
    method = create_method("scan", override(load_preset("paper"), methods={"scan": {"shared": True}}))
    assert method.config.architecture == "scan" and method.config.weights is None
    model = method.build_model(7)
    optimizer, scheduler = method.configure_optimizers(model)
    assert isinstance(optimizer, torch.optim.SGD)
    assert [(g["name"], g["lr"]) for g in optimizer.param_groups] == [("backbone", 1e-4), ("head", 1e-2)]
    assert all(g["momentum"] == 0.9 and g["weight_decay"] == 1e-3 for g in optimizer.param_groups)
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(model.parameters()))
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[1]["lr"] == pytest.approx(1e-2 * 0.95)


def test_class_balanced_sampler_evens_out_the_classes() -> None:
    method = create_method("scan", load_preset("smoke"))
    labels = np.array([0] * 90 + [1] * 9 + [2] * 1)
    train = TrainingSet(np.arange(100)[:, None], labels, ("image",))
    order = method.sample_order(train, 0, torch.Generator().manual_seed(0))
    counts = np.bincount(labels[order], minlength=3)
    assert len(order) == 100 and counts.min() > 20
    method = create_method("scan", override(load_preset("smoke"), methods={"scan": {"balanced": False}}))
    assert sorted(method.sample_order(train, 0, torch.Generator().manual_seed(0))) == list(range(100))


def test_method_loads_a_pickle_only_when_trusted(vggface2_like: tuple[Path, dict]) -> None:
    path, arrays = vggface2_like
    options = {"shared": True, "weights": str(path)}
    smoke = load_preset("smoke")
    with pytest.raises(DataError, match="--trust-pickle"):
        create_method("scan", override(smoke, methods={"scan": options})).build_model(7)
    with pytest.raises(DataError, match="holds a ResNet-50"):
        create_method("scan", override(smoke, methods={"scan": {**options, "trunk": "resnet18"}})).build_model(7)
    trusted = create_method("scan", override(smoke, methods={"scan": {**options, "trust_pickle": True}}))
    model = trusted.build_model(7)
    assert torch.equal(model.backbone.conv1.weight, torch.from_numpy(arrays["conv1.weight"]))


@pytest.mark.slow
def test_scan_trains_through_the_runner_and_saves_attention(tiny_manifest: Path, tmp_path: Path) -> None:
    config = override(load_preset("smoke"), folds=[0], epochs=1, methods={"scan": {"shared": True}})
    out = tmp_path / "run"
    run_study(tiny_manifest, config, "smoke", ["scan"], out, device="cpu")
    fold = out / "scan" / "fold-0"
    predictions = pd.read_csv(fold / "predictions.csv")
    attention = np.load(fold / "attention.npy")
    assert attention.shape == (len(predictions), 5, 5)  # 32-px images run at 40 px: a 5x5 layer2 map
    assert ((attention > 0) & (attention < 1)).all()
    assert np.load(fold / "embeddings.npy").shape == (len(predictions), 1024)
    history = pd.read_csv(fold / "history.csv")
    assert {"loss_attention", "loss_quadrants", "lr_backbone", "lr_head"} <= set(history.columns)
    model, fold_config = load_fold_model(fold)
    assert fold_config["architecture"] == "scan" and len(model.head.scan.local_units) == 1
