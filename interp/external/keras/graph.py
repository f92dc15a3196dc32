"""Run a parsed Keras graph as one torch module whose submodules carry the Keras layer names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from interp.external.keras.config import INPUT, KerasGraphSpec
from interp.external.keras.layers import LAYERS, fused_activation
from trainers.common.errors import DataError


class KerasGraph(nn.Module):
    """The layers of a Keras model, run in order on NCHW tensors.

    Each Keras layer is a submodule under its Keras name (``conv2d_7``, ``separable_conv2d_8.pointwise``),
    so Grad-CAM names read like the Keras summary; activations fused into a Conv/Dense layer live in
    ``activations`` under the same name.
    """

    def __init__(self, spec: KerasGraphSpec, weights: dict[str, dict[str, np.ndarray]], path: Path) -> None:
        super().__init__()
        self.input_name, self.output_name = spec.input, spec.output
        self.steps: list[tuple[str, str, tuple[str, ...]]] = []  # (keras name, attribute, inputs)
        self.activations = nn.ModuleDict()
        for layer in spec.layers:
            if layer.kind == INPUT:
                continue
            if layer.kind not in LAYERS:
                raise DataError(f"{path}: layer {layer.name} is a Keras {layer.kind}, which the torch port does not "
                                f"support (supported: {', '.join(sorted(LAYERS))}); export the model to ONNX "
                                "(tf2onnx) and audit the .onnx file instead")
            try:
                module = LAYERS[layer.kind](layer.config, weights.get(layer.name, {}))
                fused = fused_activation(layer.config) if "activation" in layer.config and layer.kind != "Activation" \
                    else None
            except KeyError as exc:
                raise DataError(f"{path}: layer {layer.name} ({layer.kind}) has no weight {exc}; the file is "
                                "incomplete, save the model again") from exc
            except DataError as exc:
                raise DataError(f"{path}: layer {layer.name} ({layer.kind}): {exc}") from exc
            attribute = layer.name if not hasattr(nn.Module, layer.name) and "." not in layer.name else f"k_{layer.name}".replace(".", "_")
            self.add_module(attribute, module)
            if fused is not None:
                self.activations[attribute] = fused
            self.steps.append((layer.name, attribute, layer.inputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = {self.input_name: x}
        for name, attribute, inputs in self.steps:
            out = getattr(self, attribute)(*(values[source] for source in inputs))
            if attribute in self.activations:
                out = self.activations[attribute](out)
            values[name] = out
        return values[self.output_name]
