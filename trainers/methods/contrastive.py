"""Contrastive learning (CL) on MSD-PE pairs (MSD-E paper, section 3.3).

Both images of a pair go through the same network; the loss pulls their last convolutional maps
together and classifies both:

    loss = feature_weight * MSE(f(x_nm), f(x_m)) + ce_weight * (CE(x_nm) + CE(x_m))

with the paper's feature_weight (lambda) = 0.2 and ce_weight (alpha) = 1.0 (the reference code's
defaults are 1 and 1). With ``normalise`` (the reference code's behaviour), each spatial
location's channel vector is L2-normalised before the MSE.

``cl-ce`` is the ablation: the same method with the feature term off (lambda = 0), i.e. cross-entropy
on both images of every pair, one batch holding both. Under the budget rule (docs/training.md) a batch of
``batch_size`` images holds ``batch_size / 2`` pairs, so CL takes the steps and sees the images of
``baseline-pe``. ``history.csv`` records per epoch
``grad_ratio_feature_ce``, the gradient norm of lambda * MSE over that of alpha * (CE + CE) on the
epoch's first batch: at lambda = 0.2 with normalised maps it is tiny, which is why the ablation matters.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from trainers.methods import register_method
from trainers.methods.base import Batch, ClassifierOptions, Method, StepOutput, TrainingSet, image_pairs


@dataclass
class ContrastiveOptions(ClassifierOptions):
    """lambda (``feature_weight``), alpha (``ce_weight``), the per-location L2 normalisation of the matched
    maps and (:class:`ClassifierOptions`) what the classifier reads."""

    feature_weight: float = 0.2
    ce_weight: float = 1.0
    normalise: bool = True


def feature_distance(a: torch.Tensor, b: torch.Tensor, normalise: bool) -> torch.Tensor:
    """MSE of two ``(B, C, h, w)`` maps, optionally L2-normalised over channels at each location."""
    a, b = a.float(), b.float()
    if normalise:
        a, b = F.normalize(a, dim=1), F.normalize(b, dim=1)
    return F.mse_loss(a, b)


def logits_from_features(model: nn.Module, features: torch.Tensor) -> torch.Tensor:
    """The head over the model's pooling of ``features`` (its ``classifier_input``): ``forward`` from a map."""
    return model.head(model.pool(features))


@register_method("cl-ce", role="ablation", colour="#44AA99", ablates="cl", feature_weight=0.0)
@register_method("cl", role="ours", colour="#009E73")  # applied first: registered first
class Contrastive(Method):
    """Feature-matching of non-masked/masked pairs plus cross-entropy on both."""

    Options = ContrastiveOptions
    loss_terms = ("feature", "ce_nm", "ce_m")
    gradient_ratio = ("feature", "ce")
    views_per_sample = 2
    images_per_sample = 2  # both images of a pair: a batch of 32 images holds 16 pairs

    def training_subset(self) -> str:
        """MSD-PE pairs: ``pe``."""
        return "pe"

    def training_set(self, table: pd.DataFrame) -> TrainingSet:
        """MSD-PE pairs of the fold's training images."""
        return image_pairs(table)

    def training_step(self, model: nn.Module, batch: Batch) -> StepOutput:
        """One forward of both views (one batch, so BatchNorm sees both) and the CL loss."""
        nm, m = batch.views
        features = model.features(torch.cat([nm, m]))
        logits = logits_from_features(model, features).float()
        n = len(nm)
        feature = feature_distance(features[:n], features[n:], self.options.normalise)
        ce_nm = F.cross_entropy(logits[:n], batch.labels)
        ce_m = F.cross_entropy(logits[n:], batch.labels)
        parts = {"feature": self.options.feature_weight * feature, "ce": self.options.ce_weight * (ce_nm + ce_m)}
        terms = {"feature": feature.detach(), "ce_nm": ce_nm.detach(), "ce_m": ce_m.detach()}
        return StepOutput(parts["feature"] + parts["ce"], terms, logits.detach(),
                          torch.cat([batch.labels, batch.labels]), parts)
