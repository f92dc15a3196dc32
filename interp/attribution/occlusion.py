"""Occlusion: the logit drop when a square patch is replaced by the mean colour (captum ``Occlusion``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from captum.attr import Occlusion as CaptumOcclusion

from interp.attribution import ATTRIBUTIONS
from interp.attribution.base import Attributor
from trainers.common.errors import DataError


@dataclass(frozen=True)
class OcclusionSettings:
    """``window``: patch side as a fraction of the image side; ``stride``: step as a fraction of the patch side."""

    window: float = 0.125
    stride: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.window <= 1 or not 0 < self.stride <= 1:
            raise DataError(f"window ({self.window}) and stride ({self.stride}) must be fractions in (0, 1]")


@ATTRIBUTIONS.register()
class Occlusion(Attributor):
    """Sliding-window occlusion with a zero (mean-colour) patch.

    Settings: ``window`` and ``stride`` (:class:`OcclusionSettings`).

    References
    ----------
    Zeiler and Fergus (2014), "Visualizing and understanding convolutional networks", ECCV.
    """

    name = "occlusion"
    description = "sliding-window occlusion with a mean-colour patch"
    reference = "Zeiler and Fergus 2014, Visualizing and understanding convolutional networks, ECCV"
    Settings = OcclusionSettings

    def _build(self) -> CaptumOcclusion:
        return CaptumOcclusion(self._scorer)

    def _attribute(self, batch: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        channels, height, _ = batch.shape[1:]
        side = max(1, round(self.settings.window * height))
        step = max(1, round(self.settings.stride * side))
        per_eval = max(1, self.batch_size // len(batch))
        maps = self._method.attribute(batch, sliding_window_shapes=(channels, side, side),
                                      strides=(channels, step, step), baselines=0.0, target=target,
                                      perturbations_per_eval=per_eval)
        return maps.mean(dim=1)
