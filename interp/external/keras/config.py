"""A Keras model configuration as a graph: each layer with its class, config and the layers it reads.

Functional models (``Model``/``Functional``) list their layers with ``inbound_nodes`` (Keras 2:
``[[[name, node, tensor, kwargs], ...]]``; Keras 3: ``[{"args": [keras tensors], ...}]``);
sequential ones chain their layers in order. One image input and one output are supported, and a
layer called more than once (shared weights) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainers.common.errors import DataError

INPUT = "InputLayer"
SEQUENTIAL_INPUT = "input"
"""Name of the input node of a sequential model without an ``InputLayer``."""


@dataclass(frozen=True)
class KerasLayer:
    """One layer: its name, Keras class name, config and input layer names (empty for the input)."""

    name: str
    kind: str
    config: dict[str, Any]
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class KerasGraphSpec:
    """Layers in a runnable order, the input and output names and the input's shape (without batch)."""

    layers: tuple[KerasLayer, ...]
    input: str
    output: str
    input_shape: tuple[int | None, ...] | None


def parse_config(config: dict[str, Any], path: Path) -> KerasGraphSpec:
    """The graph of a parsed ``model_config`` (see the module docstring)."""
    kind = config.get("class_name")
    body = config.get("config")
    if kind == "Sequential":
        return _sequential(body["layers"] if isinstance(body, dict) else body, path)
    if kind in ("Model", "Functional"):
        return _functional(body, path)
    raise DataError(f"{path}: a Keras {kind!r} model is not supported; save a Sequential or functional Model")


def _sequential(entries: list[dict[str, Any]], path: Path) -> KerasGraphSpec:
    layers: list[KerasLayer] = []
    shape = None
    previous = SEQUENTIAL_INPUT
    if entries and entries[0]["class_name"] == INPUT:
        previous = entries[0]["config"]["name"]
    else:
        layers.append(KerasLayer(SEQUENTIAL_INPUT, INPUT, {}, ()))
    for entry in entries:
        layer_config = entry["config"]
        shape = shape or _batch_shape(layer_config)
        inputs = () if entry["class_name"] == INPUT else (previous,)
        layers.append(KerasLayer(layer_config["name"], entry["class_name"], layer_config, inputs))
        previous = layer_config["name"]
    return KerasGraphSpec(tuple(layers), layers[0].name, previous, shape)


def _functional(body: dict[str, Any], path: Path) -> KerasGraphSpec:
    layers = {}
    for entry in body["layers"]:
        name = entry.get("name") or entry["config"]["name"]
        nodes = entry.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise DataError(f"{path}: layer {name} is called {len(nodes)} times (shared weights); not supported")
        inputs = tuple(_node_inputs(nodes[0])) if nodes else ()
        layers[name] = KerasLayer(name, entry["class_name"], entry["config"], inputs)
    inputs, outputs = _endpoints(body["input_layers"]), _endpoints(body["output_layers"])
    if len(inputs) != 1 or len(outputs) != 1:
        raise DataError(f"{path}: the model has {len(inputs)} inputs and {len(outputs)} outputs; the audit "
                        "needs one image input and one output of class scores")
    order = _runnable_order(layers, outputs[0], path)
    return KerasGraphSpec(order, inputs[0], outputs[0], _batch_shape(layers[inputs[0]].config))


def _node_inputs(node: Any) -> list[str]:
    """Names of the layers feeding one call node, in argument order (Keras 2 or Keras 3 layout)."""
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}} holding __keras_tensor__ entries
        found: list[str] = []
        _collect_tensors(node.get("args", []), found)
        return found
    return [entry[0] for entry in node]


def _collect_tensors(value: Any, found: list[str]) -> None:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            found.append(value["config"]["keras_history"][0])
            return
        for item in value.values():
            _collect_tensors(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_tensors(item, found)


def _endpoints(value: list[Any]) -> list[str]:
    """``[[name, 0, 0], ...]`` or a single ``[name, 0, 0]`` -> names."""
    if value and isinstance(value[0], str):
        return [value[0]]
    return [entry[0] for entry in value]


def _runnable_order(layers: dict[str, KerasLayer], output: str, path: Path) -> tuple[KerasLayer, ...]:
    """The layers the output depends on, each after its inputs (depth-first from the output)."""
    order: list[KerasLayer] = []
    state: dict[str, str] = {}
    stack: list[tuple[str, bool]] = [(output, False)]
    while stack:
        name, expanded = stack.pop()
        if name not in layers:
            raise DataError(f"{path}: the model_config refers to a layer {name!r} it does not define")
        if expanded:
            state[name] = "done"
            order.append(layers[name])
            continue
        if state.get(name) == "done":
            continue
        if state.get(name) == "open":
            raise DataError(f"{path}: the model_config has a cycle through layer {name}")
        state[name] = "open"
        stack.append((name, True))
        stack.extend((source, False) for source in reversed(layers[name].inputs) if state.get(source) != "done")
    return tuple(order)


def _batch_shape(config: dict[str, Any]) -> tuple[int | None, ...] | None:
    shape = config.get("batch_input_shape") or config.get("batch_shape")
    return tuple(shape[1:]) if shape else None
