"""The attribution template: a batched, hook-safe context manager around one captum method.

``with GradCam(model) as method: out = method.attribute(images, target="pred")`` puts the model
in eval mode, freezes its parameters (attributions need gradients with respect to activations or
inputs, never weights, and skipping weight gradients is much faster), runs the captum method in
chunks of ``batch_size`` with gradients enabled even under ``torch.no_grad()``, and on exit, also
after an exception, removes every hook added to the model meanwhile and restores the model's
modes and ``requires_grad`` flags. Subclasses implement :meth:`Attributor._build` and
:meth:`Attributor._attribute`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np
import torch
from torch import nn

from trainers.common.options import build

log = logging.getLogger(__name__)

_HOOK_DICTS = (
    "_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
    "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks",
)


@dataclass(frozen=True)
class AttributionOutput:
    """Maps and the model's answer for a set of images.

    Attributes
    ----------
    maps
        ``(N, H, W)`` float32 attribution maps at the input size; positive = evidence for the target.
    targets
        ``(N,)`` class indices the maps explain.
    logits
        ``(N, C)`` float32 logits of the unmodified model.
    """

    maps: np.ndarray
    targets: np.ndarray
    logits: np.ndarray

    @property
    def preds(self) -> np.ndarray:
        """Predicted class index per image."""
        return self.logits.argmax(axis=1)


@dataclass(frozen=True)
class NoSettings:
    """Settings of a method that has none of its own."""


class _Scorer(nn.Module):
    """Wrap a classifier: record its logits and, when asked, return one chosen logit per row.

    Choosing the row's own argmax inside the forward pass lets Grad-CAM explain the predicted
    class with a single forward pass instead of a prediction pass first.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.select: str | torch.Tensor | None = None
        self.last_logits: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)
        if self.select is None:
            return logits
        self.last_logits = logits.detach()
        index = logits.argmax(dim=1) if isinstance(self.select, str) else self.select
        return logits.gather(1, index.view(-1, 1)).squeeze(1)


