"""Torch modules for Keras layer types, one builder per Keras class name in :data:`LAYERS`.

A builder takes the layer's config and weights (``{name: array}`` in Keras's layout) and returns a
module working on NCHW tensors (or ``(N, features)`` after flattening). Padding follows Keras:
``"same"`` pads ``max((ceil(n / s) - 1) * s + k - n, 0)`` pixels per axis, the smaller half before
(so a stride-2 layer pads one more pixel at the bottom/right), and pooling ignores padded pixels
(max over real pixels, averages over real pixels only). Convolutions stay ``nn.Conv2d`` modules
(Grad-CAM's candidates); a fused ``activation`` is returned separately by :func:`fused_activation`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trainers.common.errors import DataError
from trainers.common.registry import Registry

Weights = dict[str, np.ndarray]
Builder = Callable[[dict[str, Any], Weights], nn.Module]

LAYERS: Registry[Builder] = Registry("Keras layer")
"""Keras class name -> builder; a class missing here is refused with a ``DataError`` naming it."""

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda x: x,
    "relu": F.relu,
    "relu6": F.relu6,
    "elu": F.elu,
    "selu": F.selu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda x: torch.softmax(x, dim=1),  # Keras's last axis is the channel axis, dim 1 here
    "softplus": F.softplus,
    "softsign": F.softsign,
    "swish": F.silu,
    "silu": F.silu,
}
CHANNEL_AXES = (-1, 3, [-1], [3])
"""Keras ``axis`` values meaning "the channels" (dim 1 of our NCHW or ``(N, features)`` tensors)."""


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Keras/TensorFlow ``"same"`` padding of one axis: (before, after), the extra pixel after."""
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
              value: float = 0.0) -> torch.Tensor:
    top, bottom = same_padding(x.shape[-2], kernel[0], stride[0], dilation[0])
    left, right = same_padding(x.shape[-1], kernel[1], stride[1], dilation[1])
    if not (top or bottom or left or right):
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


class KerasConv2d(nn.Conv2d):
    """``nn.Conv2d`` with Keras's padding (``"same"`` computed per input size, asymmetric when needed).

    A stride-1 ``"same"`` convolution pads ``(k - 1) * dilation`` in total whatever the input size;
    when that is even the padding is symmetric and left to ``nn.Conv2d`` (no padded copy).
    """

    def __init__(self, *args: Any, same: bool, **kwargs: Any) -> None:
        super().__init__(*args, padding=0, **kwargs)
        totals = [(k - 1) * d for k, d in zip(self.kernel_size, self.dilation)]
        if same and all(s == 1 for s in self.stride) and all(total % 2 == 0 for total in totals):
            self.padding = tuple(total // 2 for total in totals)
            same = False
        self.same = same

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.same:
            x = _pad_same(x, self.kernel_size, self.stride, self.dilation)
        return self._conv_forward(x, self.weight, self.bias)


class KerasSeparableConv2d(nn.Module):
    """Keras ``SeparableConv2D``: a depthwise ``depthwise`` convolution then a 1x1 ``pointwise`` one (with the bias)."""

    def __init__(self, depthwise: KerasConv2d, pointwise: nn.Conv2d) -> None:
        super().__init__()
        self.depthwise = depthwise
        self.pointwise = pointwise

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class KerasPool2d(nn.Module):
    """Keras ``MaxPooling2D``/``AveragePooling2D``; ``"same"`` padding never counts padded pixels."""

    def __init__(self, kind: str, pool: tuple[int, int], stride: tuple[int, int], same: bool) -> None:
        super().__init__()
        self.kind, self.pool, self.stride, self.same = kind, pool, stride, same

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "max":
            if self.same:
                x = _pad_same(x, self.pool, self.stride, (1, 1), value=-math.inf)
            return F.max_pool2d(x, self.pool, self.stride)
        if not self.same:
            return F.avg_pool2d(x, self.pool, self.stride)
        ones = torch.ones_like(x[:1, :1])
        padded, count = (_pad_same(t, self.pool, self.stride, (1, 1)) for t in (x, ones))
        return F.avg_pool2d(padded, self.pool, self.stride) / F.avg_pool2d(count, self.pool, self.stride)


class KerasBatchNorm(nn.BatchNorm2d):
    """Batch normalisation over dim 1 of a 4-d map or a 2-d ``(N, features)`` batch."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() not in (2, 4):
            raise ValueError(f"BatchNormalization expects a 2-d or 4-d input, got {input.dim()}-d")


class KerasDense(nn.Linear):
    """Keras ``Dense``: on the last (channel) axis, so a 4-d map is handled channel-last."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 4:
            return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return super().forward(x)


class KerasFlatten(nn.Module):
    """Keras ``Flatten`` of a channels-last model: (H, W, C) order, so Keras's next ``Dense`` kernel fits."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.permute(0, 2, 3, 1) if x.ndim == 4 else x).flatten(1)


class KerasActivation(nn.Module):
    """A Keras activation by name (:data:`ACTIVATIONS`)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.function = ACTIVATIONS[name]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x)

    def extra_repr(self) -> str:
        return self.name


