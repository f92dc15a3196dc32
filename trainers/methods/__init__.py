"""Training-method registry: model name (``baseline-nm``, ``cl``, ``kd``, ...) -> method.

Each module of this package registers its method class with :func:`register_method`, once per
model name it trains, giving the option defaults that distinguish them (e.g. the supervised
method trains ``baseline-nm`` with ``subset="nm"``). Adding a method is one new file; the
contract is :class:`trainers.methods.base.Method`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from trainers.config import TrainConfig
from trainers.errors import DataError
from trainers.methods.base import Method

METHODS: dict[str, tuple[type[Method], dict[str, Any]]] = {}


def register_method(name: str, **defaults: Any) -> Callable[[type[Method]], type[Method]]:
    """Class decorator: train model ``name`` with this method and these option defaults."""

    def decorator(cls: type[Method]) -> type[Method]:
        if name in METHODS:
            raise ValueError(f"method for model {name!r} is registered twice")
        METHODS[name] = (cls, defaults)
        return cls

    return decorator


def create_method(name: str, config: TrainConfig) -> Method:
    """The method that trains model ``name`` under ``config``."""
    if name not in METHODS:
        raise DataError(f"unknown model {name!r}; available: {', '.join(METHODS)}")
    cls, defaults = METHODS[name]
    return cls(name, config, defaults)


def _import_method_modules() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


_import_method_modules()
