"""Occlusion: the logit drop when a square patch is replaced by the mean colour (captum ``Occlusion``)."""

from __future__ import annotations

import torch
from captum.attr import Occlusion as CaptumOcclusion
from torch import nn

from interp.attribution import ATTRIBUTIONS
from interp.attribution.base import Attributor


@ATTRIBUTIONS.register()
class Occlusion(Attributor):
    """Sliding-window occlusion with a zero (mean-colour) patch.

    Parameters
    ----------
    window
        Patch side as a fraction of the image side.
    stride
        Step as a fraction of the patch side.

    References
    ----------
    Zeiler and Fergus (2014), "Visualizing and understanding convolutional networks", ECCV.
    """

    name = "occlusion"
    description = "sliding-window occlusion with a mean-colour patch"
    reference = "Zeiler and Fergus 2014, Visualizing and understanding convolutional networks, ECCV"

    def __init__(self, model: nn.Module, *, window: float = 0.125, stride: float = 0.5, **options: object) -> None:
        super().__init__(model, **options)
        if not 0 < window <= 1 or not 0 < stride <= 1:
            raise ValueError(f"window ({window}) and stride ({stride}) must be fractions in (0, 1]")
        self.window, self.stride = window, stride

    def _build(self) -> CaptumOcclusion:
        return CaptumOcclusion(self._scorer)

    def _attribute(self, batch: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        channels, height, _ = batch.shape[1:]
        side = max(1, round(self.window * height))
        step = max(1, round(self.stride * side))
        per_eval = max(1, self.batch_size // len(batch))
        maps = self._method.attribute(batch, sliding_window_shapes=(channels, side, side),
                                      strides=(channels, step, step), baselines=0.0, target=target,
                                      perturbations_per_eval=per_eval)
        return maps.mean(dim=1)
