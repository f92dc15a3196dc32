"""Training-method registry: model name (``baseline-nm``, ``cl``, ``kd``, ...) -> method.

Each module of this package registers its method class with :func:`register_method`, once per
model name it trains, giving the option defaults that distinguish them (e.g. the supervised
method trains ``baseline-nm`` with ``subset="nm"``). Adding a method is one new file; the
contract is :class:`trainers.methods.base.Method`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trainers.config import TrainConfig
from trainers.methods.base import Method
from trainers.registry import Registry

METHODS: Registry[tuple[type[Method], dict[str, Any]]] = Registry("model", package=__name__, skip=("base",))


def register_method(name: str, **defaults: Any) -> Callable[[type[Method]], type[Method]]:
    """Class decorator: train model ``name`` with this method and these option defaults."""

    def decorator(cls: type[Method]) -> type[Method]:
        METHODS.add(name, (cls, defaults), origin=cls)
        return cls

    return decorator


def create_method(name: str, config: TrainConfig) -> Method:
    """The method that trains model ``name`` under ``config``."""
    cls, defaults = METHODS[name]
    return cls(name, config, defaults)
