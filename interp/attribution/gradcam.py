"""Grad-CAM on the model's target layer (captum ``LayerGradCam``), upsampled bilinearly.

The target is the deepest of the model's ``gradcam_layers`` (deepest first; default its one
``gradcam_layer``) whose map is at least ``min_side`` (7) pixels on each side at the images' size,
chosen on the first batch: a ResNet's layer4 at 224 px (7x7, the paper's setting), its layer2 at
56-64 px, where layer4 would be a 2x2 map that cannot localise anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from captum.attr import LayerAttribution, LayerGradCam

from interp.attribution import ATTRIBUTIONS
from interp.attribution.base import Attributor

log = logging.getLogger(__name__)
_WARNED: set[tuple[str, int]] = set()
_LOGGED: set[tuple[str, str, int]] = set()


@dataclass
class GradCamSettings:
    """``min_side``: the smallest map side (pixels of the target layer) Grad-CAM accepts before it moves to
    a finer layer of the model's ``gradcam_layers``; 0 keeps ``model.gradcam_layer``."""

    min_side: int = 7


@ATTRIBUTIONS.register()
class GradCam(Attributor):
    """Gradient-weighted class activation map of the chosen target layer (see the module docstring).

    Maps are the signed channel sums (no ReLU, so negative evidence is kept in the stored maps;
    region metrics use the positive part, which is Grad-CAM's usual ReLU), upsampled to the input
    size with bilinear interpolation.

    References
    ----------
    Selvaraju et al. (2017), "Grad-CAM: Visual explanations from deep networks via
    gradient-based localization", ICCV.
    """

    name = "gradcam"
    description = "Grad-CAM on the declared target layer, bilinear upsampling"
    reference = "Selvaraju et al. 2017, Grad-CAM, ICCV"
    selects_in_forward = True
    Settings = GradCamSettings

    def _build(self) -> None:
        """Check the declared layer; the captum object is built on the first batch, once the target
        layer is chosen for the images' size."""
        self.layer()
        return None

    def _attribute(self, batch: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        if self._method is None:
            self.layer_name = self._choose_layer(batch[:1])
            self._method = LayerGradCam(self._scorer, self.layer())
        coarse = self._method.attribute(batch, target=target, relu_attributions=False)
        self.grid = (int(coarse.shape[-2]), int(coarse.shape[-1]))
        if min(coarse.shape[-2:]) < 3 and (str(self.layer_name), batch.shape[-1]) not in _WARNED:
            _WARNED.add((str(self.layer_name), batch.shape[-1]))  # once per layer and size, not per batch
            log.warning("%s is %dx%d at %d px input: Grad-CAM cannot localise at this resolution and region "
                        "metrics will be near their chance values; use a larger image_size (112 px gives 4x4 "
                        "on a ResNet)", self.layer_name, *coarse.shape[-2:], batch.shape[-1])
        upsampled = LayerAttribution.interpolate(coarse, tuple(batch.shape[-2:]), interpolate_mode="bilinear")
        return upsampled[:, 0]

    def _choose_layer(self, image: torch.Tensor) -> str:
        """The deepest candidate layer whose map is at least ``min_side`` on each side (else the finest).

        An explicit ``layer=`` or a model without ``gradcam_layers`` keeps ``self.layer_name``.
        """
        candidates = list(getattr(self.model, "gradcam_layers", ()))
        if self.layer_name != getattr(self.model, "gradcam_layer", None) or not candidates:
            return str(self.layer_name)
        sides: dict[str, int] = {}
        hooks = [self.model.get_submodule(name).register_forward_hook(
            lambda _module, _inputs, output, name=name: sides.__setitem__(name, min(output.shape[-2:])))
            for name in candidates]
        try:
            with torch.no_grad():
                self.model(image)
        finally:
            for hook in hooks:
                hook.remove()
        chosen = next((name for name in candidates if sides[name] >= self.settings.min_side),
                      max(candidates, key=lambda name: sides[name]))
        if chosen != candidates[0] and (type(self.model).__name__, chosen, image.shape[-1]) not in _LOGGED:
            _LOGGED.add((type(self.model).__name__, chosen, image.shape[-1]))  # once, not per fold or null draw
            log.info("Grad-CAM target at %d px: %s (%d px map) instead of %s (%d px)", image.shape[-1], chosen,
                     sides[chosen], candidates[0], sides[candidates[0]])
        return chosen
