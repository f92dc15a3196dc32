"""The seven expression classes and label normalisation.

Class order follows RAF-DB (and the MSD-E reference code): index 0 is surprise.
A cross-dataset study maps labels by name, never by index.
"""

from __future__ import annotations

from typing import Literal

CLASSES: tuple[str, ...] = ("surprise", "fear", "disgust", "happy", "sad", "angry", "neutral")

SYNONYMS: dict[str, str] = {
    "surprised": "surprise",
    "surprise": "surprise",
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "disgust": "disgust",
    "disgusted": "disgust",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "sad": "sad",
    "sadness": "sad",
    "angry": "angry",
    "anger": "angry",
    "neutral": "neutral",
    "neutrality": "neutral",
}

NumericOrder = Literal["rafdb0", "rafdb1"]


def normalise_label(value: object, numeric: NumericOrder | None = None) -> str:
    """Return the canonical class name for ``value``.

    Parameters
    ----------
    value
        A class name or synonym (any case), or an integer index when ``numeric`` is given.
    numeric
        ``"rafdb0"``: integers 0-6 in RAF-DB order (MSD-E file names);
        ``"rafdb1"``: integers 1-7 in RAF-DB order (RAF-DB's label list).
        ``None``: integers are refused, because their meaning depends on the dataset.

    Raises
    ------
    ValueError
        When ``value`` is not a known class; the message lists the accepted names.
    """
    text = str(value).strip().lower()
    if text in SYNONYMS:
        return SYNONYMS[text]
    if numeric is not None and text.lstrip("-").isdigit():
        index = int(text) - (1 if numeric == "rafdb1" else 0)
        if 0 <= index < len(CLASSES):
            return CLASSES[index]
        span = "1-7" if numeric == "rafdb1" else "0-6"
        raise ValueError(f"label index {value!r} is outside {span} ({numeric} order)")
    raise ValueError(f"unknown label {value!r}; expected one of {', '.join(CLASSES)} (or a synonym)")
