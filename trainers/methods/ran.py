"""RAN training (Wang et al. 2020): cross-entropy plus the region-biased loss, SGD with step decay.

    loss = CE(logits) + mean(max(0, 0.1 - (max_crop alpha - alpha_whole)))

The optimiser is the RAN paper's, not the MSD-E baselines' Adam: SGD, momentum 0.9, weight decay 1e-4,
the learning rate divided by 10 at 30%, 50% and 80% of the epochs. The per-crop attention weights
alpha and beta of every validation image are written to ``attention.csv`` beside ``predictions.csv``.

This file also holds what RAN and SCAN share: the training subset (MSD-PE images by default, as in
the MSD-E paper's Table 5), the per-model overrides of the study config (architecture, weights,
epochs, batch size) and the milestone arithmetic.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from trainers.common.atomic import atomic_open
from trainers.config import TrainConfig
from trainers.methods import register_method
from trainers.methods.base import Batch, Method, Prediction, StepOutput, check_subset
from trainers.methods.optimizers import check_optimizer, reference_optimizer
from trainers.models.ran import CROPS, ran_loss


def resolve_weights(choice: str, config: TrainConfig) -> str | None:
    """``"study"``: the study's ``--weights``; ``"none"``: random initialisation; else a file path."""
    if choice == "study":
        return config.weights
    if choice == "none":
        return None
    return str(Path(choice).expanduser().resolve())


def specialised_config(config: TrainConfig, architecture: str, weights: str | None, epochs: int,
                       batch_size: int) -> TrainConfig:
    """The study config as this model trains under it: its own registry name, weights, epochs, batch size.

    The checkpoint records ``architecture`` from the method's config, so the fold's model can be rebuilt
    by name; ``epochs`` or ``batch_size`` of 0 keep the study's values.
    """
    return dataclasses.replace(
        config, architecture=architecture, weights=weights,
        epochs=epochs or config.epochs, batch_size=batch_size or config.batch_size,
    )


def decay_milestones(epochs: int, fractions: list[float]) -> list[int]:
    """Epochs at which to decay: ``fractions`` of ``epochs`` rounded half up (25 -> 8, 13, 20)."""
    return sorted({max(1, int(f * epochs + 0.5)) for f in fractions})


@dataclass
class ReferenceOptions:
    """The options RAN and SCAN share (each redeclares the defaults of its reference code).

    ``weights``: ``"study"`` (the study's ``--weights``), ``"none"`` or a path. ``subset``: the training
    images (:data:`trainers.methods.base.TRAINING_SUBSETS`). ``optimizer``: ``"sgd"`` (the papers') or
    ``"adam"``, with ``lr_backbone``/``lr_head``, ``momentum`` (SGD only) and ``weight_decay``
    (:func:`trainers.methods.optimizers.reference_optimizer`); ``gamma``: the decay factor.
    ``epochs``/``batch_size``: 0 keeps the study's. ``study.json`` records the fields base first; readers
    take them by name, so studies written with the older order read and resume alike.
    """

    weights: str = "study"
    subset: str = "pe"
    lr_backbone: float = 0.01
    lr_head: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    gamma: float = 0.1
    epochs: int = 0
    batch_size: int = 0
    optimizer: str = "sgd"

    def __post_init__(self) -> None:
        check_subset(self.subset)
        check_optimizer(self.optimizer)


@dataclass
class RanOptions(ReferenceOptions):
    """RAN hyperparameters (preset table ``[methods.ran]``): :class:`ReferenceOptions` with the RAN paper's
    SGD (lr 0.01, weight decay 1e-4, x0.1 at ``decay_at`` fractions of the epochs), the ``backbone``;
    ``weights`` ``"study"`` is e.g. the MS-Celeb ResNet-18.
    """

    backbone: str = "resnet18"
    decay_at: list[float] = field(default_factory=lambda: [0.3, 0.5, 0.8])


@register_method("ran", role="reference", colour="#CC79A7")
class RegionAttention(Method):
    """RAN over six fixed crops; attention weights saved for every validation image."""

    Options = RanOptions
    loss_terms = ("ce", "region_bias")
    passes_per_view = 6.0  # the backbone runs on six crops of every image

    def __init__(self, name: str, config: TrainConfig, defaults: dict[str, Any] | None = None) -> None:
        super().__init__(name, config, defaults)
        options = self.options
        self.config = specialised_config(config, "ran", resolve_weights(options.weights, config),
                                         options.epochs, options.batch_size)

    def architecture_options(self) -> dict[str, Any]:
        """The backbone name."""
        return {"backbone": self.options.backbone}

    def configure_optimizers(self, model: nn.Module) -> tuple[torch.optim.Optimizer, Any]:
        """SGD (momentum 0.9, weight decay 1e-4; or Adam: ``optimizer``); x0.1 at 30/50/80% of the epochs."""
        optimizer = reference_optimizer(model, self.options)
        milestones = decay_milestones(self.config.epochs, self.options.decay_at)
        return optimizer, torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=self.options.gamma)

    def training_step(self, model: nn.Module, batch: Batch) -> StepOutput:
        """Cross-entropy and the region-biased loss on one batch of images."""
        out = model.run(batch.views[0])
        out.logits, out.alpha = out.logits.float(), out.alpha.float()
        terms = ran_loss(out, batch.labels)
        total = terms.pop("total")
        return StepOutput(total, {k: v.detach() for k, v in terms.items()}, out.logits.detach(), batch.labels)

    def predict(self, model: nn.Module, images: torch.Tensor) -> Prediction:
        """Logits, the attended vector P as the embedding, and alpha/beta per crop as extras."""
        out = model.run(images)
        return Prediction(out.logits, out.attended, {"alpha": out.alpha, "beta": out.beta})

    def save_extras(self, fold_dir: Path, predictions: pd.DataFrame, extras: dict[str, np.ndarray]) -> None:
        """``attention.csv``: image_id, then ``alpha_<crop>`` and ``beta_<crop>`` for the six crops."""
        table = pd.DataFrame({"image_id": predictions["image_id"].to_numpy()})
        for kind in ("alpha", "beta"):
            for index, crop in enumerate(CROPS):
                table[f"{kind}_{crop.name}"] = extras[kind][:, index]
        with atomic_open(fold_dir / "attention.csv", newline="") as handle:
            table.to_csv(handle, index=False, float_format="%.6f")
