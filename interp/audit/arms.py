"""Audited arms: a study arm that is a model the suite did not train, rebuilt from its card.

``python -m interp.audit`` (:mod:`interp.audit.study`) records the resolved model card of its arm
in ``study.json`` under ``arms.<arm>.audited`` (:data:`AUDITED`). The attention audit asks
:func:`load_audited_arm` for every arm before it rebuilds a trained arm from its checkpoint: an
audited arm is loaded again through :func:`interp.external.load_model` (the card names the model
file), or, for a model handed to :func:`interp.audit.audit_model` in Python, taken from
:func:`provided_model` while that call runs.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from torch import nn

from interp.audit.arm_model import ArmModel, LayerChoice
from interp.external.card import ModelCard
from trainers.common.errors import DataError

AUDITED = "audited"
"""Key of an audited arm's record in ``study.json`` ``arms.<arm>``."""
PYTHON_SOURCE = "python"
"""``arms.<arm>.audited.source`` of a model handed over in Python (no file to reload it from)."""

_PROVIDED: dict[tuple[str, str], ArmModel] = {}


def audited_record(study: dict, arm: str) -> dict | None:
    """The ``arms.<arm>.audited`` record of ``study.json``, or ``None`` for a trained arm."""
    record = ((study.get("arms") or {}).get(arm) or {}).get(AUDITED)
    return dict(record) if record else None


@contextlib.contextmanager
def provided_model(run_dir: Path, arm: str, model: ArmModel) -> Iterator[None]:
    """Make an in-memory model the arm ``arm`` of ``run_dir`` while the block runs (the Python API)."""
    key = (str(Path(run_dir).resolve()), arm)
    _PROVIDED[key] = model
    try:
        yield
    finally:
        _PROVIDED.pop(key, None)


def load_audited_arm(run_dir: Path, study: dict, arm: str) -> ArmModel | None:
    """The audited arm ``arm`` as an :class:`~interp.audit.arm_model.ArmModel`, or ``None`` for a trained arm.

    Raises
    ------
    DataError
        When the model came from Python and is not provided now, or its file changed since the audit.
    """
    record = audited_record(study, arm)
    if record is None:
        return None
    provided = _PROVIDED.get((str(Path(run_dir).resolve()), arm))
    if provided is not None:
        return provided
    if record.get("source") == PYTHON_SOURCE:
        raise DataError(f"{Path(run_dir) / 'study.json'}: arm {arm!r} was audited from a model given in Python; "
                        "its attributions can only be recomputed by calling interp.audit.audit_model again")
    from interp.external import load_model

    card = ModelCard.from_dict(record["card"], where=f"study.json arms.{arm}.audited.card")
    expected = record.get("model_sha256")
    if card.model and expected and file_sha256(Path(card.model)) != expected:
        raise DataError(f"{card.model}: the model file changed since it was audited into {run_dir}; "
                        "audit it again with python -m interp.audit")
    loaded = load_model(card)
    layer = record["layer"]
    return ArmModel(loaded.module, loaded.card, record["outputs"],
                    LayerChoice(layer["name"], int(layer["side"]), layer["rule"]))


def file_sha256(path: Path) -> str:
    """SHA-256 of a file (a model file's identity in ``study.json``)."""
    if not path.is_file():
        raise DataError(f"{path}: the audited model file is missing; restore it or audit again")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def as_module(model: object) -> nn.Module:
    """``model`` as an eval-mode ``nn.Module`` (an ``ExternalModel``'s ``.module`` or the module itself)."""
    module = getattr(model, "module", model)
    if not isinstance(module, nn.Module):
        raise DataError(f"audit_model needs a torch nn.Module, got {type(model).__name__}")
    return module.eval()


def sample_batch(card: ModelCard, count: int = 2) -> np.ndarray:
    """A mid-grey ``(count, size, size, 3)`` uint8 batch at the card's input size (for a test forward pass)."""
    return np.full((count, card.input_size, card.input_size, 3), 128, dtype=np.uint8)
