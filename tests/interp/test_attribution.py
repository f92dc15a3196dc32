"""Attribution methods on a network whose answer is known, hook safety, batching and determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from interp.attribution import ATTRIBUTIONS, create, to_model_input
from interp.regions import REGION_METRICS

SIZE = 32
HALF = SIZE // 2


class Gate(nn.Module):
    """Keep channel 0 only on the top-left quadrant and channel 1 only on the bottom-right one."""

    def __init__(self) -> None:
        super().__init__()
        masks = torch.zeros(1, 2, SIZE, SIZE)
        masks[0, 0, :HALF, :HALF] = 1.0
        masks[0, 1, HALF:, HALF:] = 1.0
        self.register_buffer("masks", masks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.masks


class TwoRegionNet(nn.Module):
    """Logit 0 reads only the top-left quadrant, logit 1 only the bottom-right one, logit 2 neither."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, kernel_size=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.bn = nn.BatchNorm2d(2)  # identity in eval mode; lets a test see the train flag restored
        self.gate = Gate()
        self.head = nn.Linear(2, 3, bias=False)
        self.gradcam_layer = "gate"
        with torch.no_grad():
            self.conv.weight.fill_(1.0 / 3.0)
            self.head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gated = self.gate(self.bn(self.relu(self.conv(x))))
        return self.head(gated.mean(dim=(2, 3)))


