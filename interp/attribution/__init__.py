"""Attribution methods: a registry of context managers over captum.

``ATTRIBUTIONS`` maps a method's name to its class; each module of this package (other than
``base``) registers one with ``@ATTRIBUTIONS.register()``, so adding a method is one file, and the
tests iterate the registry::

    with create("gradcam", model, batch_size=32) as method:
        out = method.attribute(images, target="pred")
"""

from __future__ import annotations

from torch import nn

from interp.attribution.base import AttributionOutput, Attributor, to_model_input
from trainers.common.registry import Registry

ATTRIBUTIONS: Registry[type[Attributor]] = Registry("attribution method", package=__name__, skip=("base",))


def create(name: str, model: nn.Module, **options: object) -> Attributor:
    """An attribution method by registry name (use it as a context manager).

    Raises
    ------
    DataError
        For an unknown name; the message lists the registered ones.
    """
    return ATTRIBUTIONS[name](model, **options)


__all__ = ["ATTRIBUTIONS", "AttributionOutput", "Attributor", "create", "to_model_input"]
