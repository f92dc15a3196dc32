"""Integrated Gradients from a mean-image baseline (captum ``IntegratedGradients``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from captum.attr import IntegratedGradients as CaptumIntegratedGradients

from interp.attribution import ATTRIBUTIONS
from interp.attribution.base import Attributor
from trainers.common.errors import DataError


@dataclass(frozen=True)
class IntegratedGradientsSettings:
    """``steps``: Riemann steps of the path integral (captum ``n_steps``); more steps, closer completeness."""

    steps: int = 16

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise DataError(f"steps must be >= 1, got {self.steps}")


@ATTRIBUTIONS.register()
class IntegratedGradients(Attributor):
    """Path integral of gradients from the all-zero normalised input (the dataset mean colour).

    The per-pixel map is the signed sum over colour channels, so the maps of an image sum to the
    logit difference between the image and the baseline (completeness).

    Settings: ``steps`` (:class:`IntegratedGradientsSettings`).

    References
    ----------
    Sundararajan, Taly and Yan (2017), "Axiomatic attribution for deep networks", ICML.
    """

    name = "integrated_gradients"
    description = "Integrated Gradients, zero (mean-colour) baseline, channel sum"
    reference = "Sundararajan et al. 2017, Axiomatic attribution for deep networks, ICML"
    Settings = IntegratedGradientsSettings

    def _build(self) -> CaptumIntegratedGradients:
        return CaptumIntegratedGradients(self._scorer)

    def _attribute(self, batch: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        maps = self._method.attribute(batch, baselines=0.0, target=target, n_steps=self.settings.steps,
                                      internal_batch_size=self.batch_size)
        return maps.sum(dim=1)
