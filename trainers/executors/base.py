"""What an executor receives and returns: the study plan, its tasks and their results.

A study is a list of :class:`Task` (one model on one fold). The runner prepares a
:class:`StudyPlan` (run directory opened, manifest frozen, image cache built) and hands it to an
executor, which runs every task through :func:`trainers.executors.task.train_task` in its own way (one
after another in this process, or as Ray tasks) and returns one :class:`TaskResult` per task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from trainers.config import TrainConfig

TRAINED, SKIPPED, FAILED = "trained", "skipped", "failed"


@dataclass(frozen=True)
class Task:
    """One model on one fold; ``requires`` lists the models of the same fold it needs first."""

    model: str
    fold: int
    requires: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.model} fold {self.fold}"


@dataclass
class StudyPlan:
    """Everything a task needs, small enough to send to another process.

    Attributes
    ----------
    out
        The run directory (absolute; every worker must be able to write it).
    config
        The resolved training config.
    table
        The frozen manifest table with its ``fold`` column; row ``i`` is row ``i`` of the cache.
    cache
        The uint8 image cache file (absolute; every worker must be able to read it).
    device
        ``cpu``, ``cuda`` or ``cuda:N``: where each task trains.
    compile
        Whether tasks ``torch.compile`` the model's convolutional trunk.
    tasks
        The tasks, each after the tasks it requires.
    """

    out: Path
    config: TrainConfig
    table: pd.DataFrame
    cache: Path
    device: str
    compile: bool = False
    tasks: list[Task] = field(default_factory=list)


@dataclass
class TaskResult:
    """How a task ended: ``status`` is ``trained``, ``skipped`` (``DONE`` already) or ``failed``.

    ``started`` and ``finished`` are UNIX times taken where the task ran; ``error`` holds the
    traceback of a failed task.
    """

    task: Task
    status: str
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    where: str = ""

    @property
    def seconds(self) -> float | None:
        """Run time of the task, when known."""
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    def line(self) -> str:
        """A one-line status, e.g. ``kd fold 1: trained in 12.3 s (pid 123)``."""
        text = f"{self.task}: {self.status}"
        if self.seconds is not None and self.status != SKIPPED:
            text += f" in {self.seconds:.1f} s"
        return text + (f" ({self.where})" if self.where else "")


def longest_first(plan: StudyPlan) -> list[Task]:
    """The plan's tasks, the most expensive first, each still after the tasks it requires.

    With fewer workers than tasks, starting the long tasks (RAN's six crops a sample) last leaves
    workers idle while the last one finishes; cost is :meth:`trainers.methods.base.Method.estimated_cost`
    on the task's fold. Ties keep plan order.
    """
    from trainers import rundir
    from trainers.methods import create_method

    def cost(task: Task) -> float:
        training, _ = rundir.fold_rows(plan.table, task.fold)
        return create_method(task.model, plan.config).estimated_cost(plan.table[training])

    by_key = {(task.model, task.fold): task for task in plan.tasks}
    ordered: list[Task] = []
    placed: set[Task] = set()

    def place(task: Task) -> None:
        for name in task.requires:
            required = by_key.get((name, task.fold))
            if required is not None and required not in placed:
                place(required)
        placed.add(task)
        ordered.append(task)

    costs = {task: cost(task) for task in plan.tasks}
    for task in sorted(plan.tasks, key=lambda t: -costs[t]):  # sorted is stable: ties keep plan order
        if task not in placed:
            place(task)
    return ordered


class TasksFailed(Exception):
    """Raised by :func:`trainers.runner.run_study` after the summary is written, when tasks failed."""

    def __init__(self, failures: list[TaskResult], summary: pd.DataFrame) -> None:
        self.failures = failures
        self.summary = summary
        names = ", ".join(str(result.task) for result in failures)
        super().__init__(f"{len(failures)} task(s) failed: {names}")


class Executor(Protocol):
    """Runs a study's tasks; :mod:`trainers.executors.local` and :mod:`trainers.executors.ray`."""

    def resolve_device(self, device: str | None) -> tuple[str, str]:
        """``(device the tasks train on, description for study.json)`` for the ``--device`` value."""

    def run(self, plan: StudyPlan) -> list[TaskResult]:
        """Run every task of ``plan`` (each after the tasks it requires); one result per task."""
