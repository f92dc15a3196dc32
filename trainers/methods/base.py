"""The base class of training methods: what :func:`trainers.loop.train_fold` asks of a method.

A method is one small class in its own file, registered under the model name(s) it trains
(``baseline-nm``, ``cl``, ``kd``, ``ran``, ...) with :func:`trainers.methods.register_method`.
The loop owns everything common (batching from the uint8 image cache, pair-consistent
augmentation, ImageNet normalisation, channels_last, autocast, the optimiser step, per-epoch
evaluation on the fold's non-masked and masked images, checkpoints, resume, the run-directory
files). A method decides only what differs, by overriding these hooks:

``Options`` (class attribute)
    A dataclass of the method's hyperparameters. It is filled from the registration's keyword
    arguments, then from ``config.methods[<model name>]`` (the preset's ``[methods.<name>]`` table,
    and ``--set <name>.<option>=<value>``), every value type-checked by :func:`trainers.common.options.build`
    (an unknown or ill-typed option is a :class:`DataError` naming the arm and the option; choices are
    checked in the dataclass's ``__post_init__``), and recorded in ``study.json`` and every checkpoint.
``loss_terms`` (class attribute)
    Names of the loss terms ``training_step`` returns; each becomes a ``loss_<term>`` column of
    ``history.csv``.
``requires`` (class attribute)
    Model names that must have finished the same fold first (KD's teacher: ``("baseline-nm",)``).
``gradient_ratio`` (class attribute)
    ``(numerator, denominator)``: two keys of the step's ``parts`` (weighted loss summands, e.g. CL's
    ``("feature", "ce")``). On the first batch of every epoch the loop writes the ratio of their
    gradient norms over the model's parameters to ``history.csv`` as ``grad_ratio_<num>_<den>``.
``passes_per_view`` (class attribute)
    Backbone passes one view of a training sample costs, relative to a ResNet-18 step on one image
    (RAN: 6 crops). Only :meth:`Method.estimated_cost` reads it, to start the longest tasks first.
``views_per_sample``, ``images_per_sample`` (class attributes)
    Views (images) of one training sample (pairs: 2; default 1) and how many of them go through the
    trained network (CL: both images of a pair, 2; KD: the student's one image of a pair, 1; default 1).
    They fix the budget rule (:meth:`Method.batching`): the study's ``batch_size`` counts images per
    optimiser step, and every image of the training set passes through the trained network once per
    epoch, so arms trained on the same images take the same steps and see the same images per epoch
    (docs/training.md, "The budget rule"); ``study.json`` records :meth:`Method.budget` per fold.
``build_model(num_classes)``
    The network; default ``trainers.models.create(config.architecture, num_classes, config.weights)``.
    The model must provide ``backbone`` (and ``embed``/``forward``/``features``, see
    :mod:`trainers.models`).
``architecture_options()``
    Keyword options of the registered model factory, stored in the checkpoint so that
    :func:`trainers.models.checkpoint.load_fold_model` can rebuild the model.
``training_set(table)``
    The method's own training subset of the fold's training rows: a :class:`TrainingSet` of
    ``(n, V)`` row indices into the image cache (``V`` views per sample, e.g. a non-masked/masked
    pair) and ``(n,)`` class indices. Default: the images of the method's ``subset`` option
    (:data:`TRAINING_SUBSETS`; every image when it has none), one view each.
``sample_order(train, epoch, generator)``
    The order in which samples are visited in one epoch (default: one random permutation per pass of
    :meth:`Method.batching`; a class-balanced sampler returns indices drawn with replacement); its
    length must be :meth:`Method.epoch_samples`.
``configure_optimizers(model)``
    ``(optimizer, scheduler)``; the scheduler steps once per epoch. Name each param group
    (``"name": "backbone"`` / ``"head"``, :func:`trainers.methods.optimizers.param_groups`): ``history.csv`` records the learning
    rate of those two. Default: fused Adam, backbone at ``lr_backbone``, every other parameter at
    ``lr_head``, MultiStepLR.
``prepare(context)``
    Called once per fold before training (load a teacher, check its training subjects).
``training_step(model, batch)``
    Forward one augmented, normalised :class:`Batch` and return a :class:`StepOutput` (the total
    loss, each term, logits and targets for the running training accuracy). Runs under autocast.
``predict(model, images)``
    Evaluation forward of normalised images: a :class:`Prediction` with logits, embeddings and
    optional per-image ``extras`` (e.g. attention weights) that the loop saves next to
    ``predictions.csv`` through ``save_extras``.
``save_extras(fold_dir, predictions, extras)``
    Write the extras (default: ``<name>.npy`` per entry, rows in predictions.csv order).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from trainers import rundir
from trainers.common.atomic import atomic_path
from trainers.config import TrainConfig
from trainers.data.labels import CLASSES
from trainers.data.manifest import complete_pairs
from trainers.common.errors import DataError
from trainers.common.options import build
from trainers.methods.optimizers import param_groups


@dataclass
class TrainingSet:
    """Samples of one method's training subset: ``rows[i]`` holds the cache rows of its views."""

    rows: np.ndarray
    labels: np.ndarray
    views: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class Batch:
    """One training batch: ``views[v]`` is a normalised ``(B, 3, H, W)`` tensor, ``labels`` ``(B,)``."""

    views: list[torch.Tensor]
    labels: torch.Tensor


