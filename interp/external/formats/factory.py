"""Any Python model: ``--factory package.module:function`` returns the ``nn.Module``.

The function is called without arguments (wrap a ``timm.create_model(...)`` call in one); when the
card also names a model file, its state dict (``torch.load(weights_only=True)``) is loaded into the
module strictly.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from torch import nn

from interp.external.card import ModelCard, ModelInfo
from interp.external.formats import register_format
from interp.external.formats.base import ModelFormat
from interp.external.formats.state_dict import fill, read_state, tensors_of
from trainers.common.errors import DataError


def call_factory(spec: str) -> nn.Module:
    """Import ``package.module`` and call its ``function`` (``spec`` = ``"package.module:function"``)."""
    module_name, _, function_name = spec.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise DataError(f"--factory {spec}: cannot import it ({exc}); give \"package.module:function\" importable "
                        "from this Python (put its folder on PYTHONPATH)") from exc
    model = function()
    if not isinstance(model, nn.Module):
        raise DataError(f"--factory {spec}: returned {type(model).__name__}, not a torch.nn.Module")
    return model


@register_format("factory")
class FactoryFormat(ModelFormat):
    """A model built by a Python function, optionally filled with a state dict file."""

    name = "factory"

    def claims(self, path: Path) -> bool:
        return False  # chosen by --factory, never by a file

    def load(self, card: ModelCard) -> tuple[nn.Module, ModelInfo]:
        if card.factory is None:
            raise DataError(f"{card.where}: --format factory needs --factory package.module:function")
        model = call_factory(card.factory)
        if card.model is not None:
            path = Path(card.model)
            fill(model, tensors_of(read_state(path), path), path, f"the module of --factory {card.factory}")
        return model.eval(), ModelInfo()
