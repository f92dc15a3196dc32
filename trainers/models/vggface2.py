"""Load SCAN's VGGFace2 ResNet-50 weights: a Python pickle of ``name -> numpy array``.

The file SCAN uses (``vgg_msceleb_resnet50_ft_weight.pkl``, converted from the VGGFace2 authors' Caffe
model) names its arrays like torchvision (``layer1.0.conv1.weight``); Caffe layer names
(``conv2_1_1x1_reduce/bn.running_mean``) are mapped onto the same keys. ``layer4`` and the classifier
are skipped (SCAN + CCI stops at layer3). The arrays load into ``model.backbone``.

A pickle can run arbitrary code while it is read, so this loader refuses unless the caller passes
``trust_pickle=True`` (the CLI's ``--trust-pickle``). Even then it unpickles with an allow-list of
numpy array constructors only.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from trainers.common.errors import DataError
from trainers.models.weights import LoadReport, apply_matched

SKIPPED = re.compile(r"^(layer4\.|fc\.|classifier)")
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),
}
_CAFFE_STEM = {"conv1/7x7_s2": "conv1", "conv1/7x7_s2/bn": "bn1"}
_CAFFE_BLOCK = re.compile(r"^conv(\d)_(\d+)_(1x1_reduce|3x3|1x1_increase|1x1_proj)(/bn)?$")
_CAFFE_PART = {"1x1_reduce": ("conv1", "bn1"), "3x3": ("conv2", "bn2"), "1x1_increase": ("conv3", "bn3"),
               "1x1_proj": ("downsample.0", "downsample.1")}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles only dicts of numpy arrays: any other global is refused."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a weights pickle")
        return super().find_class(module, name)


def torchvision_key(name: str) -> str | None:
    """The torchvision ResNet key of a pickle array name, or ``None`` when it has no counterpart.

    ``layer1.0.conv1.weight`` stays as it is (a ``module.`` prefix is dropped);
    ``conv2_1_1x1_reduce/bn.running_mean`` becomes ``layer1.0.bn1.running_mean``.
    """
    name = name.removeprefix("module.")
    layer, _, param = name.rpartition(".")
    if layer in _CAFFE_STEM:
        return f"{_CAFFE_STEM[layer]}.{param}"
    match = _CAFFE_BLOCK.match(layer)
    if match:
        stage, block, part, bn = match.groups()
        module = _CAFFE_PART[part][1 if bn else 0]
        return f"layer{int(stage) - 1}.{int(block) - 1}.{module}.{param}"
    return name if layer else None


def read_pickle(path: Path, *, trust_pickle: bool) -> dict[str, np.ndarray]:
    """Read a ``name -> numpy array`` pickle, only when ``trust_pickle`` is true.

    Raises
    ------
    DataError
        Without ``trust_pickle``, for a missing or unreadable file, or one that is not such a dict.
    """
    if not trust_pickle:
        raise DataError(
            f"{path}: VGGFace2 weights come as a Python pickle, and reading a pickle can run arbitrary code "
            "hidden in the file. Load it only if you trust where it came from, by passing --trust-pickle "
            "(trust_pickle=True)"
        )
    if not path.is_file():
        raise DataError(f"{path}: weights pickle not found (pass an existing .pkl file)")
    try:
        with path.open("rb") as handle:
            arrays = _NumpyOnlyUnpickler(handle, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise DataError(f"{path}: not a readable pickle of numpy arrays ({exc})") from exc
    if not isinstance(arrays, dict):
        raise DataError(f"{path}: holds a {type(arrays).__name__}, expected a dict of name -> numpy array")
    return arrays


def load_vggface2_pickle(model: nn.Module, path: str | Path, *, trust_pickle: bool = False,
                        partial: bool = False) -> LoadReport:
    """Load SCAN's VGGFace2 ResNet-50 pickle into ``model.backbone`` (layer4 and fc skipped).

    Parameters
    ----------
    model
        A model with a torchvision-named ``backbone`` (``scan``, ``ran`` with ``resnet50``, ``resnet50``).
    path
        The ``.pkl`` file.
    trust_pickle
        Must be true: the caller vouches for the file (see the module docstring).
    partial
        Accept a file that fills fewer than 90% of the backbone's tensors (``ran``/``resnet50``'s layer4).

    Raises
    ------
    DataError
        See :func:`read_pickle`; also when not one array matches the backbone by name and shape.
    """
    path = Path(path)
    arrays = read_pickle(path, trust_pickle=trust_pickle)
    target = model.backbone.state_dict()
    matched: dict[str, torch.Tensor] = {}
    skipped = unexpected = mismatched = 0
    for name, array in arrays.items():
        key = torchvision_key(str(name))
        if key is None or SKIPPED.match(key):
            skipped += 1
        elif key not in target or not isinstance(array, np.ndarray):
            unexpected += 1
        elif tuple(array.shape) != tuple(target[key].shape):
            mismatched += 1
        else:
            matched[key] = torch.from_numpy(np.ascontiguousarray(array)).to(target[key].dtype)
    # num_batches_tracked counters are bookkeeping, not weights: a Caffe file never has them
    expected = [k for k in target if not k.endswith("num_batches_tracked")]
    report = LoadReport(str(path), len(matched), len(expected) - len(matched), unexpected, mismatched, skipped)
    return apply_matched(model, matched, report, list(arrays), "arrays", "layer4/fc arrays",
                         "pass ResNet-50 VGGFace2 weights", partial)
