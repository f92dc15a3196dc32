"""Keras HDF5 models (``.h5``, ``.hdf5``), ported to torch without TensorFlow (:mod:`interp.external.keras`)."""

from __future__ import annotations

import logging
from pathlib import Path

from torch import nn

from interp.external.card import ModelCard, ModelInfo
from interp.external.formats import register_format
from interp.external.formats.base import ModelFormat
from interp.external.keras.config import parse_config
from interp.external.keras.graph import KerasGraph
from interp.external.keras.hdf5 import read_keras_file

log = logging.getLogger(__name__)

PROBABILITY_ACTIVATIONS = ("softmax",)


@register_format("keras")
class KerasFormat(ModelFormat):
    """A whole Keras model saved as HDF5 (``model.save('model.h5')``): architecture and weights."""

    name = "keras"
    extensions = (".h5", ".hdf5", ".keras.h5")

    def load(self, card: ModelCard) -> tuple[nn.Module, ModelInfo]:
        path = Path(str(card.model))
        config, weights = read_keras_file(path)
        spec = parse_config(config, path)
        graph = KerasGraph(spec, weights, path).eval()
        shape = spec.input_shape  # (H, W, C) of a channels-last model
        size = shape[0] if shape and len(shape) == 3 and shape[0] is not None and shape[0] == shape[1] else None
        channels = shape[2] if shape and len(shape) == 3 else None
        last = next(layer for layer in spec.layers if layer.name == spec.output)
        activation = str(last.config.get("activation", "softmax" if last.kind == "Softmax" else "linear")).lower()
        log.info("%s: Keras %s model, %d layers, input %s", path.name, config.get("class_name"), len(graph.steps), shape)
        return graph, ModelInfo(input_size=size, channels=channels,
                                outputs="probs" if activation in PROBABILITY_ACTIVATIONS else None)
