"""Which class each attribution map explains (the audit's ``target`` option).

- ``pred``: each image's own predicted class (the paper's setting);
- ``true``: the labelled class (needs labels);
- ``pair``: for both images of a pair, the class the model predicts on the non-masked image, so the
  two maps explain the same class and their difference is the mask's doing, not a change of target.
  This is what an unlabelled audit uses; an image without a partner explains its own prediction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from interp.audit.inputs import Selection
from trainers.common.errors import DataError

TARGETS: tuple[str, ...] = ("pred", "true", "pair")


def explained_classes(model: nn.Module, inputs: torch.Tensor, selection: Selection, pair_ids: Sequence[str],
                      target: str, batch_size: int = 32) -> str | np.ndarray:
    """``"pred"`` (the attribution method then explains each prediction) or one class index per image.

    Raises
    ------
    DataError
        For ``true`` when an image has no label.
    """
    if target == "pred":
        return "pred"
    if target == "true":
        if (selection.labels < 0).any():
            raise DataError(f"target 'true': {int((selection.labels < 0).sum())} audited image(s) have no label; "
                            "use target 'pair' (the class predicted on the non-masked image of each pair)")
        return selection.labels
    if target != "pair":
        raise DataError(f"target {target!r}: use one of {', '.join(TARGETS)}")
    preds = _predict(model, inputs, batch_size)
    return pair_classes(preds, np.asarray(selection.masked, dtype=bool), np.asarray(pair_ids, dtype=str))


def pair_classes(preds: np.ndarray, masked: np.ndarray, pair_ids: np.ndarray) -> np.ndarray:
    """Each image's class to explain: its pair's non-masked prediction, else its own prediction."""
    chosen = np.asarray(preds).copy()
    unmasked = {pair: pred for pair, pred, is_masked in zip(pair_ids, preds, masked) if pair and not is_masked}
    for index, pair in enumerate(pair_ids):
        if pair in unmasked:
            chosen[index] = unmasked[pair]
    return chosen


def _predict(model: nn.Module, inputs: torch.Tensor, batch_size: int) -> np.ndarray:
    device = next(model.parameters(), torch.empty(0)).device
    with torch.no_grad():
        return np.concatenate([model(inputs[start:start + batch_size].to(device)).argmax(1).cpu().numpy()
                               for start in range(0, len(inputs), batch_size)])
