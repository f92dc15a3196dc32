"""A model's raw outputs read as logits or probabilities (as its card says, or detected)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from interp.external.card import ModelCard

PROBABILITY_TOLERANCE = 1e-3
"""How far rows may sum from 1 (and values stray outside [0, 1]) and still be read as probabilities."""


def detect_output_kind(outputs: torch.Tensor | np.ndarray) -> str:
    """``"probs"`` when every row lies in [0, 1] and sums to 1 (within :data:`PROBABILITY_TOLERANCE`), else ``"logits"``."""
    values = torch.as_tensor(outputs, dtype=torch.float64)
    if values.numel() == 0:
        return "logits"
    inside = bool(((values >= -PROBABILITY_TOLERANCE) & (values <= 1 + PROBABILITY_TOLERANCE)).all())
    sums = bool(((values.sum(-1) - 1).abs() <= PROBABILITY_TOLERANCE).all())
    return "probs" if inside and sums else "logits"


def output_kind(outputs: torch.Tensor | np.ndarray, card: ModelCard) -> str:
    """The card's ``outputs`` (``"logits"`` or ``"probs"``), detected from ``outputs`` when ``"auto"``."""
    return detect_output_kind(outputs) if card.outputs == "auto" else card.outputs


def to_log_probabilities(outputs: torch.Tensor, card: ModelCard) -> torch.Tensor:
    """Log-probabilities ``(N, K)`` from the model's raw ``outputs``: log-softmax of logits, log of probabilities.

    Differentiable, so Grad-CAM can use it as the score of a class when the model outputs probabilities.
    """
    if output_kind(outputs.detach(), card) == "probs":
        return outputs.clamp_min(torch.finfo(outputs.dtype).tiny).log()
    return outputs.log_softmax(-1)


def to_probabilities(outputs: torch.Tensor | np.ndarray, card: ModelCard) -> torch.Tensor:
    """Probabilities ``(N, K)`` (rows sum to 1) from the model's raw ``outputs`` (logits or probabilities)."""
    values = torch.as_tensor(outputs, dtype=torch.float32)
    if output_kind(values, card) == "probs":
        values = values.clamp(0.0, 1.0)
        return values / values.sum(-1, keepdim=True).clamp_min(torch.finfo(values.dtype).tiny)
    return values.softmax(-1)
