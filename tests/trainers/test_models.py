"""Every registered model honours the interface that methods and interp rely on."""

from __future__ import annotations

import pytest
import torch

from trainers.common.errors import DataError
from trainers.models import MODELS, create


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_interface(name: str) -> None:
    torch.manual_seed(0)
    model = create(name, num_classes=7).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        features, embedding, logits = model.features(x), model.embed(x), model(x)
    assert features.ndim == 4 and features.shape[0] == 2
    assert embedding.shape == (2, model.embedding_dim)
    assert logits.shape == (2, 7)
    assert isinstance(model.get_submodule(model.gradcam_layer), torch.nn.Module)
    assert isinstance(model.backbone, torch.nn.Module) and isinstance(model.head, torch.nn.Module)


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "mobilenet_v2"])
def test_torchvision_logits_are_the_head_over_the_embedding(name: str) -> None:
    # Method.predict's default and the CL/KD losses rely on this.
    model = create(name, num_classes=7).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        pooled = torch.nn.functional.adaptive_avg_pool2d(model.features(x), 1).flatten(1)
        assert torch.allclose(model.embed(x), pooled, atol=1e-5)
        assert torch.allclose(model.head(model.embed(x)), model(x), atol=1e-5)
        assert pooled.shape[1] == model.embedding_dim


def test_unknown_model_is_a_data_error() -> None:
    with pytest.raises(DataError, match="resnet18"):
        create("resnet19", num_classes=7)


def test_normalised_classifier_input_pools_the_l2_normalised_map() -> None:
    torch.manual_seed(0)
    raw = create("resnet18", num_classes=7).eval()
    normalised = create("resnet18", num_classes=7, classifier_input="normalised").eval()
    normalised.load_state_dict(raw.state_dict())
    x = torch.randn(2, 3, 64, 64)
    features = raw.features(x)
    expected = torch.nn.functional.normalize(features, dim=1).mean(dim=(2, 3))
    assert torch.allclose(normalised.embed(x), expected, atol=1e-6)
    assert torch.allclose(raw.embed(x), features.mean(dim=(2, 3)), atol=1e-6)
    assert float(normalised.embed(x).norm(dim=1).max()) <= 1.0 + 1e-6
    with pytest.raises(DataError, match="classifier_input 'softmax'"):
        create("resnet18", num_classes=7, classifier_input="softmax")
