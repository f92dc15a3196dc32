"""The TensorFlow-free Keras port, layer by layer against numpy written from Keras's definitions (NHWC).

The references below work in Keras's own layout (NHWC images, ``(kh, kw, in, out)`` kernels), so a
wrong transpose, Flatten order or padding side in the port shows up as a mismatch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interp.external import load_model
from interp.external.card import ModelCard
from interp.external.keras.layers import same_padding
from tests.interp.external.keras_files import (
    input_layer,
    write_functional,
    write_sequential,
)
from trainers.common.errors import DataError

RNG = np.random.default_rng(0)
CLASSES3 = ["happy", "sad", "neutral"]


def _tf_pad(n: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow's documented SAME padding: output ceil(n / s), the odd pixel after."""
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _pad(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], same: bool, value: float = 0.0) -> np.ndarray:
    if not same:
        return x
    (top, bottom), (left, right) = _tf_pad(x.shape[1], k[0], s[0]), _tf_pad(x.shape[2], k[1], s[1])
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def conv_nhwc(x: np.ndarray, kernel: np.ndarray, stride: int, same: bool) -> np.ndarray:
    """Keras Conv2D: ``x`` (N, H, W, C), ``kernel`` (kh, kw, C, out)."""
    kh, kw = kernel.shape[:2]
    x = _pad(x, (kh, kw), (stride, stride), same)
    rows, cols = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], rows, cols, kernel.shape[3]))
    for i in range(rows):
        for j in range(cols):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j] = np.einsum("nhwc,hwco->no", patch, kernel)
    return out


def depthwise_nhwc(x: np.ndarray, kernel: np.ndarray, stride: int, same: bool) -> np.ndarray:
    """Keras DepthwiseConv2D: ``kernel`` (kh, kw, C, multiplier); output channel c * multiplier + m."""
    channels, multiplier = kernel.shape[2:]
    parts = [conv_nhwc(x[..., c:c + 1], kernel[:, :, c:c + 1, m:m + 1], stride, same)
             for c in range(channels) for m in range(multiplier)]
    return np.concatenate(parts, axis=-1)


def pool_nhwc(x: np.ndarray, size: int, stride: int, same: bool, kind: str) -> np.ndarray:
    """Keras pooling: padded pixels never count (max over real pixels, mean over real pixels)."""
    valid = np.ones_like(x)
    x, valid = _pad(x, (size, size), (stride, stride), same), _pad(valid, (size, size), (stride, stride), same)
    rows, cols = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    out = np.zeros((x.shape[0], rows, cols, x.shape[3]))
    for i in range(rows):
        for j in range(cols):
            window = (slice(None), slice(i * stride, i * stride + size), slice(j * stride, j * stride + size))
            values, mask = x[window], valid[window] > 0
            if kind == "max":
                out[:, i, j] = np.where(mask, values, -np.inf).max(axis=(1, 2))
            else:
                out[:, i, j] = (values * mask).sum(axis=(1, 2)) / mask.sum(axis=(1, 2))
    return out


def _run(path, images_nhwc: np.ndarray, classes: list[str]) -> np.ndarray:
    side, channels = images_nhwc.shape[1], images_nhwc.shape[3]
    card = ModelCard(name="k", model=str(path), classes=classes, mean=(0.0,) * channels, std=(1.0,) * channels,
                     colour="grey" if channels == 1 else "rgb", input_size=side)
    loaded = load_model(card)
    with torch.no_grad():
        return loaded.module(torch.from_numpy(images_nhwc.transpose(0, 3, 1, 2).astype(np.float32))).numpy()


def test_same_padding_puts_the_odd_pixel_after() -> None:
    assert same_padding(4, 3, 2) == (0, 1)  # stride 2 on an even side: asymmetric
    assert same_padding(5, 3, 2) == (1, 1)
    assert same_padding(6, 1, 2) == (0, 0)
    assert same_padding(7, 3, 1) == (1, 1)