class KerasReLU(nn.Module):
    """Keras ``ReLU`` layer: ``negative_slope`` below zero, capped at ``max_value``."""

    def __init__(self, negative_slope: float, max_value: float | None) -> None:
        super().__init__()
        self.negative_slope, self.max_value = negative_slope, max_value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(x, self.negative_slope) if self.negative_slope else F.relu(x)
        return x.clamp(max=self.max_value) if self.max_value is not None else x


class KerasGlobalAveragePool(nn.Module):
    """Keras ``GlobalAveragePooling2D`` (``keepdims`` kept)."""

    def __init__(self, keepdims: bool) -> None:
        super().__init__()
        self.keepdims = keepdims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3), keepdim=self.keepdims)


class KerasAdd(nn.Module):
    """Keras ``Add``: the sum of its inputs."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        total = inputs[0]
        for value in inputs[1:]:
            total = total + value
        return total


def activation_name(config: dict[str, Any], key: str = "activation") -> str:
    """The activation named in ``config`` (``"linear"`` when absent); ``DataError`` for one we lack."""
    name = config.get(key) or "linear"
    if isinstance(name, dict):  # Keras 3 may serialise {"class_name": ..., "config": {"name": ...}}
        name = name.get("config", {}).get("name", name.get("class_name", "?"))
    name = str(name).lower()
    if name not in ACTIVATIONS:
        raise DataError(f"activation {name!r} is not supported; supported: {', '.join(sorted(ACTIVATIONS))}")
    return name


def fused_activation(config: dict[str, Any]) -> KerasActivation | None:
    """The activation a Conv/Dense layer applies to its output, or ``None`` for linear."""
    name = activation_name(config)
    return None if name == "linear" else KerasActivation(name)


def _pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, (int, float)) else (int(value[0]), int(value[1]))


def _padding(config: dict[str, Any]) -> bool:
    """``True`` for ``"same"``, ``False`` for ``"valid"``; ``DataError`` for anything else."""
    padding = str(config.get("padding", "valid")).lower()
    if padding not in ("same", "valid"):
        raise DataError(f"padding {padding!r} is not supported (same or valid)")
    return padding == "same"


def _channels_last(config: dict[str, Any]) -> None:
    if config.get("data_format", "channels_last") not in ("channels_last", None):
        raise DataError(f"data_format {config['data_format']!r} is not supported; save the model channels_last")


def _tensor(array: np.ndarray) -> nn.Parameter:
    return nn.Parameter(torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)))


def _bias(module: nn.Module, weights: Weights) -> None:
    if module.bias is not None:
        module.bias = _tensor(weights["bias"])


def _depthwise(kernel: np.ndarray, config: dict[str, Any]) -> KerasConv2d:
    """A depthwise convolution from Keras's ``(kh, kw, in, multiplier)`` kernel (output ``c * m + j``)."""
    height, width, channels, multiplier = kernel.shape
    conv = KerasConv2d(channels, channels * multiplier, (height, width), stride=_pair(config.get("strides", 1)),
                       dilation=_pair(config.get("dilation_rate", 1)), groups=channels, bias=False,
                       same=_padding(config))
    conv.weight = _tensor(kernel.reshape(height, width, channels * multiplier).transpose(2, 0, 1)[:, None])
    return conv


@LAYERS.register("Conv2D")
def conv2d(config: dict[str, Any], weights: Weights) -> nn.Module:
    _channels_last(config)
    kernel = weights["kernel"]  # (kh, kw, in / groups, out)
    groups = int(config.get("groups", 1))
    conv = KerasConv2d(kernel.shape[2] * groups, kernel.shape[3], kernel.shape[:2],
                       stride=_pair(config.get("strides", 1)), dilation=_pair(config.get("dilation_rate", 1)),
                       groups=groups, bias=bool(config.get("use_bias", True)), same=_padding(config))
    conv.weight = _tensor(kernel.transpose(3, 2, 0, 1))
    _bias(conv, weights)
    return conv


