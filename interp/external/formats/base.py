"""The shape every model format has: which files it claims, and how it loads a card's model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from torch import nn

from interp.external.card import ModelCard, ModelInfo


class ModelFormat:
    """One way of reading a model into torch; subclasses set ``name`` and ``extensions`` and define :meth:`load`."""

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()

    def claims(self, path: Path) -> bool:
        """Whether ``path`` is a file of this format (default: by its extension, any case)."""
        return path.name.lower().endswith(self.extensions)

    def load(self, card: ModelCard) -> tuple[nn.Module, ModelInfo]:
        """The model of ``card`` (eval mode, ``(N, C, H, W)`` -> ``(N, outputs)``) and what its file says.

        Raises
        ------
        DataError
            When the file is missing, unreadable or not convertible; the message names the file and the fix.
        """
        raise NotImplementedError


def describe_error(exc: Exception) -> str:
    """``"Type: reason"`` from the last line of an exception's message.

    TorchScript and other framework errors carry a traceback in their message; the reason is its
    last line, which often names its own type already.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = lines[-1] if lines else ""
    return reason if re.match(r"^\w+(Error|Exception):", reason) else f"{type(exc).__name__}: {reason}"
