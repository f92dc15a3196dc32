"""Model registry: ``create(name, num_classes, weights=None)`` builds any registered network.

Every module in this package that defines models registers them with :func:`register_model`;
they are imported here, so adding a model is one new file. A registered factory takes
``num_classes`` (and optional keyword options) and returns an ``nn.Module`` with:

- ``features(x)``: the last convolutional map, ``(B, C, h, w)``;
- ``embed(x)``: the pooled penultimate vector, ``(B, embedding_dim)``;
- ``forward(x)``: logits, ``(B, num_classes)``;
- ``gradcam_layer``: dotted name of the Grad-CAM target (``model.get_submodule(name)``);
- ``embedding_dim``: length of ``embed``'s vectors;
- ``backbone`` and ``head`` submodules: ``weights`` load into ``backbone``, and training methods
  give ``head`` its own learning rate.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from pathlib import Path

from torch import nn

from trainers.errors import DataError

log = logging.getLogger(__name__)

MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator that adds a model factory to :data:`MODELS` under ``name``."""

    def decorator(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        MODELS[name] = factory
        return factory

    return decorator


def create(name: str, num_classes: int, weights: str | Path | None = None, **options: object) -> nn.Module:
    """Build the registered model ``name`` and optionally load backbone weights.

    Parameters
    ----------
    name
        A key of :data:`MODELS` (``resnet18``, ``resnet50``, ``mobilenet_v2``, ...).
    num_classes
        Number of output logits.
    weights
        ``None`` (random init), ``"imagenet"`` (the offline ImageNet weights, MobileNetV2 only),
        or a path to a torchvision state dict or an MS-Celeb ``.pth.tar`` checkpoint; see
        :mod:`trainers.models.weights`.
    **options
        Passed to the factory (architecture variants).

    Raises
    ------
    DataError
        For an unknown name, or weights of which nothing matches the model.
    """
    if name not in MODELS:
        raise DataError(f"unknown model {name!r}; registered: {', '.join(sorted(MODELS))}")
    model = MODELS[name](num_classes=num_classes, **options)
    if weights is not None:
        from trainers.models.weights import load_weights

        load_weights(model, weights)
    else:
        log.info("%s: random initialisation (no weights given)", name)
    return model


def _import_model_modules() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name != "weights":
            importlib.import_module(f"{__name__}.{info.name}")


_import_model_modules()
