"""Attribution methods: a registry of context managers over captum.

``ATTRIBUTIONS`` maps a method's name to its class; adding a method is one file plus one line
here, and the tests iterate the registry::

    with create("gradcam", model, batch_size=32) as method:
        out = method.attribute(images, target="pred")
"""

from __future__ import annotations

from torch import nn

from interp.attribution.base import AttributionOutput, Attributor, to_model_input
from interp.attribution.gradcam import GradCam
from interp.attribution.guided_gradcam import GuidedGradCam
from interp.attribution.integrated_gradients import IntegratedGradients
from interp.attribution.occlusion import Occlusion

ATTRIBUTIONS: dict[str, type[Attributor]] = {
    cls.name: cls for cls in (GradCam, GuidedGradCam, IntegratedGradients, Occlusion)
}


def create(name: str, model: nn.Module, **options: object) -> Attributor:
    """An attribution method by registry name (use it as a context manager).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the registered ones.
    """
    if name not in ATTRIBUTIONS:
        raise ValueError(f"unknown attribution method {name!r}; choose from {', '.join(ATTRIBUTIONS)}")
    return ATTRIBUTIONS[name](model, **options)


__all__ = ["ATTRIBUTIONS", "AttributionOutput", "Attributor", "create", "to_model_input"]
