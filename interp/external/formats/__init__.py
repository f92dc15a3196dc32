"""Model file formats: one module per format, each registering a :class:`ModelFormat` in :data:`FORMATS`.

A format turns a :class:`~interp.external.card.ModelCard` into an eval-mode ``nn.Module`` that takes
the card's preprocessed float32 ``(N, C, H, W)`` batch, of any ``N``, and returns ``(N, outputs)``,
together with what the file says about its input (:class:`~interp.external.card.ModelInfo`).
:func:`choose_format` picks one: the card's ``format``; ``factory`` when the card names a factory;
``state_dict`` when it names an ``arch``; else the first format that claims the file (by extension,
and for ``.pt``/``.pth`` by content: a TorchScript archive or a pickled state dict).
"""

from __future__ import annotations

from pathlib import Path

from interp.external.card import ModelCard
from interp.external.formats.base import ModelFormat
from trainers.common.errors import DataError
from trainers.common.registry import Registry

FORMATS: Registry[type[ModelFormat]] = Registry("model format", package=__name__, skip=("base",))
register_format = FORMATS.register

CLAIM_ORDER: tuple[str, ...] = ("onnx", "keras", "torchscript", "state_dict")
"""Formats asked, in turn, whether a file is theirs (TorchScript before the state dict: both are ``.pt``)."""


def choose_format(card: ModelCard) -> ModelFormat:
    """The format that loads ``card`` (see the module docstring).

    Raises
    ------
    DataError
        For an unknown ``--format``, a missing model file, or a file no format claims.
    """
    if card.format is not None:
        return FORMATS[card.format]()
    if card.factory is not None:
        return FORMATS["factory"]()
    if card.model is None:
        raise DataError(f"{card.where}: no model file; give a model path, --factory or a built-in card name")
    path = Path(card.model)
    if not path.is_file():
        raise DataError(f"{path}: no such model file; check the path (or the card's \"model\")")
    if card.arch is not None:
        return FORMATS["state_dict"]()
    for name in CLAIM_ORDER:
        chosen = FORMATS[name]()
        if chosen.claims(path):
            return chosen
    extensions = sorted({ext for name in FORMATS for ext in FORMATS[name].extensions})
    raise DataError(f"{path}: unknown model file type; use one of {', '.join(extensions)} or pass --format "
                    f"({', '.join(sorted(FORMATS))})")
