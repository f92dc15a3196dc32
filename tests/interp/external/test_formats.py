"""Model formats: ONNX (NCHW, NHWC, fixed batch), TorchScript, state dicts (ours and --arch), factories, errors.

Every loaded model is compared with the torch model it came from on the same preprocessed batch;
the ONNX round trip is also compared on Grad-CAM maps, since the audit explains the converted graph.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from captum.attr import LayerGradCam
from torch import nn

from interp.external import load_model
from interp.external.card import load_card
from interp.external.formats.onnx_graph import OnnxModel
from trainers.common.errors import DataError
from trainers.data.labels import CLASSES
from trainers.models import create

SIZE = 32
CLASS_TEXT = ",".join(CLASSES)
ATOL = 1e-4
"""float32 outputs of a converted graph vs the torch model (measured: about 1e-6 on this CPU)."""


class NhwcNet(nn.Module):
    """A tiny classifier whose input is (N, H, W, C), like a model exported from TensorFlow."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, len(CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nchw(x.permute(0, 3, 1, 2))

    def nchw(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x)).mean(dim=(2, 3)))


class FixedBatchNet(nn.Module):
    """Flattens with the batch size baked in, as many exported graphs do; ends in a softmax."""

    def __init__(self, batch: int) -> None:
        super().__init__()
        self.batch = batch
        self.conv = nn.Conv2d(3, 2, 3, stride=2, padding=1)
        self.head = nn.Linear(2 * (SIZE // 2) ** 2, len(CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x)).reshape(self.batch, -1)).softmax(1)


def tiny_factory() -> nn.Module:
    """``--factory tests.interp.external.test_formats:tiny_factory``."""
    torch.manual_seed(3)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 7))


def not_a_module() -> str:
    return "a model"


def _export(model: nn.Module, sample: torch.Tensor, path: Path, dynamic: bool = True) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (sample,), str(path), dynamo=False, opset_version=17, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}} if dynamic else None)
    return path


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    torch.manual_seed(0)
    model = create("resnet18", len(CLASSES)).eval()
    with torch.no_grad():  # random running statistics, so folding BatchNorm into the convolutions is tested
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
    return model


@pytest.fixture(scope="module")
def resnet_onnx(resnet, tmp_path_factory) -> Path:
    return _export(resnet, torch.zeros(1, 3, SIZE, SIZE), tmp_path_factory.mktemp("onnx") / "resnet.onnx")


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(5, SIZE, SIZE, 3), dtype=np.uint8)


