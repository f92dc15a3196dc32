"""A model's output names mapped to our seven expressions (synonyms, case), extra classes kept."""

from __future__ import annotations

from collections.abc import Sequence

from trainers.common.errors import DataError
from trainers.data.labels import CLASSES, SYNONYMS

EXTRA_CLASSES: tuple[str, ...] = ("contempt",)
"""Classes a model may have beyond our seven: kept in its outputs, left out of 7-class accuracy."""

CLASS_SYNONYMS: dict[str, str] = {
    **SYNONYMS,
    "scared": "fear",
    "fright": "fear",
    "surprize": "surprise",
    "suprise": "surprise",
    "joyful": "happy",
    "happily": "happy",
    "smile": "happy",
    "sorrow": "sad",
    "unhappy": "sad",
    "mad": "angry",
    "rage": "angry",
    "disgusting": "disgust",
    "calm": "neutral",
    "contemptuous": "contempt",
    "contempt": "contempt",
}
"""Lower-case output names -> our class name (or an extra class). ``calm`` (RAVDESS) counts as neutral."""


def map_class_name(name: str, where: str = "--classes") -> str:
    """Our class name (or an extra class) for one output name; case and synonyms do not matter.

    Raises
    ------
    DataError
        When ``name`` maps to nothing; the message lists the names that do.
    """
    key = str(name).strip().lower()
    if key in CLASS_SYNONYMS:
        return CLASS_SYNONYMS[key]
    known = ", ".join(sorted(CLASS_SYNONYMS))
    raise DataError(f"{where}: class {name!r} is not an expression we know; use one of {known} "
                    f"(our classes: {', '.join(CLASSES)}; extras kept: {', '.join(EXTRA_CLASSES)})")


def map_classes(names: Sequence[str], where: str = "--classes") -> list[str]:
    """:func:`map_class_name` for every output; two outputs naming one class is an error."""
    mapped = [map_class_name(name, where) for name in names]
    repeated = sorted({name for name in mapped if mapped.count(name) > 1})
    if repeated:
        raise DataError(f"{where}: classes {list(names)} name {', '.join(repeated)} more than once; "
                        "give each output its own class")
    return mapped
