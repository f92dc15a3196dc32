"""Rebuild a finished fold's network from its ``checkpoint.pt``, importing only the model registry.

Analysis (interp) and KD's teacher need a trained network, not the fold runner: this loader reads
the checkpoint with ``torch.load(weights_only=True)`` and builds the network through
:func:`trainers.models.create` from the architecture recorded in the checkpoint's config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from trainers import rundir
from trainers.common.errors import DataError
from trainers.models import create


def load_fold_model(directory: Path) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a finished fold's network in eval mode from ``checkpoint.pt``.

    Parameters
    ----------
    directory
        The fold folder, ``<run>/<arm>/fold-<k>``; it must hold ``DONE``.

    Returns
    -------
    (network, config)
        The network (on the CPU, eval mode) and the checkpoint's config dict (``model``: the arm's name,
        architecture, image size, normalisation, fold, training subjects, ...).

    Raises
    ------
    DataError
        When the fold is unfinished or its checkpoint is unreadable.
    """
    directory = Path(directory)
    if not rundir.is_done(directory):
        raise DataError(f"{directory}: fold has no {rundir.DONE_FILE}; finish training it first "
                        "(rerun the same command)")
    state = rundir.load_checkpoint(directory / rundir.CHECKPOINT_FILE)
    config = state["config"]
    network = create(config["architecture"], config["num_classes"], **config.get("architecture_options", {}))
    network.load_state_dict(state["model"])
    return network.eval(), config
