"""Executors: how a study's (model, fold) tasks are run.

``local`` (the default) trains them one after another in this process; ``ray`` sends each to a Ray
cluster (one started on this machine, or ``--address``). The Ray executor's module is imported only
when it is asked for, so ``import trainers`` and the local path never import Ray.
"""

from __future__ import annotations

import importlib
from typing import Any

from trainers.common.errors import DataError
from trainers.executors.base import Executor

EXECUTORS: dict[str, str] = {
    "local": "trainers.executors.local:LocalExecutor",
    "ray": "trainers.executors.ray:RayExecutor",
}


def create_executor(name: str, **options: Any) -> Executor:
    """The executor ``name`` (a key of :data:`EXECUTORS`) built with ``options``."""
    if name not in EXECUTORS:
        raise DataError(f"--executor {name!r}: choose one of {', '.join(EXECUTORS)}")
    module, attribute = EXECUTORS[name].split(":")
    return getattr(importlib.import_module(module), attribute)(**options)
