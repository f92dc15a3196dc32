"""SCAN + CCI training (Gera and Balasubramanian 2021), with the reference code's optimiser.

    loss = 0.2 * CE(SCAN logits) + 0.8 * sum over the 4 quadrants of CE(quadrant logits)

SGD (momentum 0.9, weight decay 1e-3), learning rate 1e-4 for the ResNet-50 trunk and 1e-2 for the
attention units and heads, multiplied by 0.95 after every epoch, samples drawn class-balanced (with
replacement, weight 1 / class count). The training loop puts the model in train mode every epoch, so
BatchNorm keeps learning (the reference scripts froze it from epoch 2 by never leaving eval mode).

Trunk: ``"resnet50"`` (the reference) or ``"resnet18"`` (``quick``: the baselines' trunk, about 6x cheaper a
step on a CPU; see :class:`trainers.models.scan.ScanCci`).

Weights: ``"none"`` (default), ``"study"`` (the study's ``--weights``), a torchvision ResNet-50 state
dict, or SCAN's VGGFace2 pickle (``.pkl``), which loads only with ``trust_pickle = true``
(``--trust-pickle``) because unpickling can run code.

The channel-mean of the local attention weights of every validation image (``(n, h, w)``, 28x28 at
224 px, each patch's weights at its place) is written to ``attention.npy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from trainers.config import TrainConfig
from trainers.common.errors import DataError
from trainers.methods import register_method
from trainers.methods.base import Batch, Method, Prediction, StepOutput, TrainingSet
from trainers.methods.optimizers import reference_optimizer
from trainers.methods.ran import ReferenceOptions, resolve_weights, specialised_config
from trainers.models.scan import check_trunk, scan_cci_loss

PICKLE_SUFFIX = ".pkl"


@dataclass
class ScanOptions(ReferenceOptions):
    """SCAN + CCI hyperparameters (preset table ``[methods.scan]``): :class:`ReferenceOptions` with the
    reference code's SGD (trunk 1e-4, heads 1e-2, weight decay 1e-3, x0.95 a epoch), random initialisation
    by default, and SCAN's own options; ``optimizer`` ``"adam"``: ``quick`` (learns from random
    initialisation).
    """

    weights: str = "none"
    lr_backbone: float = 1e-4
    lr_head: float = 1e-2
    weight_decay: float = 1e-3
    gamma: float = 0.95
    shared: bool = False
    separate_quadrant_heads: bool = False
    trunk: str = "resnet50"
    trust_pickle: bool = False
    balanced: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_trunk(self.trunk)


@register_method("scan", role="reference", colour="#D55E00")
class SpatioChannel(Method):
    """SCAN + CCI on a ResNet-50 (or ResNet-18) to layer3; local attention maps saved for the audit."""

    Options = ScanOptions
    loss_terms = ("attention", "quadrants")

    def __init__(self, name: str, config: TrainConfig, defaults: dict[str, Any] | None = None) -> None:
        super().__init__(name, config, defaults)
        options = self.options
        self.config = specialised_config(config, "scan", resolve_weights(options.weights, config),
                                         options.epochs, options.batch_size)

    def architecture_options(self) -> dict[str, Any]:
        """The trunk, and shared or separate local attention units and quadrant heads."""
        return {"shared": self.options.shared, "separate_quadrant_heads": self.options.separate_quadrant_heads,
                "trunk": self.options.trunk}

    def build_model(self, num_classes: int) -> nn.Module:
        """SCAN + CCI; a ``.pkl`` weights file goes through the VGGFace2 pickle loader."""
        from trainers.models import create
        from trainers.models.vggface2 import load_vggface2_pickle

        weights = self.config.weights
        if weights is not None and weights.endswith(PICKLE_SUFFIX):
            if self.options.trunk != "resnet50":
                raise DataError(f"{weights}: the VGGFace2 pickle holds a ResNet-50; set [methods.scan] trunk = "
                                f"\"resnet50\" (it is {self.options.trunk!r})")
            model = create("scan", num_classes, None, **self.architecture_options())
            load_vggface2_pickle(model, weights, trust_pickle=self.options.trust_pickle,
                                 partial=self.config.partial_weights)
            return model
        return create("scan", num_classes, weights, partial_weights=self.config.partial_weights,
                      **self.architecture_options())

    def sample_order(self, train: TrainingSet, epoch: int, generator: torch.Generator) -> np.ndarray:
        """Class-balanced draws with replacement (``balanced``), else a permutation; one epoch's worth."""
        if not self.options.balanced:
            return super().sample_order(train, epoch, generator)
        counts = np.bincount(train.labels)
        weights = torch.as_tensor(1.0 / counts[train.labels], dtype=torch.float64)
        return torch.multinomial(weights, len(train), replacement=True, generator=generator).numpy()

    def configure_optimizers(self, model: nn.Module) -> tuple[torch.optim.Optimizer, Any]:
        """SGD (or Adam: ``optimizer``), trunk at ``lr_backbone`` and heads at ``lr_head``; x``gamma`` per epoch."""
        optimizer = reference_optimizer(model, self.options)
        return optimizer, torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.options.gamma)

    def training_step(self, model: nn.Module, batch: Batch) -> StepOutput:
        """The SCAN and quadrant cross-entropies; accuracy scored on the mean of the five logits."""
        out = model.run(batch.views[0])
        out.logits = out.logits.float()
        out.attention_logits, out.quadrant_logits = out.attention_logits.float(), out.quadrant_logits.float()
        terms = scan_cci_loss(out, batch.labels)
        total = terms.pop("total")
        return StepOutput(total, {k: v.detach() for k, v in terms.items()}, out.logits.detach(), batch.labels)

    def predict(self, model: nn.Module, images: torch.Tensor) -> Prediction:
        """Mean logits, the fused vector (1024-d on ResNet-50), and the local attention map (saved as attention.npy)."""
        out = model.run(images)
        return Prediction(out.logits, out.embedding, {"attention": out.local_attention})
