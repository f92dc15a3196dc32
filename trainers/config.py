"""Training configuration: dataclasses with the paper's defaults, filled from a preset file.

A preset (``trainers/presets/<name>.toml``) holds only the values that differ from these
defaults; command-line options override single fields (:func:`override`). The resolved config
(:func:`to_dict`) is written into ``study.json`` and into every checkpoint.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainers.common.errors import DataError
from trainers.common.options import build, parse_fields

PRESET_DIR = Path(__file__).resolve().parent / "presets"


@dataclass
class OptimConfig:
    """Adam with one learning rate for the backbone and one for the head; step decay."""

    lr_backbone: float = 1e-4
    lr_head: float = 1e-3
    weight_decay: float = 0.0
    milestones: list[int] = field(default_factory=lambda: [8, 14, 20, 25])
    gamma: float = 0.1


@dataclass
class AugmentConfig:
    """Training augmentation, identical for both images of a pair."""

    flip: float = 0.5
    shift: float = 0.0625
    scale: float = 0.1
    rotate: float = 3.0
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2


@dataclass
class TrainConfig:
    """Everything that decides a study's numbers.

    ``methods`` holds per-model options keyed by model name (e.g. ``{"cl": {"feature_weight":
    0.2}}``); each training method turns its entry into its own options dataclass.
    ``require_weights``: refuse to start when an arm would start from random initialisation (the
    ``paper`` preset; ``--allow-random-init`` clears it). ``partial_weights``: accept a weights file
    that fills fewer than 90% of the backbone's tensors (``--partial-weights``). ``repeats``: repeated
    cross-validation, ``repeats`` x ``k`` folds, repeat ``r`` with its own fold assignment (seed ``seed + r``);
    fold id ``r * k + f`` is fold ``f`` of repeat ``r`` (:func:`trainers.rundir.split_fold`); ``folds`` are
    fold ids (default: all ``repeats * k``).
    """

    architecture: str = "resnet18"
    weights: str | None = None
    require_weights: bool = False
    partial_weights: bool = False
    image_size: int = 224
    face_crop: bool = True
    batch_size: int = 32
    eval_batch_size: int = 64
    epochs: int = 25
    k: int = 10
    repeats: int = 1
    folds: list[int] | None = None
    seed: int = 0
    bf16: bool = True
    channels_last: bool = True
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)


def to_dict(config: TrainConfig) -> dict[str, Any]:
    """The config as plain JSON-ready data."""
    return dataclasses.asdict(config)


def from_dict(data: dict[str, Any], where: str = "training config") -> TrainConfig:
    """Build a :class:`TrainConfig` from nested dicts, every field type-checked (:func:`trainers.common.options.build`).

    Unknown keys or ill-typed values raise :class:`DataError` prefixed with ``where``.
    """
    return build(TrainConfig, data, where)


def preset_names() -> list[str]:
    """Names of the shipped presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_preset(name: str) -> TrainConfig:
    """Read ``trainers/presets/<name>.toml`` (or a path to a TOML file) into a :class:`TrainConfig`."""
    path = Path(name) if name.endswith(".toml") else PRESET_DIR / f"{name}.toml"
    if not path.is_file():
        raise DataError(f"unknown preset {name!r}; shipped presets: {', '.join(preset_names())}")
    with path.open("rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{path}: {exc}") from exc
    return from_dict(data, str(path))


def override(config: TrainConfig, **values: Any) -> TrainConfig:
    """A copy of ``config`` with the given top-level fields replaced (``None`` values ignored), type-checked."""
    values = {k: v for k, v in values.items() if v is not None}
    return dataclasses.replace(config, **parse_fields(TrainConfig, values, "config override"))


def config_differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of the fields whose values differ between two config dicts, with both values."""
    differences = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            differences += config_differences(a, b, f"{prefix}{key}.")
        elif a != b:
            differences.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return differences
