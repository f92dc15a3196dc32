"""Grad-CAM on the model's declared target layer (captum ``LayerGradCam``), upsampled bilinearly."""

from __future__ import annotations

import logging

import torch
from captum.attr import LayerAttribution, LayerGradCam

from interp.attribution import ATTRIBUTIONS
from interp.attribution.base import Attributor

log = logging.getLogger(__name__)
_WARNED: set[tuple[str, int]] = set()


@ATTRIBUTIONS.register()
class GradCam(Attributor):
    """Gradient-weighted class activation map of ``model.gradcam_layer``.

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

    def _build(self) -> LayerGradCam:
        return LayerGradCam(self._scorer, self.layer())

    def _attribute(self, batch: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        coarse = self._method.attribute(batch, target=target, relu_attributions=False)
        if min(coarse.shape[-2:]) < 3 and (str(self.layer_name), batch.shape[-1]) not in _WARNED:
            _WARNED.add((str(self.layer_name), batch.shape[-1]))  # once per layer and size, not per batch
            log.warning("%s is %dx%d at %d px input: Grad-CAM cannot localise at this resolution and region "
                        "metrics will be near their chance values; use a larger image_size (112 px gives 4x4 "
                        "on a ResNet)", self.layer_name, *coarse.shape[-2:], batch.shape[-1])
        upsampled = LayerAttribution.interpolate(coarse, tuple(batch.shape[-2:]), interpolate_mode="bilinear")
        return upsampled[:, 0]
