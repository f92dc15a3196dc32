"""The optimisers the methods build: two named parameter groups (backbone, head), SGD or Adam."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from trainers.common.errors import DataError


def param_groups(model: nn.Module, lr_backbone: float, lr_head: float) -> list[dict[str, Any]]:
    """Two named optimiser groups: ``backbone`` at ``lr_backbone``, every other parameter (``head``) at ``lr_head``."""
    backbone_ids = {id(p) for p in model.backbone.parameters()}
    head = [p for p in model.parameters() if id(p) not in backbone_ids]
    return [{"params": list(model.backbone.parameters()), "lr": lr_backbone, "name": "backbone"},
            {"params": head, "lr": lr_head, "name": "head"}]


def sgd(model: nn.Module, options: Any) -> torch.optim.SGD:
    """SGD over :func:`param_groups` with ``options``' ``lr_backbone``, ``lr_head``, ``momentum``, ``weight_decay``."""
    return torch.optim.SGD(param_groups(model, options.lr_backbone, options.lr_head),
                           momentum=options.momentum, weight_decay=options.weight_decay)


OPTIMIZERS: dict[str, str] = {
    "sgd": "SGD with momentum (the RAN and SCAN reference code's)",
    "adam": "Adam (fused); learns from random initialisation where SGD at the reference rates stays at chance",
}


def check_optimizer(name: str) -> None:
    """Raise :class:`DataError` for an optimizer outside :data:`OPTIMIZERS`."""
    if name not in OPTIMIZERS:
        raise DataError(f"optimizer {name!r}: use one of {', '.join(OPTIMIZERS)}")


def reference_optimizer(model: nn.Module, options: Any) -> torch.optim.Optimizer:
    """:func:`sgd`, or fused Adam over :func:`param_groups` when ``options.optimizer`` is ``"adam"``
    (``momentum`` is then unused; ``weight_decay`` is Adam's L2 term)."""
    if options.optimizer == "adam":
        return torch.optim.Adam(param_groups(model, options.lr_backbone, options.lr_head),
                                weight_decay=options.weight_decay, fused=True)
    return sgd(model, options)