@LAYERS.register("DepthwiseConv2D")
def depthwise_conv2d(config: dict[str, Any], weights: Weights) -> nn.Module:
    _channels_last(config)
    conv = _depthwise(weights["depthwise_kernel"], config)
    if config.get("use_bias", True):
        conv.bias = _tensor(weights["bias"])
    return conv


@LAYERS.register("SeparableConv2D")
def separable_conv2d(config: dict[str, Any], weights: Weights) -> nn.Module:
    _channels_last(config)
    depthwise = _depthwise(weights["depthwise_kernel"], config)
    pointwise_kernel = weights["pointwise_kernel"]  # (1, 1, in * multiplier, out)
    pointwise = nn.Conv2d(pointwise_kernel.shape[2], pointwise_kernel.shape[3], 1,
                          bias=bool(config.get("use_bias", True)))
    pointwise.weight = _tensor(pointwise_kernel.transpose(3, 2, 0, 1))
    _bias(pointwise, weights)
    return KerasSeparableConv2d(depthwise, pointwise)


@LAYERS.register("BatchNormalization")
def batch_normalization(config: dict[str, Any], weights: Weights) -> nn.Module:
    if config.get("axis", -1) not in CHANNEL_AXES:
        raise DataError(f"BatchNormalization over axis {config.get('axis')} is not supported (channels only)")
    mean, variance = weights["moving_mean"], weights["moving_variance"]
    norm = KerasBatchNorm(mean.shape[0], eps=float(config.get("epsilon", 1e-3)))
    norm.running_mean.copy_(torch.from_numpy(mean))
    norm.running_var.copy_(torch.from_numpy(variance))
    norm.weight = _tensor(weights.get("gamma", np.ones_like(mean)))
    norm.bias = _tensor(weights.get("beta", np.zeros_like(mean)))
    return norm


@LAYERS.register("Activation")
def activation(config: dict[str, Any], weights: Weights) -> nn.Module:
    return KerasActivation(activation_name(config))


@LAYERS.register("ReLU")
def relu(config: dict[str, Any], weights: Weights) -> nn.Module:
    if float(config.get("threshold") or 0.0) != 0.0:
        raise DataError(f"ReLU with threshold {config['threshold']} is not supported (threshold 0 only)")
    maximum = config.get("max_value")
    return KerasReLU(float(config.get("negative_slope") or 0.0), None if maximum is None else float(maximum))


@LAYERS.register("Softmax")
def softmax(config: dict[str, Any], weights: Weights) -> nn.Module:
    if config.get("axis", -1) not in CHANNEL_AXES:
        raise DataError(f"Softmax over axis {config.get('axis')} is not supported (the last axis only)")
    return KerasActivation("softmax")


def _pool(kind: str) -> Builder:
    def build(config: dict[str, Any], weights: Weights) -> nn.Module:
        _channels_last(config)
        pool = _pair(config.get("pool_size", 2))
        stride = _pair(config.get("strides") or pool)
        return KerasPool2d(kind, pool, stride, _padding(config))
    return build


LAYERS.add("MaxPooling2D", _pool("max"), origin=f"{__name__}._pool.max")
LAYERS.add("AveragePooling2D", _pool("average"), origin=f"{__name__}._pool.average")


@LAYERS.register("GlobalAveragePooling2D")
def global_average_pooling2d(config: dict[str, Any], weights: Weights) -> nn.Module:
    _channels_last(config)
    return KerasGlobalAveragePool(bool(config.get("keepdims", False)))


@LAYERS.register("Add")
def add(config: dict[str, Any], weights: Weights) -> nn.Module:
    return KerasAdd()


@LAYERS.register("Dense")
def dense(config: dict[str, Any], weights: Weights) -> nn.Module:
    kernel = weights["kernel"]  # (in, out)
    layer = KerasDense(kernel.shape[0], kernel.shape[1], bias=bool(config.get("use_bias", True)))
    layer.weight = _tensor(kernel.T)
    _bias(layer, weights)
    return layer


@LAYERS.register("Dropout")
def dropout(config: dict[str, Any], weights: Weights) -> nn.Module:
    return nn.Identity()  # inference only


@LAYERS.register("Flatten")
def flatten(config: dict[str, Any], weights: Weights) -> nn.Module:
    return KerasFlatten()