@dataclass
class StepOutput:
    """A training step's total ``loss``, its named ``terms`` and the ``logits``/``targets`` scored.

    ``parts`` holds the weighted summands of ``loss`` that :attr:`Method.gradient_ratio` names (with
    their graphs), so the loop can compare their gradient norms on one batch per epoch.
    """

    loss: torch.Tensor
    terms: dict[str, torch.Tensor]
    logits: torch.Tensor
    targets: torch.Tensor
    parts: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class Prediction:
    """Evaluation outputs for a batch of images."""

    logits: torch.Tensor
    embeddings: torch.Tensor
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class FoldContext:
    """What a method may know about the fold it trains."""

    run_dir: Path
    fold_dir: Path
    fold: int
    table: pd.DataFrame
    device: torch.device

    @property
    def validation_subjects(self) -> set[str]:
        """Subjects of the fold's validation images."""
        return set(self.table.loc[rundir.fold_rows(self.table, self.fold)[1], "subject"].astype(str))

    @property
    def training_subjects(self) -> set[str]:
        """Subjects of the fold's training images."""
        return set(self.table.loc[rundir.fold_rows(self.table, self.fold)[0], "subject"].astype(str))


@dataclass
class NoOptions:
    """A method without hyperparameters."""


@dataclass
class ClassifierOptions:
    """``classifier_input``: what the linear head reads, ``pooled`` (the raw layer4 map's average, default)
    or ``normalised`` (the average of the per-location L2-normalised map, the MSD-E reference code's);
    see :data:`trainers.models.torchvision_nets.CLASSIFIER_INPUTS`. Options of the methods that train a
    registry backbone with a linear head inherit it."""

    classifier_input: str = "pooled"

    def __post_init__(self) -> None:
        from trainers.models.torchvision_nets import check_classifier_input

        check_classifier_input(self.classifier_input)


