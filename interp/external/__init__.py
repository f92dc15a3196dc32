"""Audit models trained elsewhere: model cards and loaders for model files.

:func:`load_model` turns a :class:`~interp.external.card.ModelCard` (from
:func:`~interp.external.card.load_card`) into an eval-mode torch module through the card's format
(:data:`interp.external.formats.FORMATS`: ``onnx``, ``torchscript``, ``state_dict``, ``factory``,
``keras``), fills the card from what the file says, and checks both with one forward pass.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import torch
from torch import nn

from interp.external.card import ModelCard, ModelInfo
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

CHECK_BATCH = 2
"""Images in the test forward pass (two, so that a model that only takes one at a time is caught)."""


@dataclass(frozen=True)
class ExternalModel:
    """A loaded model: the module, its resolved card and what its file said.

    Attributes
    ----------
    module
        Eval-mode ``nn.Module``: ``card.preprocess(images)`` (float32 ``(N, C, S, S)``, any ``N``) ->
        ``(N, len(card.classes))`` raw outputs (logits or probabilities, see ``card.outputs``).
    card
        The card with input size, channels, mean, std and classes filled (record ``card.to_dict()``).
    info
        What the file said about itself, with ``n_outputs`` from the test forward pass.
    """

    module: nn.Module
    card: ModelCard
    info: ModelInfo


def load_model(card: ModelCard) -> ExternalModel:
    """Load the model of ``card``, resolve the card against it and check one forward pass.

    Raises
    ------
    DataError
        When the file is missing, unreadable or not convertible, the input size or classes are not
        known, the model refuses the card's input, or its output count differs from the classes.
    """
    from interp.external.formats import choose_format
    from interp.external.formats.base import describe_error

    chosen = choose_format(card)
    module, info = chosen.load(card)
    module.eval()
    preliminary = card.resolved(info)
    size, channels = preliminary.input_size, preliminary.channels
    sample = torch.zeros(CHECK_BATCH, channels, size, size)
    try:
        with torch.no_grad():
            outputs = module(sample)
    except Exception as exc:  # any framework error: wrong size, channel count or layout
        raise DataError(f"{card.model or card.factory}: the model refused a {tuple(sample.shape)} input "
                        f"({describe_error(exc)}); fix --input-size / --colour (or the card's input_size / "
                        "colour / channels)") from exc
    if not isinstance(outputs, torch.Tensor) or outputs.ndim != 2 or outputs.shape[0] != CHECK_BATCH:
        shape = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else type(outputs).__name__
        raise DataError(f"{card.model or card.factory}: the model returned {shape} for {CHECK_BATCH} images, "
                        "not one row of class scores per image; wrap it so that it returns (N, classes)")
    info = dataclasses.replace(info, n_outputs=int(outputs.shape[1]))
    resolved = card.resolved(info)
    if card.mean is None and info.mean is None:
        log.info("%s: no --mean/--std given; using %s", resolved.name,
                 "ImageNet statistics" if resolved.colour == "rgb" else "0.5 / 0.5 (pixels to [-1, 1])")
    log.info("%s: %s model, input %dx%d x%d, %d outputs (%s)", resolved.name, chosen.name, size, size, channels,
             info.n_outputs, ", ".join(resolved.output_classes()))
    return ExternalModel(module, dataclasses.replace(resolved, format=chosen.name), info)
