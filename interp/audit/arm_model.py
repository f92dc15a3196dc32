"""An audited model seen as an arm of a study: seven class scores in our order, a Grad-CAM layer, features.

A model the audit did not train (:mod:`interp.external`) has its own outputs (any order, maybe
probabilities, maybe extra classes such as contempt) and no ``gradcam_layer``. :class:`ArmModel`
wraps it so that the attention audit treats it like one of ours: its forward pass returns ``(N, 7)``
scores in :data:`trainers.data.labels.CLASSES` order (the raw logits, or the log of the probabilities
for a model ending in a softmax: Grad-CAM then explains ``log p(class)``), and it names its Grad-CAM
layer (:func:`choose_layer`: ``--layer`` or the deepest convolution whose map is at least 7x7 at the
input size, the rule of :mod:`interp.attribution.gradcam`). :func:`infer` runs it over images and
returns the raw outputs, those scores and the penultimate features (the input of the last
``nn.Linear`` when the model has one, else the global average of the Grad-CAM layer's map).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from interp.external.card import ModelCard
from interp.external.outputs import output_kind
from trainers.common.errors import DataError
from trainers.data.labels import CLASSES

log = logging.getLogger(__name__)

MIN_SIDE = 7
"""A Grad-CAM map of at least this many cells per side (the existing rule of the audit)."""
PREFIX = "model."
"""Dotted-name prefix of the wrapped model's modules inside :class:`ArmModel`."""


@dataclass(frozen=True)
class LayerChoice:
    """The Grad-CAM layer of an audited model: its dotted name (in the wrapped model), map side, how chosen."""

    name: str
    side: int
    rule: str


class ArmModel(nn.Module):
    """An external model with our seven class scores (see the module docstring).

    Parameters
    ----------
    model
        The loaded model (``interp.external.load_model``), eval mode, ``(N, C, H, W)`` -> ``(N, K)``.
    card
        Its resolved card (classes in output order; ``outputs`` logits, probs or auto).
    kind
        ``"logits"`` or ``"probs"``: what the outputs are (:func:`interp.external.outputs.output_kind`).
    layer
        The Grad-CAM layer in ``model`` (:func:`choose_layer`).
    """

    def __init__(self, model: nn.Module, card: ModelCard, kind: str, layer: LayerChoice) -> None:
        super().__init__()
        self.model = model
        self.card = card
        self.kind = kind
        self.layer = layer
        classes = card.output_classes()
        absent = [name for name in CLASSES if name not in classes]
        if absent:
            log.warning("%s has no output for %s: scored as impossible (score -inf is replaced by the lowest "
                        "finite score)", card.name, ", ".join(absent))
        self.register_buffer("index", torch.tensor([classes.index(c) if c in classes else -1 for c in CLASSES]),
                             persistent=False)
        self.gradcam_layer = PREFIX + layer.name
        self.gradcam_layers = (self.gradcam_layer,)

    def scores(self, outputs: torch.Tensor) -> torch.Tensor:
        """``(N, 7)`` scores in CLASSES order from the raw outputs (log of probabilities for a softmax model)."""
        values = outputs.float()
        if self.kind == "probs":
            values = values.clamp_min(torch.finfo(values.dtype).tiny).log()
        floor = values.detach().min() - 1.0  # an absent class: below every real score, still finite
        padded = torch.cat([values, floor.expand(values.shape[0], 1)], dim=1)
        return padded[:, torch.where(self.index >= 0, self.index, values.shape[1])]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scores(self.model(x))


def conv_layers(model: nn.Module) -> list[str]:
    """Dotted names of every ``nn.Conv2d`` of ``model`` (registration order)."""
    return [name for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]


def choose_layer(model: nn.Module, sample: torch.Tensor, layer: str | None = None) -> LayerChoice:
    """The Grad-CAM layer: ``layer`` when given, else the deepest convolution with a map >= 7x7.

    "Deepest" is the last convolution to run in a forward pass of ``sample``; when no map is 7x7 the
    convolution with the largest map is taken (and logged).

    Raises
    ------
    DataError
        When ``layer`` is not a module of the model, or the model has no convolution (pass ``--layer``).
    """
    names = dict(model.named_modules())
    if layer:
        if layer not in names or not layer:
            convs = conv_layers(model)
            raise DataError(f"--layer {layer!r}: the model has no module of that name; convolutions: "
                            f"{', '.join(convs[-8:]) or 'none'} (give a dotted name from model.named_modules())")
        side = _map_sides(model, sample, [layer]).get(layer, 0)
        return LayerChoice(layer, side, "--layer")
    convs = conv_layers(model)
    if not convs:
        raise DataError("the model has no Conv2d layer for Grad-CAM; pass --layer NAME (a module whose output "
                        "is a (N, C, H, W) map)")
    sides = _map_sides(model, sample, convs)
    ran = list(sides)  # execution order
    if not ran:
        raise DataError("no convolution of the model ran on a test batch; pass --layer NAME")
    wide = [name for name in ran if sides[name] >= MIN_SIDE]
    if wide:
        return LayerChoice(wide[-1], sides[wide[-1]], f"deepest convolution with a map >= {MIN_SIDE}x{MIN_SIDE}")
    widest = max(ran, key=lambda name: sides[name])
    log.warning("no convolution map is %dx%d at this input size; Grad-CAM uses %s (%dx%d)", MIN_SIDE, MIN_SIDE,
                widest, sides[widest], sides[widest])
    return LayerChoice(widest, sides[widest], "largest convolution map (none >= 7x7)")


