"""Model registry: ``create(name, num_classes, weights=None)`` builds any registered network.

Every module in this package that defines models registers them with :func:`register_model`;
they are imported the first time :data:`MODELS` is read, so adding a model is one new file. A
registered factory takes ``num_classes`` (and optional keyword options) and returns an
``nn.Module`` with:

- ``features(x)``: the last convolutional map, ``(B, C, h, w)``;
- ``embed(x)``: the pooled penultimate vector, ``(B, embedding_dim)``;
- ``forward(x)``: logits, ``(B, num_classes)``;
- ``gradcam_layer``: dotted name of the Grad-CAM target (``model.get_submodule(name)``);
- ``gradcam_layers`` (optional): candidate Grad-CAM targets, deepest first (``gradcam_layer`` first); the
  audit's Grad-CAM takes the deepest whose map is at least 7x7 at the input size;
- ``embedding_dim``: length of ``embed``'s vectors;
- ``backbone`` and ``head`` submodules: ``weights`` load into ``backbone``, and training methods
  give ``head`` its own learning rate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from torch import nn

from trainers.common.registry import Registry

log = logging.getLogger(__name__)

# weight loaders and the checkpoint loader define no model
MODELS: Registry[Callable[..., nn.Module]] = Registry(
    "model", package=__name__, skip=("checkpoint", "vggface2", "weights")
)
register_model = MODELS.register


def create(name: str, num_classes: int, weights: str | Path | None = None, *, partial_weights: bool = False,
           **options: object) -> nn.Module:
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
    partial_weights
        Accept weights that fill fewer than 90% of the backbone's tensors.
    **options
        Passed to the factory (architecture variants).

    Raises
    ------
    DataError
        For an unknown name, or weights that fill too little of the model (see ``partial_weights``).
    """
    model = MODELS[name](num_classes=num_classes, **options)
    if weights is not None:
        from trainers.models.weights import load_weights

        load_weights(model, weights, partial_weights)
    else:
        log.info("%s: random initialisation (no weights given)", name)
    return model
