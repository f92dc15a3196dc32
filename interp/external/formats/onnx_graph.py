"""``.onnx`` files, converted to torch modules with onnx2torch so that Grad-CAM can hook a real convolution.

The converted graph runs inside :class:`OnnxModel`, which adapts it to the card's batch:

- an input declared NHWC (``(N, H, W, C)`` with C of 1 or 3, recognised from the input's shape) gets
  the NCHW batch transposed first;
- a graph whose batch dimension is a fixed number (1 for many exported models) is run in chunks of
  that size, the last chunk padded with zero images whose outputs are dropped.

Before conversion, ``Identity`` nodes that merely rename a stored weight (exporters deduplicate
equal tensors that way) become weights again, and a graph using operators onnx2torch lacks at its
opset is converted down to opset :data:`FALLBACK_OPSET` and tried again.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from interp.external.card import ModelCard, ModelInfo
from interp.external.formats import register_format
from interp.external.formats.base import ModelFormat, describe_error
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

FALLBACK_OPSET = 17
"""The opset a graph is converted to when onnx2torch cannot convert it at its own (its best-covered one)."""
CHANNEL_COUNTS = (1, 3)


class OnnxModel(nn.Module):
    """A converted ONNX graph taking NCHW batches of any size (see the module docstring).

    Parameters
    ----------
    graph
        The onnx2torch module (its convolutions are ``nn.Conv2d`` under ``graph.``).
    nhwc
        Whether the graph's input is ``(N, H, W, C)``.
    fixed_batch
        The graph's fixed batch size, or ``None`` when it accepts any.
    """

    def __init__(self, graph: nn.Module, nhwc: bool, fixed_batch: int | None) -> None:
        super().__init__()
        self.graph = graph
        self.nhwc = nhwc
        self.fixed_batch = fixed_batch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.nhwc:
            x = x.permute(0, 2, 3, 1)
        if self.fixed_batch is None:
            return self._run(x)
        size = self.fixed_batch
        chunks = []
        for start in range(0, x.shape[0], size):
            chunk = x[start:start + size]
            short = size - chunk.shape[0]
            if short:
                chunk = torch.cat([chunk, chunk.new_zeros((short, *chunk.shape[1:]))])
            chunks.append(self._run(chunk)[:size - short])
        return torch.cat(chunks)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        out = self.graph(x)
        if isinstance(out, (tuple, list)):  # several graph outputs: the first holds the class scores
            out = out[0]
        return out.reshape(out.shape[0], -1)


@register_format("onnx")
class OnnxFormat(ModelFormat):
    """An ONNX graph (``.onnx``), one image input, NCHW or NHWC."""

    name = "onnx"
    extensions = (".onnx",)

    def load(self, card: ModelCard) -> tuple[nn.Module, ModelInfo]:
        import onnx

        path = Path(str(card.model))
        try:
            proto = onnx.load(str(path))
        except FileNotFoundError as exc:
            raise DataError(f"{path}: no such ONNX file; check the model path") from exc
        except Exception as exc:  # protobuf decode errors, missing external data
            raise DataError(f"{path}: not a readable ONNX model ({exc}); re-export it (torch.onnx.export, "
                            "tf2onnx) or check that the download is complete") from exc
        dims, name = _input_dims(proto, path)
        nhwc = _is_nhwc(dims)
        channels, height, width = (dims[3], dims[1], dims[2]) if nhwc else (dims[1], dims[2], dims[3])
        batch = dims[0] if isinstance(dims[0], int) and dims[0] > 0 else None
        size = height if isinstance(height, int) and height == width else None
        log.info("%s: input %s %s (%s%s)", path.name, name, dims, "NHWC, transposed" if nhwc else "NCHW",
                 f", fixed batch {batch}" if batch else "")
        model = OnnxModel(convert_graph(inline_identity_weights(proto), path), nhwc, batch).eval()
        info = ModelInfo(input_size=size, channels=channels if isinstance(channels, int) else None,
                         outputs="probs" if _ends_in_softmax(proto) else None)
        return model, info


def _input_dims(proto, path: Path) -> tuple[list[int | str], str]:
    """The dims of the graph's one image input (ints, or names for symbolic dims)."""
    stored = {tensor.name for tensor in proto.graph.initializer}
    inputs = [value for value in proto.graph.input if value.name not in stored]
    if len(inputs) != 1:
        raise DataError(f"{path}: the graph has {len(inputs)} inputs ({', '.join(v.name for v in inputs)}); "
                        "the audit feeds one image batch, so export a model with a single image input")
    shape = inputs[0].type.tensor_type.shape
    dims = [dim.dim_value if dim.HasField("dim_value") else (dim.dim_param or "?") for dim in shape.dim]
    if len(dims) != 4:
        raise DataError(f"{path}: input {inputs[0].name} has shape {dims}; an image model takes a 4-d "
                        "(N, C, H, W) or (N, H, W, C) batch")
    return dims, inputs[0].name


def _is_nhwc(dims: list[int | str]) -> bool:
    """NHWC when the last dim is a channel count (1 or 3) and the second is not."""
    return dims[3] in CHANNEL_COUNTS and dims[1] not in CHANNEL_COUNTS


def _ends_in_softmax(proto) -> bool:
    """Whether the graph's first output is produced by a ``Softmax`` node."""
    output = proto.graph.output[0].name
    return any(node.op_type == "Softmax" and output in node.output for node in proto.graph.node)


def inline_identity_weights(proto):
    """``Identity`` nodes whose input is a stored weight become a stored copy under the output's name."""
    import onnx

    graph = proto.graph
    stored = {tensor.name: tensor for tensor in graph.initializer}
    kept = []
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in stored:
            copy = onnx.TensorProto()
            copy.CopyFrom(stored[node.input[0]])
            copy.name = node.output[0]
            graph.initializer.append(copy)
            stored[copy.name] = copy
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    return proto


def convert_graph(proto, path: Path) -> nn.Module:
    """onnx2torch's module for ``proto``; at :data:`FALLBACK_OPSET` when its own opset fails."""
    from onnx import version_converter
    from onnx2torch import convert

    try:
        return convert(proto)
    except Exception as first:  # onnx2torch raises NotImplementedError, KeyError, ... for what it lacks
        opset = max((entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")), default=0)
        if opset == FALLBACK_OPSET:
            raise _unconvertible(path, first) from first
        try:
            lowered = version_converter.convert_version(proto, FALLBACK_OPSET)
            log.info("%s: converted from opset %d to %d for onnx2torch", path.name, opset, FALLBACK_OPSET)
            return convert(lowered)
        except Exception as second:  # the down-conversion or the second attempt fails too: report the first reason
            raise _unconvertible(path, first) from second


def _unconvertible(path: Path, exc: Exception) -> DataError:
    return DataError(f"{path}: onnx2torch cannot convert this graph ({describe_error(exc)}); re-export "
                     f"it with opset {FALLBACK_OPSET} and standard operators, or load the model as TorchScript, "
                     "a state dict with --arch, or --factory")