def _outputs(loaded, images: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return loaded.module(loaded.card.preprocess(images))


def test_onnx_export_matches_the_state_dict_on_outputs_and_gradcam(resnet, resnet_onnx, images, tmp_path) -> None:
    onnx_path = resnet_onnx
    weights = tmp_path / "resnet.pt"
    torch.save(resnet.state_dict(), weights)
    from_onnx = load_model(load_card(onnx_path, classes=CLASS_TEXT))
    from_state = load_model(load_card(weights, arch="resnet18", classes=CLASS_TEXT, input_size=SIZE))
    assert (from_onnx.card.format, from_state.card.format) == ("onnx", "state_dict")
    assert from_onnx.card.input_size == SIZE  # read from the ONNX input shape
    batch = from_onnx.card.preprocess(images)
    assert torch.equal(batch, from_state.card.preprocess(images))
    expected = resnet(batch).detach()
    torch.testing.assert_close(_outputs(from_onnx, images), expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(_outputs(from_state, images), expected, atol=0, rtol=0)
    # the last block's output in both graphs: same Grad-CAM maps
    target = expected.argmax(1)
    ours = LayerGradCam(resnet, resnet.get_submodule("backbone.layer4")).attribute(batch, target=target)
    converted = from_onnx.module.get_submodule("graph.layer4/layer4/1/relu_1/Relu")
    theirs = LayerGradCam(from_onnx.module, converted).attribute(batch, target=target)
    assert any(isinstance(m, nn.Conv2d) for m in from_onnx.module.modules())
    torch.testing.assert_close(theirs, ours, atol=1e-4, rtol=1e-3)


def test_our_checkpoint_rebuilds_itself_and_fills_the_card(resnet, images, tmp_path) -> None:
    path = tmp_path / "checkpoint.pt"
    config = {"model": "baseline-nm", "architecture": "resnet18", "num_classes": len(CLASSES),
              "classes": list(CLASSES), "image_size": SIZE,
              "normalisation": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}}
    torch.save({"model": resnet.state_dict(), "epoch": 1, "config": config}, path)
    loaded = load_model(load_card(path))
    assert loaded.card.classes == list(CLASSES) and loaded.card.mean == (0.5, 0.5, 0.5)
    assert loaded.card.input_size == SIZE and loaded.card.outputs == "logits"
    batch = loaded.card.preprocess(images)
    torch.testing.assert_close(_outputs(loaded, images), resnet(batch).detach(), atol=0, rtol=0)


def test_torchscript_loads_hookable_and_equal(images, tmp_path) -> None:
    torch.manual_seed(4)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, len(CLASSES))).eval()
    with torch.no_grad():
        net[1].running_mean.uniform_(-0.2, 0.2)
    path = tmp_path / "scripted.pt"
    torch.jit.script(net).save(str(path))
    loaded = load_model(load_card(path, classes=CLASS_TEXT, input_size=SIZE))
    assert loaded.card.format == "torchscript"
    assert sum(isinstance(m, nn.Conv2d) for m in loaded.module.modules()) == 2  # hookable, not compiled
    batch = loaded.card.preprocess(images)
    torch.testing.assert_close(_outputs(loaded, images), net(batch).detach(), atol=ATOL, rtol=0)
    with pytest.raises(DataError, match="--input-size"):
        load_model(load_card(path, classes=CLASS_TEXT))


def test_nhwc_onnx_is_transposed_inside(images, tmp_path) -> None:
    torch.manual_seed(1)
    net = NhwcNet().eval()
    path = _export(net, torch.zeros(1, SIZE, SIZE, 3), tmp_path / "nhwc.onnx")
    loaded = load_model(load_card(path, classes=CLASS_TEXT))
    assert loaded.module.nhwc and loaded.card.channels == 3 and loaded.card.input_size == SIZE
    batch = loaded.card.preprocess(images)
    torch.testing.assert_close(_outputs(loaded, images), net.nchw(batch).detach(), atol=ATOL, rtol=0)


@pytest.mark.parametrize("fixed", [1, 2])
def test_fixed_batch_onnx_runs_any_batch(images, tmp_path, fixed) -> None:
    torch.manual_seed(2)
    net = FixedBatchNet(fixed).eval()
    path = _export(net, torch.zeros(fixed, 3, SIZE, SIZE), tmp_path / "fixed.onnx", dynamic=False)
    loaded = load_model(load_card(path, classes=CLASS_TEXT))
    assert isinstance(loaded.module, OnnxModel) and loaded.module.fixed_batch == fixed
    assert loaded.card.outputs == "probs"  # the graph ends in Softmax
    batch = loaded.card.preprocess(images)  # 5 images: not a multiple of 2, so the last chunk is padded
    torch.testing.assert_close(_outputs(loaded, images), _one_by_one(net, batch), atol=ATOL, rtol=0)


def _one_by_one(net: FixedBatchNet, batch: torch.Tensor) -> torch.Tensor:
    single = FixedBatchNet(1).eval()
    single.load_state_dict(net.state_dict())
    with torch.no_grad():
        return torch.cat([single(image[None]) for image in batch])


def test_factory_with_and_without_weights(images, tmp_path) -> None:
    spec = f"{__name__}:tiny_factory"
    loaded = load_model(load_card("tiny", factory=spec, classes=CLASS_TEXT, input_size=SIZE))
    assert loaded.card.format == "factory" and loaded.card.model is None
    expected = tiny_factory().eval()(loaded.card.preprocess(images)).detach()
    torch.testing.assert_close(_outputs(loaded, images), expected, atol=0, rtol=0)
    other = tiny_factory()
    with torch.no_grad():
        for parameter in other.parameters():
            parameter.add_(1.0)
    weights = tmp_path / "tiny.pt"
    torch.save(other.state_dict(), weights)
    filled = load_model(load_card(weights, factory=spec, classes=CLASS_TEXT, input_size=SIZE))
    torch.testing.assert_close(_outputs(filled, images), other.eval()(filled.card.preprocess(images)).detach(),
                               atol=0, rtol=0)
    with pytest.raises(DataError, match="not a torch.nn.Module"):
        load_model(load_card("x", factory=f"{__name__}:not_a_module", classes=CLASS_TEXT, input_size=SIZE))
    with pytest.raises(DataError, match="cannot import"):
        load_model(load_card("x", factory="no_such_package.models:net", classes=CLASS_TEXT, input_size=SIZE))


