"""The local executor (the default): every task in this process, one after another.

The image cache is opened once and placed on the device once for all tasks. The first error stops
the study (a rerun resumes it).
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from tqdm.auto import tqdm

from trainers.device import describe_device, place_images, resolve_device
from trainers.executors.base import StudyPlan, TaskResult
from trainers.executors.task import open_cache, train_task


class LocalExecutor:
    """Run a study's tasks here, in order (a task's required tasks come before it in the plan)."""

    def resolve_device(self, device: str | None) -> tuple[str, str]:
        """``--device`` (default: cuda when available) and its description."""
        torch_device = resolve_device(device)
        return str(torch_device), describe_device(torch_device)

    def run(self, plan: StudyPlan) -> list[TaskResult]:
        """Train every task of ``plan`` that has no ``DONE``; raises on the first failure."""
        images: np.ndarray | torch.Tensor = place_images(open_cache(plan.cache), torch.device(plan.device))
        results = []
        for task in tqdm(plan.tasks, desc="folds", unit="fold"):
            started = time.time()
            status = train_task(plan, task, images)
            results.append(TaskResult(task, status, started, time.time(), where=f"pid {os.getpid()}"))
        return results