def _images(count: int = 5, seed: int = 0) -> torch.Tensor:
    """Positive noise, brighter on the top-left quadrant, so the predicted class is 0."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.2, 0.6, size=(count, 3, SIZE, SIZE))
    images[:, :, :HALF, :HALF] += 1.0
    return torch.tensor(images, dtype=torch.float32)


def _quadrant(top_left: bool) -> np.ndarray:
    region = np.zeros((SIZE, SIZE), dtype=bool)
    if top_left:
        region[:HALF, :HALF] = True
    else:
        region[HALF:, HALF:] = True
    return region


def _options(name: str) -> dict:
    return {"steps": 4} if name == "integrated_gradients" else {}


def _hook_count(model: nn.Module) -> int:
    names = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
    return sum(len(getattr(module, name)) for module in model.modules() for name in names)


@pytest.mark.parametrize("name", list(ATTRIBUTIONS))
def test_mass_falls_on_the_region_the_logit_reads(name):
    model = TwoRegionNet().eval()
    images = _images()
    fraction = REGION_METRICS["mask_fraction"]
    with create(name, model, batch_size=2, **_options(name)) as method:
        predicted = method.attribute(images, target="pred")
        other = method.attribute(images, target=[1] * len(images))
    np.testing.assert_array_equal(predicted.targets, 0)
    np.testing.assert_array_equal(predicted.preds, 0)
    np.testing.assert_array_equal(other.targets, 1)
    assert predicted.maps.shape == (len(images), SIZE, SIZE)
    exact = name in ("gradcam", "integrated_gradients")  # occlusion windows and guided
    floor = 0.999 if exact else 0.8  # backprop's bilinear CAM can straddle the border
    in_top_left = fraction(predicted.maps, np.stack([_quadrant(True)] * len(images)))
    in_bottom_right = fraction(other.maps, np.stack([_quadrant(False)] * len(images)))
    assert (in_top_left >= floor).all(), in_top_left
    assert (in_bottom_right >= floor).all(), in_bottom_right
    # and the complementary quadrant carries (next to) nothing: the 0.0 case
    assert (fraction(predicted.maps, np.stack([_quadrant(False)] * len(images))) <= 1 - floor).all()


def test_gradcam_of_a_class_the_image_lacks_has_no_positive_mass():
    with create("gradcam", TwoRegionNet().eval()) as method:
        out = method.attribute(_images(2), target=[2, 2])
    np.testing.assert_allclose(out.maps, 0.0, atol=1e-7)
    assert np.isnan(REGION_METRICS["mask_fraction"](out.maps, np.stack([_quadrant(True)] * 2))).all()


@pytest.mark.parametrize("name", list(ATTRIBUTIONS))
def test_hooks_modes_and_flags_restored_even_after_an_error(name):
    model = TwoRegionNet().train()
    model.head.weight.requires_grad_(False)
    model.conv.register_forward_hook(lambda *args: None)  # the user's own hook must survive
    before = _hook_count(model)
    with create(name, model, **_options(name)) as method:
        method.attribute(_images(2))
        model.gate.register_forward_hook(lambda *args: None)  # a leaked hook is cleaned up
        with pytest.raises(RuntimeError):
            method.attribute(torch.zeros(2, 4, SIZE, SIZE))  # wrong channel count fails mid-attribution
    assert _hook_count(model) == before
    assert model.training and model.bn.training
    assert model.conv.weight.requires_grad and not model.head.weight.requires_grad
    assert model.relu.inplace
    with pytest.raises(ValueError):
        with create(name, model, **_options(name)) as method:
            method.attribute(_images(2), target=[0])  # wrong number of targets
    assert _hook_count(model) == before


@pytest.mark.parametrize("name", ["gradcam", "guided_gradcam", "integrated_gradients"])
def test_gradients_are_enabled_under_no_grad_and_results_are_deterministic(name):
    model = TwoRegionNet().eval()
    with create(name, model, **_options(name)) as method:
        free = method.attribute(_images())
        with torch.no_grad():
            inside = method.attribute(_images())
    assert np.abs(free.maps).sum() > 0
    np.testing.assert_array_equal(free.maps, inside.maps)
    np.testing.assert_array_equal(free.logits, inside.logits)


@pytest.mark.parametrize("name", ["gradcam", "integrated_gradients"])
def test_internal_batch_size_splits_work_without_changing_maps(name):
    model = TwoRegionNet().eval()
    seen: list[int] = []
    model.conv.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[0]))
    images = _images(7)
    with create(name, model, batch_size=3, **_options(name)) as method:
        small = method.attribute(images)
    if name == "gradcam":
        assert seen == [3, 3, 1]  # one forward pass per batch, argmax chosen inside it
    assert max(seen) <= 3 * 4  # integrated gradients: internal_batch_size x steps at most
    with create(name, model, batch_size=64, **_options(name)) as method:
        large = method.attribute(images)
    np.testing.assert_allclose(small.maps, large.maps, rtol=1e-5, atol=1e-7)


def test_misuse_is_refused():
    model = TwoRegionNet()
    with pytest.raises(RuntimeError, match="context manager"):
        create("gradcam", model).attribute(_images(1))
    with pytest.raises(ValueError, match="unknown attribution"):
        create("nope", model)
    with pytest.raises(ValueError, match="target"):
        with create("gradcam", model) as method:
            method.attribute(_images(1), target="true")
    with pytest.raises(ValueError, match="target layer"):
        with create("gradcam", nn.Sequential(nn.Flatten(), nn.Linear(3 * SIZE * SIZE, 2))) as method:
            pass


def test_to_model_input_normalises_uint8_images():
    images = np.full((2, 4, 4, 3), 255, dtype=np.uint8)
    tensor = to_model_input(images, mean=[0.5, 0.5, 0.5], std=[0.5, 0.25, 0.5])
    assert tensor.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(tensor[0, :, 0, 0].numpy(), [1.0, 2.0, 1.0])


def test_bf16_autocast_keeps_the_answer():
    images = _images()
    with create("gradcam", TwoRegionNet().eval()) as method:
        exact = method.attribute(images)
    with create("gradcam", TwoRegionNet().eval(), bf16=True) as method:
        fast = method.attribute(images)
    np.testing.assert_array_equal(fast.targets, exact.targets)
    np.testing.assert_allclose(fast.maps, exact.maps, rtol=0.02, atol=1e-3 * np.abs(exact.maps).max())


def test_gradcam_takes_the_deepest_layer_with_a_7x7_map():
    from trainers.models import create as create_model

    model = create_model("resnet18", num_classes=7).eval()
    images = torch.randn(2, 3, 56, 56)
    with create("gradcam", model) as method:
        method.attribute(images)
        assert method.layer_name == "backbone.layer2"  # 7x7 at 56 px; layer3 is 4x4, layer4 2x2
    with create("gradcam", model, min_side=0) as method:
        method.attribute(images)
        assert method.layer_name == "backbone.layer4"
    with create("gradcam", model, layer="backbone.layer3") as method:
        assert method.attribute(images).maps.shape == (2, 56, 56) and method.layer_name == "backbone.layer3"
    with create("gradcam", model) as method:
        method.attribute(torch.randn(1, 3, 224, 224))
        assert method.layer_name == "backbone.layer4"  # 7x7 at 224 px, as in the paper