def test_bad_files_and_options_are_data_errors(resnet, resnet_onnx, tmp_path) -> None:
    corrupt = tmp_path / "broken.onnx"
    corrupt.write_bytes(b"\x08\x07not an onnx graph" * 10)
    with pytest.raises(DataError, match="broken.onnx: not a readable ONNX model"):
        load_model(load_card(corrupt, classes=CLASS_TEXT))
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="truncated.pt: not a loadable torch state dict"):
        load_model(load_card(truncated, arch="resnet18", classes=CLASS_TEXT, input_size=SIZE))
    weights = tmp_path / "resnet.pt"
    torch.save(resnet.state_dict(), weights)
    with pytest.raises(DataError, match="--arch NAME"):
        load_model(load_card(weights, classes=CLASS_TEXT, input_size=SIZE))
    with pytest.raises(DataError, match="do not fit --arch resnet18 with 6 classes"):
        load_model(load_card(weights, arch="resnet18", classes=",".join(CLASSES[:6]), input_size=SIZE))
    with pytest.raises(DataError, match="unknown model 'resnet81'"):
        load_model(load_card(weights, arch="resnet81", classes=CLASS_TEXT, input_size=SIZE))
    onnx_path = resnet_onnx
    with pytest.raises(DataError, match="6 classes given .* 7 outputs"):
        load_model(load_card(onnx_path, classes=",".join(CLASSES[:6])))
    grey = load_model(load_card(onnx_path, classes=CLASS_TEXT, colour="grey"))  # luma repeated over 3 channels
    assert grey.card.channels == 3 and grey.card.mean == (0.5, 0.5, 0.5)
    grey_net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 7)).eval()
    one_channel = _export(grey_net, torch.zeros(1, 1, SIZE, SIZE), tmp_path / "grey.onnx")
    with pytest.raises(DataError, match="rgb card needs 3 input channels.*--colour grey"):
        load_model(load_card(one_channel, classes=CLASS_TEXT))
    unknown = tmp_path / "model.xyz"
    unknown.write_bytes(b"x")
    with pytest.raises(DataError, match="unknown model file type.*--format"):
        load_model(load_card(unknown, classes=CLASS_TEXT))


def test_an_input_size_the_model_refuses(tmp_path) -> None:
    net = FixedBatchNet(1).eval()  # its head expects exactly SIZE x SIZE
    path = _export(net, torch.zeros(1, 3, SIZE, SIZE), tmp_path / "fixed.onnx", dynamic=False)
    with pytest.raises(DataError, match=r"fixed.onnx: the model refused a \(2, 3, 40, 40\) input.*--input-size"):
        load_model(load_card(path, classes=CLASS_TEXT, input_size=40))
    scripted = tmp_path / "fixed_ts.pt"
    torch.jit.script(nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(2 * 30 * 30, 7))).save(str(scripted))
    with pytest.raises(DataError, match=r"fixed_ts.pt: .* at \(1, 3, 40, 40\) \(RuntimeError: mat1 and mat2.*--input-size"):
        load_model(load_card(scripted, classes=CLASS_TEXT, input_size=40))


def test_a_graph_onnx2torch_cannot_convert(tmp_path) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["flat"]), helper.make_node("Hardmax", ["flat"], ["y"])], "hard",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 12])])
    path = tmp_path / "hardmax.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(DataError, match="hardmax.onnx: onnx2torch cannot convert.*Hardmax"):
        load_model(load_card(path, classes=CLASS_TEXT, input_size=2))