class Method:
    """Base of all training methods; see the module docstring for the contract."""

    Options: ClassVar[type] = NoOptions
    loss_terms: ClassVar[tuple[str, ...]] = ("ce",)
    requires: ClassVar[tuple[str, ...]] = ()
    gradient_ratio: ClassVar[tuple[str, str] | None] = None
    passes_per_view: ClassVar[float] = 1.0
    views_per_sample: ClassVar[int] = 1
    images_per_sample: ClassVar[int] = 1

    def __init__(self, name: str, config: TrainConfig, defaults: dict[str, Any] | None = None) -> None:
        self.name = name
        self.config = config
        values = {**(defaults or {}), **config.methods.get(name, {})}
        self.options = build(self.Options, values, f"[methods.{name}]")
        if config.batch_size % self.images_per_sample:
            raise DataError(f"batch_size {config.batch_size}: arm {name!r} trains on {self.images_per_sample} images "
                            f"a sample, so the budget rule (batch_size images a step) needs a multiple of "
                            f"{self.images_per_sample}; pass --batch-size {config.batch_size + 1}")

    def options_dict(self) -> dict[str, Any]:
        """The resolved options, for the checkpoint."""
        return dataclasses.asdict(self.options)

    def settings(self) -> dict[str, Any]:
        """What this arm trains with, for ``study.json``: its method, resolved options, model and schedule.

        ``architecture``, ``weights``, ``epochs`` and ``batch_size`` are those of :attr:`config`, which a
        method may specialise (RAN and SCAN train their own network, weights and epochs). ``init`` says
        what the backbone starts from (:func:`trainers.models.weights.describe_init`: the weights file's
        name and SHA-256, ``imagenet`` or ``random``).
        """
        from trainers.models.weights import describe_init

        return {
            "method": type(self).__name__, "options": self.options_dict(),
            "architecture": self.config.architecture, "architecture_options": self.architecture_options(),
            "weights": self.config.weights, "init": describe_init(self.config.weights),
            "epochs": self.config.epochs, "batch_size": self.config.batch_size, "batching": self.batching(),
        }

    def batching(self) -> dict[str, int]:
        """How the arm batches, from the budget rule: ``images_per_sample``, ``samples_per_step`` (the
        study's ``batch_size`` images per optimiser step, in whole samples) and ``passes_per_epoch``
        (passes over the training samples that put each of their views through the trained network
        once: the samples' views over :attr:`images_per_sample`; 2 for KD, 1 otherwise)."""
        return {"images_per_sample": self.images_per_sample,
                "samples_per_step": max(1, self.config.batch_size // self.images_per_sample),
                "passes_per_epoch": max(1, self.views_per_sample // self.images_per_sample)}

    def epoch_samples(self, train: TrainingSet) -> int:
        """Samples visited in one epoch: the training samples once per pass (:meth:`batching`)."""
        if len(train.views) != self.views_per_sample:
            raise ValueError(f"{type(self).__name__}: training samples have {len(train.views)} views, "
                             f"its views_per_sample says {self.views_per_sample}")
        return len(train) * self.batching()["passes_per_epoch"]

    def budget(self, table: pd.DataFrame) -> dict[str, int]:
        """The per-epoch training budget on a fold whose training rows are ``table``.

        Returns
        -------
        dict
            ``samples`` (training samples), ``steps_per_epoch`` (optimiser steps, as
            :func:`batches` cuts them) and ``images_per_epoch`` (images through the trained network;
            a frozen teacher's are not counted).
        """
        train = self.training_set(table)
        visits = self.epoch_samples(train)
        return {"samples": len(train), "steps_per_epoch": len(self.epoch_batches(np.arange(visits))),
                "images_per_epoch": visits * self.images_per_sample}

    def epoch_batches(self, order: np.ndarray) -> list[np.ndarray]:
        """An epoch's :meth:`sample_order` cut into the optimiser steps' batches (:func:`batches`)."""
        return batches(order, self.batching()["samples_per_step"], self.images_per_sample)

    def estimated_cost(self, table: pd.DataFrame) -> float:
        """Relative training cost on a fold whose training rows are ``table``: epochs x images per epoch
        (:meth:`budget`) x :attr:`passes_per_view`. A scheduling estimate (longest task first), not a time."""
        return float(self.config.epochs * self.budget(table)["images_per_epoch"] * self.passes_per_view)

    def build_model(self, num_classes: int) -> nn.Module:
        """The network to train."""
        from trainers.models import create

        return create(self.config.architecture, num_classes, self.config.weights,
                      partial_weights=self.config.partial_weights, **self.architecture_options())

    def architecture_options(self) -> dict[str, Any]:
        """Keyword options for the model factory: ``classifier_input`` for :class:`ClassifierOptions`, else none."""
        if isinstance(self.options, ClassifierOptions):
            return {"classifier_input": self.options.classifier_input}
        return {}

    def training_subset(self) -> str:
        """The :data:`TRAINING_SUBSETS` key of the images the arm trains on: the ``subset`` option (``mix``
        without one); pair methods ``pe``. ``study.json`` records it as the arm's ``trains_on``."""
        return getattr(self.options, "subset", "mix")

    def training_set(self, table: pd.DataFrame) -> TrainingSet:
        """The training images of :meth:`training_subset`, one view each."""
        return subset_images(table, self.training_subset())

    def sample_order(self, train: TrainingSet, epoch: int, generator: torch.Generator) -> np.ndarray:
        """One random permutation of the samples per pass (:meth:`batching`), one after the other."""
        passes = self.batching()["passes_per_epoch"]
        return np.concatenate([torch.randperm(len(train), generator=generator).numpy() for _ in range(passes)])

    def configure_optimizers(self, model: nn.Module) -> tuple[torch.optim.Optimizer, Any]:
        """Adam (fused) with the backbone at ``lr_backbone`` and everything else at ``lr_head``; MultiStepLR."""
        optim = self.config.optim
        optimizer = torch.optim.Adam(
            param_groups(model, optim.lr_backbone, optim.lr_head),
            weight_decay=optim.weight_decay,
            fused=True,  # one kernel for all parameters: ~6x faster steps than the default on this CPU
        )
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, optim.milestones, gamma=optim.gamma)
        return optimizer, scheduler

    def prepare(self, context: FoldContext) -> None:
        """Per-fold set-up before training (nothing by default)."""

    def training_step(self, model: nn.Module, batch: Batch) -> StepOutput:
        """Cross-entropy on the first view."""
        logits = model(batch.views[0])
        ce = nn.functional.cross_entropy(logits.float(), batch.labels)
        return StepOutput(ce, {"ce": ce.detach()}, logits.detach(), batch.labels)

    def predict(self, model: nn.Module, images: torch.Tensor) -> Prediction:
        """Logits from the head over the embedding (one forward pass)."""
        embeddings = model.embed(images)
        return Prediction(model.head(embeddings), embeddings)

    def save_extras(self, fold_dir: Path, predictions: pd.DataFrame, extras: dict[str, np.ndarray]) -> None:
        """Write each extra as ``<name>.npy`` (rows in predictions.csv order)."""
        for name, values in extras.items():
            with atomic_path(fold_dir / f"{name}.npy") as tmp:
                with open(tmp, "wb") as handle:
                    np.save(handle, values)


def batches(order: np.ndarray, size: int, images_per_sample: int = 1) -> list[np.ndarray]:
    """Consecutive batches of ``size`` samples of ``order``; a last batch of a single image joins the previous
    (BatchNorm needs two; a last pair of CL is two images and stays). The training loop cuts its batches here
    (:meth:`Method.epoch_batches`), and :meth:`Method.budget` counts them."""
    parts = [order[i:i + size] for i in range(0, len(order), size)]
    if len(parts) > 1 and len(parts[-1]) * images_per_sample < 2:
        parts[-2] = np.concatenate(parts[-2:])
        parts.pop()
    return parts


def label_indices(labels: pd.Series) -> np.ndarray:
    """Class indices (``CLASSES`` order) of label names."""
    return labels.map({name: i for i, name in enumerate(CLASSES)}).to_numpy(dtype=np.int64, copy=True)


TRAINING_SUBSETS: dict[str, str] = {
    "pe": "both images of every MSD-PE pair (paper Table 5)",
    "mix": "all images",
    "nm": "non-masked images",
    "m": "masked images",
}


def check_subset(subset: str, allowed: dict[str, str] = TRAINING_SUBSETS) -> None:
    """Raise :class:`DataError` for a training subset outside ``allowed``."""
    if subset not in allowed:
        raise DataError(f"subset {subset!r}: use one of {', '.join(allowed)}")


def subset_images(table: pd.DataFrame, subset: str) -> TrainingSet:
    """The training rows of ``subset`` (a :data:`TRAINING_SUBSETS` key) as single-image samples."""
    if subset == "pe":
        pairs = image_pairs(table)
        return TrainingSet(pairs.rows.reshape(-1, 1), np.repeat(pairs.labels, pairs.rows.shape[1]), ("image",))
    if subset == "nm":
        table = table[~table["masked"]]
    elif subset == "m":
        table = table[table["masked"]]
    return single_images(table)


def single_images(table: pd.DataFrame) -> TrainingSet:
    """Each row of ``table`` as a one-view sample (rows are the table's index = cache rows)."""
    return TrainingSet(table.index.to_numpy()[:, None], label_indices(table["label"]), ("image",))


def image_pairs(table: pd.DataFrame) -> TrainingSet:
    """MSD-PE pairs of ``table``: one non-masked and one masked image with the same label.

    Views are ``("non-masked", "masked")``; pairs are ordered by ``pair_id``.
    """
    labels = complete_pairs(table).sort_index()
    paired = table[table["pair_id"].isin(labels.index)]
    nm = paired[~paired["masked"]].reset_index().set_index("pair_id")["index"]
    m = paired[paired["masked"]].reset_index().set_index("pair_id")["index"]
    rows = np.stack([nm.loc[labels.index].to_numpy(), m.loc[labels.index].to_numpy()], 1)
    return TrainingSet(rows, label_indices(labels), ("non-masked", "masked"))
