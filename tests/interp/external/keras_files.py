"""Hand-made Keras HDF5 files, written with h5py in the layout Keras 2's ``model.save('x.h5')`` uses.

``model_config`` (JSON) is an attribute of the file; each layer's weights sit in
``model_weights/<layer>/<layer>/<name>:0`` with the group's ``weight_names`` attribute giving their order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

Layer = tuple[str, str, dict[str, Any], list[str], dict[str, np.ndarray]]
"""(name, Keras class, config, input layer names, weights)."""


def input_layer(name: str, shape: tuple[int, ...]) -> Layer:
    return name, "InputLayer", {"batch_input_shape": [None, *shape], "dtype": "float32"}, [], {}


def write_functional(path: Path, layers: list[Layer], output: str, keras3: bool = False) -> Path:
    """A functional ``Model``; ``keras3`` writes inbound nodes the way Keras 3's legacy HDF5 saver does."""
    entries = []
    for name, kind, config, inputs, _ in layers:
        if keras3:
            tensors = [{"class_name": "__keras_tensor__", "config": {"keras_history": [source, 0, 0]}}
                       for source in inputs]
            nodes = [{"args": tensors if len(tensors) > 1 else tensors[:1], "kwargs": {}}] if inputs else []
        else:
            nodes = [[[source, 0, 0, {}] for source in inputs]] if inputs else []
        entries.append({"name": name, "class_name": kind, "config": {"name": name, **config}, "inbound_nodes": nodes})
    config = {"class_name": "Functional" if keras3 else "Model",
              "config": {"name": "model", "layers": entries, "input_layers": [[layers[0][0], 0, 0]],
                         "output_layers": [[output, 0, 0]]}}
    return _write(path, config, layers)


def write_sequential(path: Path, layers: list[Layer]) -> Path:
    """A ``Sequential`` model (Keras 2.2+ layout: ``{"name", "layers"}``)."""
    entries = [{"class_name": kind, "config": {"name": name, **config}} for name, kind, config, _, _ in layers]
    return _write(path, {"class_name": "Sequential", "config": {"name": "sequential", "layers": entries}}, layers)


def _write(path: Path, config: dict[str, Any], layers: list[Layer]) -> Path:
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(config).encode("utf-8")
        handle.attrs["keras_version"] = b"2.2.4"
        group = handle.create_group("model_weights")
        group.attrs["layer_names"] = [name.encode() for name, *_ in layers]
        for name, _, _, _, weights in layers:
            layer = group.create_group(name)
            layer.attrs["weight_names"] = [f"{name}/{key}:0".encode() for key in weights]
            for key, value in weights.items():
                layer.create_dataset(f"{name}/{key}:0", data=np.asarray(value, dtype=np.float32))
    return path
