"""What an analysis step is: a name, the inputs it hashes, its options, and a run function."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from interp.dependencies import code_digest
from interp.runs import Run
from trainers.common.errors import DataError


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Step(ABC):
    """One analysis step of ``python -m interp.analyze``.

    Attributes
    ----------
    name
        The ``--only`` name and the key in ``analysis/index.json``.
    order
        Steps run in ascending order.
    description
        One line for ``--help`` and the index.
    Config
        A dataclass of the step's options, every field with a default.
    """

    name: ClassVar[str]
    order: ClassVar[int] = 100
    description: ClassVar[str]
    Config: ClassVar[type]

    @abstractmethod
    def inputs(self, run: Run) -> list[Path]:
        """Files of the run whose content decides the step's outputs."""

    @abstractmethod
    def run(self, run: Run, config: Any, analysis: Path) -> list[Path]:
        """Compute and write the outputs under ``analysis``; return their paths."""

    def fingerprint(self, run: Run, config: Any) -> dict[str, object]:
        """Everything the outputs depend on: input file hashes, options, code, finished folds.

        The code is every project module the step's module imports, directly or not
        (:func:`interp.dependencies.code_digest`): editing any of them redoes the step.
        """
        paths = self.inputs(run)
        absent = [path for path in paths if not path.is_file()]
        if absent:
            raise DataError(f"{absent[0]}: input of analysis step {self.name!r} is missing"
                            + (f" (and {len(absent) - 1} more)" if len(absent) > 1 else "")
                            + f"; skip the step with --only (steps other than {self.name})")
        inputs = {path.relative_to(run.path).as_posix(): file_digest(path) for path in paths}
        record = {
            "inputs": inputs,
            "config": _jsonable(dataclasses.asdict(config)),
            "code": code_digest(type(self).__module__),
            "missing_folds": [f"{model}/fold-{fold}" for model, fold, _ in run.missing],
        }
        record["input_hash"] = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
        return record


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value
