"""Built-in model cards: ``python -m interp.audit NAME`` audits a model shipped in an installed wheel.

Each module of this package registers a function returning its :class:`~interp.external.card.ModelCard`
with :data:`BUILTIN_CARDS`, so adding a shipped model is one new file.
"""

from __future__ import annotations

from collections.abc import Callable

from interp.external.card import ModelCard
from trainers.common.registry import Registry

BUILTIN_CARDS: Registry[Callable[[], ModelCard]] = Registry("built-in model card", package=__name__)
register_card = BUILTIN_CARDS.register
