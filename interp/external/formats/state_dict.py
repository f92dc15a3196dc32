"""Torch state dicts: our own runs' ``checkpoint.pt``, or a bare state dict with ``--arch NAME``.

Always read with ``torch.load(weights_only=True)``: a pickle that needs arbitrary code is refused.
Our checkpoint (``{"model": state, "config": {...}}``) rebuilds itself from its recorded
architecture and says its input size, normalisation and classes. A bare state dict (also under a
``state_dict``/``model``/``model_state_dict`` key, ``module.`` prefixes from DataParallel removed)
needs the architecture from our model registry (``--arch``) and the classes (``--classes``), whose
count sets the head's size.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from interp.external.card import ModelCard, ModelInfo
from interp.external.formats import register_format
from interp.external.formats.base import ModelFormat, describe_error
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

NESTED_KEYS = ("state_dict", "model_state_dict", "model")
"""Keys under which checkpoints commonly keep the state dict."""


def read_state(path: Path) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; ``DataError`` naming the file when it fails."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such checkpoint file; check the model path") from exc
    except Exception as exc:  # unpickling refused (weights_only) or a truncated/foreign file
        raise DataError(f"{path}: not a loadable torch state dict ({describe_error(exc)}); save the weights "
                        "with torch.save(model.state_dict(), path) (plain tensors load with weights_only=True)") from exc


def tensors_of(state: Any, path: Path) -> dict[str, torch.Tensor]:
    """The parameter tensors inside a loaded checkpoint (unwrapped from common keys, ``module.`` removed)."""
    for key in NESTED_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataError(f"{path}: holds no state dict of tensors; save one with torch.save(model.state_dict(), path)")
    return {name.removeprefix("module."): tensor for name, tensor in state.items()}


def fill(model: nn.Module, tensors: dict[str, torch.Tensor], path: Path, what: str) -> None:
    """Load ``tensors`` into ``model`` strictly; ``DataError`` listing what does not fit."""
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise DataError(f"{path}: the weights do not fit {what} ({str(exc).splitlines()[0]} ...); check --arch "
                        "and --classes (their count sets the head's size)") from exc


@register_format("state_dict")
class StateDictFormat(ModelFormat):
    """A pickled state dict (``.pt``, ``.pth``, ``.pth.tar``, ``.ckpt``, ``.bin``) or our ``checkpoint.pt``."""

    name = "state_dict"
    extensions = (".pt", ".pth", ".pth.tar", ".ckpt", ".bin")

    def load(self, card: ModelCard) -> tuple[nn.Module, ModelInfo]:
        from trainers.models import create

        path = Path(str(card.model))
        state = read_state(path)
        config = state.get("config") if isinstance(state, dict) else None
        if isinstance(config, dict) and "architecture" in config and isinstance(state.get("model"), dict):
            model = create(config["architecture"], config["num_classes"], **config.get("architecture_options", {}))
            fill(model, tensors_of(state["model"], path), path, f"{config['architecture']} (from its checkpoint)")
            normalisation = config.get("normalisation", {})
            log.info("%s: our checkpoint of %s (%s)", path.name, config.get("model", "?"), config["architecture"])
            return model.eval(), ModelInfo(
                input_size=config.get("image_size"), channels=3, n_outputs=config["num_classes"],
                classes=tuple(config["classes"]) if config.get("classes") else None,
                mean=tuple(normalisation["mean"]) if "mean" in normalisation else None,
                std=tuple(normalisation["std"]) if "std" in normalisation else None, outputs="logits")
        if card.arch is None:
            raise DataError(f"{path}: a bare state dict does not say its architecture; pass --arch NAME (one of "
                            "trainers.models.MODELS) or --factory package.module:function")
        if not card.classes:
            raise DataError(f"{path}: pass --classes (in the model's output order) so that the {card.arch} head "
                            "gets one output per class")
        model = create(card.arch, len(card.classes))
        fill(model, tensors_of(state, path), path, f"--arch {card.arch} with {len(card.classes)} classes")
        return model.eval(), ModelInfo(channels=3, n_outputs=len(card.classes))
