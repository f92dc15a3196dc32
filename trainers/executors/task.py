"""One (arm, fold) task of a study: what every executor runs, here or on a Ray worker."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from trainers import rundir
from trainers.common.errors import DataError
from trainers.device import place_images
from trainers.executors.base import SKIPPED, TRAINED, StudyPlan, Task
from trainers.loop import train_fold
from trainers.methods import create_method
from trainers.methods.base import FoldContext

log = logging.getLogger(__name__)


def train_task(plan: StudyPlan, task: Task, images: np.ndarray | torch.Tensor | None = None) -> str:
    """Train one task of ``plan`` unless its fold has ``DONE``; ``"trained"`` or ``"skipped"``.

    ``images`` is the cache already placed for the device (:func:`trainers.device.place_images`);
    by default it is opened from ``plan.cache``.
    """
    directory = rundir.fold_dir(plan.out, task.model, task.fold)
    if rundir.is_done(directory):
        log.info("%s: DONE, skipped", task)
        return SKIPPED
    device = torch.device(plan.device)
    if images is None:
        images = place_images(open_cache(plan.cache), device)
    context = FoldContext(plan.out, directory, task.fold, plan.table, device)
    train_fold(create_method(task.model, plan.config), context, images, compile_model=plan.compile)
    return TRAINED


def open_cache(path: Path) -> np.ndarray:
    """The image cache file that :func:`trainers.runner.plan_study` built, memory-mapped read-only."""
    if not Path(path).is_file():
        raise DataError(f"image cache {path} not found here; on a cluster, set MASKFER_CACHE to a folder "
                        "that every node reads (and put the run directory on it too)")
    return np.load(path, mmap_mode="r")
