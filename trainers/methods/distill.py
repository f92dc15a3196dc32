"""Knowledge distillation (KD) from a non-masked teacher (MSD-E paper, section 3.4).

The teacher is the same fold's ``baseline-nm`` model of the same run: trained only on that
fold's training subjects (checked from its checkpoint), frozen, in eval mode, without gradients.
For each pair the teacher sees the non-masked image; the student sees, with probability
``masked_probability``, the masked partner instead, else the same non-masked image:

    loss = feature_weight * MSE(teacher map, student map) + CE(student)

with feature_weight (lambda) = 100 (paper). As in the reference code (whose ResNet returns
``F.normalize`` of the layer4 map), both maps are L2-normalised over channels at each location
before the MSE (``normalise``); without it, lambda = 100 lets the raw-map MSE swamp the CE term.

Batching (the budget rule, docs/training.md): a sample is a pair, the student trains on one image of it,
so a batch of ``batch_size`` pairs puts ``batch_size`` images through the student and an epoch makes two
passes over the pairs (each visit with its own draw of the student's input): the student sees as many
images per epoch, in as many steps, as ``baseline-pe`` and CL.

``kd-ce`` is the mechanism control: KD's batching, the same draw of the student's input and the same
student, trained by cross-entropy alone (no teacher, no distillation term). ``kd`` against ``kd-ce`` asks
whether the teacher adds anything over showing the student masked and non-masked images at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from trainers.common.errors import DataError
from trainers.methods import register_method
from trainers.methods.base import (Batch, ClassifierOptions, FoldContext, Method, StepOutput, TrainingSet,
                                   image_pairs)
from trainers.methods.contrastive import feature_distance, logits_from_features

TEACHER = "baseline-nm"


@dataclass
class StudentOptions(ClassifierOptions):
    """The student's masked-input probability and (:class:`ClassifierOptions`) what its classifier reads."""

    masked_probability: float = 0.5


@dataclass
class DistillOptions(ClassifierOptions):
    """lambda (``feature_weight``), the student's masked-input probability, map normalisation and
    (:class:`ClassifierOptions`) what the student's classifier reads."""

    feature_weight: float = 100.0
    masked_probability: float = 0.5
    normalise: bool = True


@register_method("kd-ce", role="ablation", colour="#DDCC77", ablates="kd")
class Student(Method):
    """KD's student without a teacher: one image of each pair (the masked one with ``masked_probability``),
    cross-entropy; two passes over the pairs an epoch (:attr:`views_per_sample` 2, :attr:`images_per_sample` 1)."""

    Options = StudentOptions
    views_per_sample = 2
    images_per_sample = 1

    def training_subset(self) -> str:
        """MSD-PE pairs: ``pe``."""
        return "pe"

    def training_set(self, table: pd.DataFrame) -> TrainingSet:
        """MSD-PE pairs of the fold's training images."""
        return image_pairs(table)

    def student_input(self, batch: Batch) -> torch.Tensor:
        """Per pair, the masked image with probability ``masked_probability``, else the non-masked one."""
        nm, m = batch.views
        use_masked = torch.rand(len(nm)) < self.options.masked_probability
        return torch.where(use_masked.to(nm.device).view(-1, 1, 1, 1), m, nm)

    def training_step(self, model: nn.Module, batch: Batch) -> StepOutput:
        """Cross-entropy of the student on its input."""
        features = model.features(self.student_input(batch))
        logits = logits_from_features(model, features).float()
        ce = F.cross_entropy(logits, batch.labels)
        return StepOutput(ce, {"ce": ce.detach()}, logits.detach(), batch.labels)


@register_method("kd", role="ours", colour="#E69F00")
class Distill(Student):
    """Feature distillation from the fold's frozen non-masked baseline."""

    Options = DistillOptions
    loss_terms = ("feature", "ce")
    requires = (TEACHER,)
    gradient_ratio = ("feature", "ce")

    def prepare(self, context: FoldContext) -> None:
        """Load the fold's teacher and check it never saw a validation subject."""
        from trainers.models.checkpoint import load_fold_model

        teacher_dir = context.run_dir / TEACHER / f"fold-{context.fold}"
        teacher, teacher_config = load_fold_model(teacher_dir)
        if teacher_config.get("fold") != context.fold:
            raise DataError(f"{teacher_dir}: teacher was trained for fold {teacher_config.get('fold')}, not {context.fold}")
        leaked = set(teacher_config.get("train_subjects", [])) & context.validation_subjects
        if leaked or "train_subjects" not in teacher_config:
            raise DataError(
                f"{teacher_dir}: teacher's training subjects include validation subject(s) "
                f"{sorted(leaked)[:5]} of fold {context.fold} (or are unrecorded); retrain {TEACHER}"
            )
        memory_format = torch.channels_last if self.config.channels_last else torch.contiguous_format
        self.teacher = teacher.to(context.device, memory_format=memory_format).eval().requires_grad_(False)
        self.teacher_train_subjects = set(teacher_config["train_subjects"])

    def training_step(self, model: nn.Module, batch: Batch) -> StepOutput:
        """Teacher map of the non-masked image vs student map of the chosen input."""
        student_input = self.student_input(batch)
        with torch.no_grad():
            target = self.teacher.features(batch.views[0])
        features = model.features(student_input)
        logits = logits_from_features(model, features).float()
        feature = feature_distance(features, target, self.options.normalise)
        ce = F.cross_entropy(logits, batch.labels)
        parts = {"feature": self.options.feature_weight * feature, "ce": ce}
        return StepOutput(parts["feature"] + ce, {"feature": feature.detach(), "ce": ce.detach()}, logits.detach(),
                          batch.labels, parts)
