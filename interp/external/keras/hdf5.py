"""Read a Keras HDF5 file: its model configuration (JSON) and each layer's weights, by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from trainers.common.errors import DataError

WEIGHTS_GROUP = "model_weights"


def read_keras_file(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """The ``model_config`` of ``path`` and ``{layer name: {weight name: array}}``.

    Weight names are the last part of Keras's names without ``:0`` (``kernel``, ``bias``,
    ``depthwise_kernel``, ``gamma``, ``moving_mean``, ...).

    Raises
    ------
    DataError
        When the file is missing or not HDF5, or holds only weights (no architecture).
    """
    import h5py

    try:
        handle = h5py.File(path, "r")
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such Keras file; check the model path") from exc
    except OSError as exc:
        raise DataError(f"{path}: not a readable HDF5 file ({exc}); check the download, or save the model "
                        "again with model.save('model.h5')") from exc
    with handle:
        if "model_config" not in handle.attrs:
            raise DataError(f"{path}: holds no model_config (weights only, from save_weights); save the whole "
                            "model with model.save('model.h5') so the architecture travels with the weights")
        raw = handle.attrs["model_config"]
        try:
            config = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{path}: its model_config is not JSON ({exc}); save the model again") from exc
        group = handle.get(WEIGHTS_GROUP, handle)
        weights = {name: _layer_weights(group[name]) for name in group if isinstance(group[name], h5py.Group)}
    return config, weights


def _layer_weights(group) -> dict[str, np.ndarray]:
    names = [name.decode("utf-8") if isinstance(name, bytes) else str(name)
             for name in group.attrs.get("weight_names", [])]
    return {name.split("/")[-1].split(":")[0]: np.asarray(group[name], dtype=np.float32) for name in names}
