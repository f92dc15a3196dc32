"""TorchScript archives (``torch.jit.save``), made hookable for Grad-CAM through ONNX.

Forward hooks do not run inside a compiled TorchScript graph, so Grad-CAM cannot read a layer of
a ``torch.jit.load`` module. The loaded module is therefore exported to ONNX in memory (the
TorchScript exporter of ``torch.onnx``, opset 17, batch dimension dynamic) and converted back with
onnx2torch, exactly as an ``.onnx`` file is: same arithmetic, real ``nn.Conv2d`` layers. The export
needs the input size, so a TorchScript card must give ``input_size``.
"""

from __future__ import annotations

import io
import logging
import warnings
import zipfile
from pathlib import Path

import torch
from torch import nn

from interp.external.card import ModelCard, ModelInfo
from interp.external.formats import register_format
from interp.external.formats.base import ModelFormat, describe_error
from interp.external.formats.onnx_graph import (
    FALLBACK_OPSET,
    OnnxModel,
    convert_graph,
    inline_identity_weights,
)
from trainers.common.errors import DataError

log = logging.getLogger(__name__)


def is_torchscript(path: Path) -> bool:
    """Whether ``path`` is a TorchScript archive: a zip holding compiled ``code/`` (a pickled state dict has none)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name or name.endswith("constants.pkl") for name in archive.namelist())


@register_format("torchscript")
class TorchScriptFormat(ModelFormat):
    """A ``torch.jit.save`` archive (``.pt``, ``.pth``, ``.ts``, ``.torchscript``)."""

    name = "torchscript"
    extensions = (".pt", ".pth", ".ts", ".torchscript")

    def claims(self, path: Path) -> bool:
        return super().claims(path) and is_torchscript(path)

    def load(self, card: ModelCard) -> tuple[nn.Module, ModelInfo]:
        import onnx

        path = Path(str(card.model))
        try:
            scripted = torch.jit.load(str(path), map_location="cpu").eval()
        except Exception as exc:  # RuntimeError from the archive reader for a foreign or truncated file
            raise DataError(f"{path}: not a readable TorchScript archive ({exc}); save it with torch.jit.save, "
                            "or pass --format state_dict --arch NAME for a state dict") from exc
        if card.input_size is None:
            raise DataError(f"{path}: a TorchScript file does not record its input size; pass --input-size "
                            "(e.g. 224) or set \"input_size\" in the card")
        channels = card.channels or (1 if card.colour == "grey" else 3)
        sample = torch.zeros(1, channels, card.input_size, card.input_size)
        buffer = io.BytesIO()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the exporter's deprecation notes, not the user's concern
                torch.onnx.export(scripted, (sample,), buffer, dynamo=False, opset_version=FALLBACK_OPSET,
                                  input_names=["input"], output_names=["output"],
                                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        except Exception as exc:  # an operator the exporter lacks, or a refused input size
            raise DataError(f"{path}: the TorchScript model could not be traced for Grad-CAM at "
                            f"{tuple(sample.shape)} ({describe_error(exc)}); check --input-size/--colour, "
                            "or give its state dict with --arch / --factory instead") from exc
        proto = inline_identity_weights(onnx.load_from_string(buffer.getvalue()))
        log.info("%s: TorchScript converted through ONNX (opset %d) for Grad-CAM hooks", path.name, FALLBACK_OPSET)
        return OnnxModel(convert_graph(proto, path), nhwc=False, fixed_batch=None).eval(), ModelInfo(channels=channels)