def _map_sides(model: nn.Module, sample: torch.Tensor, names: list[str]) -> dict[str, int]:
    """Smaller spatial side of each named module's output on ``sample``, in execution order."""
    sides: dict[str, int] = {}
    modules = dict(model.named_modules())

    def record(name: str):
        def hook(_module: nn.Module, _inputs: object, output: object) -> None:
            if isinstance(output, torch.Tensor) and output.ndim == 4 and name not in sides:
                sides[name] = int(min(output.shape[-2:]))
        return hook

    handles = [modules[name].register_forward_hook(record(name)) for name in names]
    try:
        with torch.no_grad():
            model(sample)
    finally:
        for handle in handles:
            handle.remove()
    return sides


def make_arm(model: nn.Module, card: ModelCard, sample: torch.Tensor) -> ArmModel:
    """Wrap ``model`` after one forward pass of ``sample`` (preprocessed images) that checks its outputs,
    detects logits vs probabilities and chooses the Grad-CAM layer.

    Raises
    ------
    DataError
        When the model refuses the input, or its output count differs from the card's classes.
    """
    model.eval()
    try:
        with torch.no_grad():
            outputs = model(sample)
    except Exception as exc:  # any framework error: a wrong input size, channel count or layout
        raise DataError(f"{card.name}: the model refused a {tuple(sample.shape)} input ({exc}); check "
                        "--input-size and --colour (or the card's input_size/colour)") from exc
    if not isinstance(outputs, torch.Tensor) or outputs.ndim != 2:
        raise DataError(f"{card.name}: the model returned {getattr(outputs, 'shape', type(outputs))}, not "
                        "(N, classes) scores; wrap it so that it returns one row of class scores per image")
    classes = card.output_classes()
    if outputs.shape[1] != len(classes):
        raise DataError(f"--classes: {len(classes)} names ({', '.join(card.classes or [])}) for a model with "
                        f"{outputs.shape[1]} outputs; give one name per output, in the model's output order")
    kind = output_kind(outputs, card)
    layer = choose_layer(model, sample, card.layer)
    log.info("%s: outputs read as %s; Grad-CAM layer %s (%dx%d map, %s)", card.name, kind, layer.name,
             layer.side, layer.side, layer.rule)
    return ArmModel(model, card, kind, layer)


@dataclass(frozen=True)
class Inference:
    """What :func:`infer` returns: raw outputs ``(N, K)``, 7-class scores ``(N, 7)``, features ``(N, D)``."""

    outputs: np.ndarray
    scores: np.ndarray
    features: np.ndarray
    features_from: str


def infer(arm: ArmModel, images: np.ndarray, batch_size: int = 64) -> Inference:
    """Run ``arm`` over cached ``(N, H, W, 3)`` uint8 images in batches (card preprocessing, no gradients)."""
    linears = [name for name, module in arm.model.named_modules() if isinstance(module, nn.Linear)]
    modules = dict(arm.model.named_modules())
    source = linears[-1] if linears else arm.layer.name
    features_from = (f"input of the last linear layer ({source})" if linears
                     else f"global average of the Grad-CAM layer's map ({source})")
    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        value = inputs[0] if linears else output
        captured.append(value.flatten(2).mean(2) if value.ndim == 4 else value.flatten(1))

    handle = modules[source].register_forward_hook(hook)
    outputs, features = [], []
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                captured.clear()
                outputs.append(arm.model(arm.card.preprocess(np.asarray(images[start:start + batch_size]))))
                features.append(captured[-1])
    finally:
        handle.remove()
    raw = torch.cat(outputs).float()
    return Inference(raw.numpy(), arm.scores(raw).numpy(), torch.cat(features).float().numpy(), features_from)
