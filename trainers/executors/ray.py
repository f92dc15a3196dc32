"""The Ray executor: each (model, fold) task is a Ray task, on this machine or a Ray cluster.

``python -m trainers run ... --executor ray [--address auto|HOST:PORT] [--gpus-per-task 0.25]``

- The driver (this process) opens the run directory, freezes the manifest and builds the image
  cache once; every task receives the plan through the object store and opens the cache file by
  its path (on a multi-node cluster, ``MASKFER_CACHE`` and the run directory must be on a
  filesystem every node reads).
- A task whose method ``requires`` other models of its fold (KD's teacher ``baseline-nm``) takes
  their tasks' results as arguments, so Ray starts it only after they finished; if one failed,
  the task reports that instead of training.
- Each task runs :func:`trainers.executors.task.train_task`: the same files as the local executor,
  written atomically, and a fold with ``DONE`` is skipped, so a rerun resumes exactly as locally.
  Ray retries a task whose worker died (``max_retries``); the retry resumes from the checkpoint.
- Fractional ``gpus_per_task`` lets several small folds share one device (separate processes).
- Tasks are submitted longest first (:func:`trainers.executors.base.longest_first`), so the slow
  ones (RAN) do not start last and leave workers idle at the end.
- Progress: one bar over tasks and a status line per finished task; a failed task is reported
  with its traceback and the others go on.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from typing import Any

import ray
import torch
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from trainers.device import configure_determinism
from trainers.common.errors import DataError
from trainers.executors.base import FAILED, StudyPlan, Task, TaskResult, longest_first
from trainers.executors.task import train_task

log = logging.getLogger(__name__)


@ray.remote
def _run_task(plan: StudyPlan, task: Task, threads: int, *required: TaskResult) -> TaskResult:
    """Train ``task`` in a Ray worker; failures come back as a result with the traceback."""
    started, where = time.time(), f"{ray.util.get_node_ip_address()} pid {os.getpid()}"
    failed = [str(result.task) for result in required if result.status == FAILED]
    if failed:
        return TaskResult(task, FAILED, started, time.time(), f"not run: required task(s) {', '.join(failed)} failed",
                          where)
    try:
        torch.set_num_threads(threads)
        configure_determinism()
        status = train_task(plan, task)
    except Exception:  # reported to the driver; the other tasks go on
        return TaskResult(task, FAILED, started, time.time(), traceback.format_exc(), where)
    finally:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return TaskResult(task, status, started, time.time(), None, where)


class RayExecutor:
    """Run a study's tasks on Ray.

    Parameters
    ----------
    address
        ``None``: use the Ray instance this process already joined, else start one on this machine
        (all its CPUs and GPUs); ``"auto"`` or ``"HOST:PORT"``: join that cluster.
    cpus_per_task
        CPUs Ray reserves per task; also the task's torch threads (at least 1).
    gpus_per_task
        GPUs per task; a fraction (e.g. 0.25) puts several tasks on one device.
    max_retries
        How often Ray reruns a task whose worker process died (not one that raised).

    Attributes
    ----------
    results
        The results of the last :meth:`run`, in plan order.
    """

    def __init__(self, address: str | None = None, cpus_per_task: float = 1.0, gpus_per_task: float = 0.0,
                 max_retries: int = 3) -> None:
        if cpus_per_task <= 0 or gpus_per_task < 0:
            raise DataError(f"--cpus-per-task {cpus_per_task} must be > 0 and --gpus-per-task {gpus_per_task} >= 0")
        self.address = address
        self.cpus_per_task = cpus_per_task
        self.gpus_per_task = gpus_per_task
        self.max_retries = max_retries
        self.results: list[TaskResult] = []
        self._started_ray = False

    def resolve_device(self, device: str | None) -> tuple[str, str]:
        """The tasks' device (default: cuda when ``gpus_per_task`` > 0, else cpu) and its description.

        Ray is joined (or started) only in :meth:`run`, after the runner has checked the study's input.
        """
        if device is None:
            device = "cuda" if self.gpus_per_task > 0 else "cpu"
        if device.startswith("cuda") and self.gpus_per_task <= 0:
            raise DataError(f"--device {device} with --executor ray needs --gpus-per-task > 0 (e.g. 1, or 0.25 "
                            "to share a GPU between four tasks)")
        if device == "cpu" and self.gpus_per_task > 0:
            raise DataError(f"--gpus-per-task {self.gpus_per_task} with --device cpu: drop one of them")
        address = self.address or os.environ.get("RAY_ADDRESS")
        where = f"address {address}" if address else "in-process instance" if ray.is_initialized() else "started here"
        return device, f"ray ({device}; {self.cpus_per_task:g} CPU, {self.gpus_per_task:g} GPU per task; {where})"

    def _connect(self) -> dict[str, float]:
        """Join (or start) Ray; the cluster's total resources, checked against one task's needs."""
        if not ray.is_initialized():
            started = time.perf_counter()
            # Ray runs workers at nice 15 by default; training tasks are the work, not background jobs
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(address=self.address, log_to_driver=False, include_dashboard=False)
            self._started_ray = True
            log.info("ray: connected in %.1f s", time.perf_counter() - started)
        resources = ray.cluster_resources()
        if resources.get("CPU", 0) < self.cpus_per_task or resources.get("GPU", 0) < self.gpus_per_task:
            self.close()
            raise DataError(f"the Ray cluster has {resources.get('CPU', 0):g} CPU and {resources.get('GPU', 0):g} GPU; "
                            f"a task asks for {self.cpus_per_task:g} CPU and {self.gpus_per_task:g} GPU "
                            "(--cpus-per-task, --gpus-per-task)")
        return resources

    def close(self) -> None:
        """Shut down the Ray instance this executor started (none it merely joined)."""
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    def run(self, plan: StudyPlan) -> list[TaskResult]:
        """Submit every task (required tasks as dependencies), report each as it ends; all results."""
        self._connect()
        plan_ref = ray.put(plan)
        threads = max(1, int(self.cpus_per_task))
        submitted: dict[tuple[str, int], Any] = {}
        tasks: dict[Any, Task] = {}
        for task in longest_first(plan):
            required = [submitted[(name, task.fold)] for name in task.requires if (name, task.fold) in submitted]
            ref = _run_task.options(
                num_cpus=self.cpus_per_task, num_gpus=self.gpus_per_task, max_retries=self.max_retries, name=str(task),
            ).remote(plan_ref, task, threads, *required)
            submitted[(task.model, task.fold)] = ref
            tasks[ref] = task
        finished: dict[Task, TaskResult] = {}
        pending = list(tasks)
        try:
            with logging_redirect_tqdm(), tqdm(total=len(pending), desc="tasks", unit="task") as bar:
                while pending:
                    ready, pending = ray.wait(pending, num_returns=1)
                    result = _result(ready[0], tasks[ready[0]])
                    finished[result.task] = result
                    if result.status == FAILED:
                        log.error("%s\n%s", result.line(), result.error)
                    else:
                        log.info("%s", result.line())
                    bar.update()
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            self.close()
        self.results = [finished[task] for task in plan.tasks]
        return self.results


def _result(ref: Any, task: Task) -> TaskResult:
    """The task's result, or a failed result when Ray could not run it (worker died, cancelled)."""
    try:
        return ray.get(ref)
    except Exception as exc:  # ray.exceptions.RayError and its kin
        return TaskResult(task, FAILED, error=f"{type(exc).__name__}: {exc}")
