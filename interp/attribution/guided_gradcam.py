"""Guided Grad-CAM: guided backpropagation times the upsampled Grad-CAM (captum ``GuidedGradCam``)."""

from __future__ import annotations

import warnings

import torch
from captum.attr import GuidedGradCam as CaptumGuidedGradCam

from interp.attribution import ATTRIBUTIONS
from interp.attribution.base import Attributor


@ATTRIBUTIONS.register()
class GuidedGradCam(Attributor):
    """Pixel-resolution Grad-CAM: element-wise product with guided backpropagation.

    The per-pixel map is the sum over colour channels of the absolute attribution: guided
    gradients are gradient-like, and their sign per colour channel carries no spatial meaning.

    References
    ----------
    Selvaraju et al. (2017), "Grad-CAM", ICCV; Springenberg et al. (2015), "Striving for
    simplicity: the all convolutional net", ICLR workshop (guided backpropagation).
    """

    name = "guided_gradcam"
    description = "Guided Grad-CAM (guided backprop x Grad-CAM), |.| summed over channels"
    reference = "Selvaraju et al. 2017, Grad-CAM, ICCV; Springenberg et al. 2015"
    selects_in_forward = True
    out_of_place_relu = True

    def _build(self) -> CaptumGuidedGradCam:
        return CaptumGuidedGradCam(self._scorer, self.layer())

    def _attribute(self, batch: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        with warnings.catch_warnings():  # captum announces its (removed) ReLU hooks on every call
            warnings.simplefilter("ignore", UserWarning)
            maps = self._method.attribute(batch, target=target, interpolate_mode="bilinear")
        return maps.abs().sum(dim=1)