@pytest.mark.parametrize("side", [11, 12])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_convolutions_pooling_and_flatten_dense_match_keras(tmp_path, side, stride, padding) -> None:
    same = padding == "same"
    x = RNG.normal(size=(2, side, side, 3)) - 0.5  # negative values: max pooling must ignore zero padding
    conv_k, conv_b = RNG.normal(size=(3, 3, 3, 3)), RNG.normal(size=3)
    depth_k = RNG.normal(size=(3, 3, 3, 2))
    sep_d, sep_p, sep_b = RNG.normal(size=(3, 3, 6, 1)), RNG.normal(size=(1, 1, 6, 4)), RNG.normal(size=4)
    gamma, beta = RNG.uniform(0.5, 1.5, 4), RNG.normal(size=4)
    mean, var = RNG.normal(size=4), RNG.uniform(0.5, 2, 4)
    # reference, in Keras's layout
    h = conv_nhwc(x, conv_k, stride, same) + conv_b
    h = np.maximum(h, 0)  # fused relu
    h = depthwise_nhwc(h, depth_k, 1, same)
    h = conv_nhwc(depthwise_nhwc(h, sep_d, 1, True), sep_p, 1, False) + sep_b
    h = gamma * (h - mean) / np.sqrt(var + 1e-3) + beta
    h = np.minimum(np.maximum(h, 0), 6.0)  # ReLU(max_value=6)
    h = pool_nhwc(h, 3, 2, same, "max") + pool_nhwc(h, 3, 2, same, "average")
    flat = h.reshape(h.shape[0], -1)  # Keras flattens (H, W, C)
    dense_k, dense_b = RNG.normal(size=(flat.shape[1], 3)), RNG.normal(size=3)
    logits = flat @ dense_k + dense_b
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    layers = [
        input_layer("image", (side, side, 3)),
        ("conv", "Conv2D", {"kernel_size": [3, 3], "strides": [stride, stride], "padding": padding,
                            "activation": "relu", "use_bias": True}, ["image"], {"kernel": conv_k, "bias": conv_b}),
        ("depthwise", "DepthwiseConv2D", {"kernel_size": [3, 3], "padding": padding, "depth_multiplier": 2,
                                          "use_bias": False}, ["conv"], {"depthwise_kernel": depth_k}),
        ("separable", "SeparableConv2D", {"kernel_size": [3, 3], "padding": "same", "use_bias": True},
         ["depthwise"], {"depthwise_kernel": sep_d, "pointwise_kernel": sep_p, "bias": sep_b}),
        ("norm", "BatchNormalization", {"axis": -1, "epsilon": 1e-3}, ["separable"],
         {"gamma": gamma, "beta": beta, "moving_mean": mean, "moving_variance": var}),
        ("relu6", "ReLU", {"max_value": 6.0}, ["norm"], {}),
        ("max", "MaxPooling2D", {"pool_size": [3, 3], "strides": [2, 2], "padding": padding}, ["relu6"], {}),
        ("mean", "AveragePooling2D", {"pool_size": [3, 3], "strides": [2, 2], "padding": padding}, ["relu6"], {}),
        ("sum", "Add", {}, ["max", "mean"], {}),
        ("drop", "Dropout", {"rate": 0.5}, ["sum"], {}),
        ("flat", "Flatten", {}, ["drop"], {}),
        ("dense", "Dense", {"units": 3, "activation": "linear"}, ["flat"], {"kernel": dense_k, "bias": dense_b}),
        ("probs", "Softmax", {"axis": -1}, ["dense"], {}),
    ]
    path = write_functional(tmp_path / "net.h5", layers, "probs")
    np.testing.assert_allclose(_run(path, x, CLASSES3), expected, atol=1e-5)


def test_global_pooling_dense_activation_sequential_and_keras3_layout(tmp_path) -> None:
    x = RNG.normal(size=(3, 5, 5, 1))
    kernel = RNG.normal(size=(3, 3, 1, 4))
    dense_k, dense_b = RNG.normal(size=(4, 3)), RNG.normal(size=3)
    h = np.tanh(conv_nhwc(x, kernel, 1, True)).mean(axis=(1, 2))
    logits = h @ dense_k + dense_b
    expected = 1 / (1 + np.exp(-logits))
    layers = [
        input_layer("pixels", (5, 5, 1)),
        ("conv", "Conv2D", {"kernel_size": [3, 3], "padding": "same", "use_bias": False}, ["pixels"],
         {"kernel": kernel}),
        ("tanh", "Activation", {"activation": "tanh"}, ["conv"], {}),
        ("gap", "GlobalAveragePooling2D", {}, ["tanh"], {}),
        ("dense", "Dense", {"units": 3, "activation": "sigmoid"}, ["gap"], {"kernel": dense_k, "bias": dense_b}),
    ]
    for path in (write_sequential(tmp_path / "seq.h5", layers),
                 write_functional(tmp_path / "k2.h5", layers, "dense"),
                 write_functional(tmp_path / "k3.h5", layers, "dense", keras3=True)):
        np.testing.assert_allclose(_run(path, x, CLASSES3), expected, atol=1e-5)


def test_the_port_keeps_keras_names_on_real_conv_layers(tmp_path) -> None:
    layers = [input_layer("pixels", (8, 8, 1)),
              ("block1_conv", "Conv2D", {"kernel_size": [3, 3], "padding": "same"}, ["pixels"],
               {"kernel": RNG.normal(size=(3, 3, 1, 3)), "bias": np.zeros(3)}),
              ("gap", "GlobalAveragePooling2D", {}, ["block1_conv"], {})]
    card = ModelCard(name="k", model=str(write_functional(tmp_path / "n.h5", layers, "gap")), classes=CLASSES3,
                     colour="grey")
    loaded = load_model(card)
    assert isinstance(loaded.module.get_submodule("block1_conv"), torch.nn.Conv2d)
    assert (loaded.card.input_size, loaded.card.channels, loaded.card.format) == (8, 1, "keras")


def test_an_unsupported_layer_names_its_type_and_the_file(tmp_path) -> None:
    layers = [input_layer("pixels", (8, 8, 1)),
              ("up", "Conv2DTranspose", {"filters": 2, "kernel_size": [2, 2]}, ["pixels"], {}),
              ("gap", "GlobalAveragePooling2D", {}, ["up"], {})]
    path = write_functional(tmp_path / "transpose.h5", layers, "gap")
    with pytest.raises(DataError, match=r"transpose.h5: layer up is a Keras Conv2DTranspose.*supported: .*Conv2D"):
        load_model(ModelCard(name="k", model=str(path), classes=CLASSES3, colour="grey"))


def test_weights_only_and_corrupt_files_are_data_errors(tmp_path) -> None:
    import h5py

    weights_only = tmp_path / "weights.h5"
    with h5py.File(weights_only, "w") as handle:
        handle.attrs["layer_names"] = [b"dense"]
    with pytest.raises(DataError, match="weights.h5: holds no model_config.*model.save"):
        load_model(ModelCard(name="k", model=str(weights_only), classes=CLASSES3, input_size=8))
    corrupt = tmp_path / "corrupt.hdf5"
    corrupt.write_bytes(b"\x89HDF\r\n\x1a\n broken")
    with pytest.raises(DataError, match="corrupt.hdf5: not a readable HDF5 file"):
        load_model(ModelCard(name="k", model=str(corrupt), classes=CLASSES3, input_size=8))