class Attributor(ABC):
    """Base of every attribution method (see the module docstring).

    Parameters
    ----------
    model
        Classifier returning ``(N, C)`` logits; models of the registry declare ``gradcam_layer``.
    layer
        Dotted name of the target submodule for layer methods (default: ``model.gradcam_layer``).
    batch_size
        Images per internal batch.
    channels_last
        Pass inputs in channels-last memory format (faster convolutions on CPU and GPU).
    bf16
        Run the model under bfloat16 autocast (2-3x faster on CPUs with bf16 support; maps then
        carry about 3 significant digits, plenty for region metrics). Off by default.
    **settings
        The method's own settings, fields of its ``Settings`` dataclass (e.g. Integrated Gradients'
        ``steps``), type-checked by :func:`trainers.common.options.build`; text values are parsed.
    """

    Settings: ClassVar[type] = NoSettings
    name: ClassVar[str]
    description: ClassVar[str]
    reference: ClassVar[str]
    selects_in_forward: ClassVar[bool] = False
    out_of_place_relu: ClassVar[bool] = False

    def __init__(self, model: nn.Module, *, layer: str | None = None, batch_size: int = 32,
                 channels_last: bool = True, bf16: bool = False, **settings: object) -> None:
        self.settings = build(self.Settings, settings, f"{self.name} settings")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.layer_name = layer if layer is not None else getattr(model, "gradcam_layer", None)
        self.batch_size = batch_size
        self.channels_last = channels_last
        self.bf16 = bf16
        self._scorer = _Scorer(model)
        self.grid: tuple[int, int] | None = None
        """The maps' native grid before upsampling (Grad-CAM: its target layer's map), once known;
        ``None`` for maps made at the input's own pixels."""
        self._saved: dict[str, Any] | None = None
        self._method: Any = None

    # -- context management -------------------------------------------------------------
    def __enter__(self) -> "Attributor":
        modules = list(self.model.modules())
        self._saved = {
            "hooks": [{name: set(getattr(m, name, {})) for name in _HOOK_DICTS} for m in modules],
            "training": [m.training for m in modules],
            "requires_grad": [p.requires_grad for p in self.model.parameters()],
            "modules": modules,
            "inplace": [m.inplace for m in modules if isinstance(m, nn.ReLU)],
        }
        try:
            self.model.eval()
            for parameter in self.model.parameters():
                parameter.requires_grad_(False)
            if self.out_of_place_relu:  # captum's ReLU backward hooks cannot wrap in-place ops
                for module in modules:
                    if isinstance(module, nn.ReLU):
                        module.inplace = False
            self._method = self._build()
        except BaseException:
            self._restore()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._restore()

    def _restore(self) -> None:
        saved, self._saved, self._method = self._saved, None, None
        if saved is None:
            return
        for module, before, training in zip(saved["modules"], saved["hooks"], saved["training"]):
            for name, keys in before.items():
                hooks = getattr(module, name, None)
                for key in [k for k in (hooks or {}) if k not in keys]:
                    del hooks[key]
            module.training = training
        relus = [m for m in saved["modules"] if isinstance(m, nn.ReLU)]
        for module, inplace in zip(relus, saved["inplace"]):
            module.inplace = inplace
        for parameter, flag in zip(self.model.parameters(), saved["requires_grad"]):
            parameter.requires_grad_(flag)
        self._scorer.select, self._scorer.last_logits = None, None

    # -- attribution ----------------------------------------------------------------------
    def attribute(self, images: torch.Tensor, target: str | Sequence[int] | np.ndarray | torch.Tensor = "pred",
                  *, progress: bool = False) -> AttributionOutput:
        """Attribution maps for ``(N, 3, H, W)`` model-ready images.

        Parameters
        ----------
        images
            Normalised float images (see :func:`to_model_input`).
        target
            ``"pred"`` to explain each image's predicted class, or ``N`` class indices (e.g. the
            true labels) to explain those classes.
        progress
            Show a tqdm bar over batches.

        Returns
        -------
        AttributionOutput
        """
        if self._saved is None:
            raise RuntimeError(f"use {type(self).__name__} as a context manager: `with method as m:`")
        images = _check_images(images)
        fixed = _check_target(target, len(images))
        maps, targets, logits = [], [], []
        starts = range(0, len(images), self.batch_size)
        if progress:
            from tqdm.auto import tqdm
            starts = tqdm(starts, desc=self.name, unit="batch")
        with torch.enable_grad():
            for start in starts:
                batch = images[start:start + self.batch_size]
                chosen = None if fixed is None else fixed[start:start + self.batch_size]
                batch_maps, batch_targets, batch_logits = self._run_batch(batch, chosen)
                maps.append(batch_maps.detach().float().cpu().numpy())
                targets.append(batch_targets.cpu().numpy())
                logits.append(batch_logits.float().cpu().numpy())
        return AttributionOutput(np.concatenate(maps), np.concatenate(targets), np.concatenate(logits))

    def _run_batch(self, batch: torch.Tensor, chosen: torch.Tensor | None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        device = next(self.model.parameters(), torch.empty(0)).device
        batch = batch.to(device)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16):
            return self._explain(batch, chosen, device)

    def _explain(self, batch: torch.Tensor, chosen: torch.Tensor | None, device: torch.device
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.selects_in_forward:
            self._scorer.select = "argmax" if chosen is None else chosen.to(device)
            maps = self._attribute(batch, None)
            logits = self._scorer.last_logits
        else:
            self._scorer.select = None
            with torch.no_grad():
                logits = self._scorer(batch)
            maps = self._attribute(batch, logits.argmax(dim=1) if chosen is None else chosen.to(device))
        targets = logits.argmax(dim=1) if chosen is None else chosen
        return maps, targets, logits

    @abstractmethod
    def _build(self) -> Any:
        """Create the captum object over ``self._scorer`` (called on ``__enter__``)."""

    @abstractmethod
    def _attribute(self, batch: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        """``(B, H, W)`` maps for one batch; ``target`` is None when the scorer selects."""

    def layer(self) -> nn.Module:
        """The target submodule named by ``layer`` / ``model.gradcam_layer``."""
        if not self.layer_name:
            raise ValueError(f"{self.name} needs a target layer: pass layer= or set model.gradcam_layer")
        return self.model.get_submodule(self.layer_name)


def _check_images(images: torch.Tensor) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
        raise ValueError("images must be a float tensor (N, C, H, W); convert with to_model_input()")
    return images


def _check_target(target: object, count: int) -> torch.Tensor | None:
    if isinstance(target, str):
        if target != "pred":
            raise ValueError(f"target must be 'pred' or a sequence of class indices, got {target!r}")
        return None
    chosen = torch.as_tensor(np.asarray(target), dtype=torch.long).reshape(-1)
    if len(chosen) != count:
        raise ValueError(f"{len(chosen)} targets for {count} images")
    return chosen


def to_model_input(images: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``(N, H, W, 3)`` uint8 images -> normalised float ``(N, 3, H, W)`` tensor."""
    array = np.asarray(images)
    if array.ndim != 4 or array.shape[-1] != 3:
        raise ValueError(f"expected (N, H, W, 3) images, got shape {array.shape}")
    tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(0, 3, 1, 2).float().div_(255.0)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (tensor - mean_t) / std_t
