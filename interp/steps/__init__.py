"""Registry of analysis steps.

Every module of this package (other than ``base``) defines one :class:`~interp.steps.base.Step`
subclass decorated with :func:`register`, in a file named after the step; adding a step (e.g.
``attributions``) is one new file here. Modules are imported on demand, so choosing some steps
does not pay for importing the others (the attribution step imports torch and captum).
"""

from __future__ import annotations

from collections.abc import Iterable

from interp.steps.base import Step
from trainers.common.registry import Registry

STEPS: Registry[Step] = Registry("analysis step", package=__name__, skip=("base",))


def register(step: type[Step]) -> type[Step]:
    """Class decorator adding an instance of ``step`` to the registry under ``step.name``."""
    STEPS.add(step.name, step(), origin=step)
    return step


def available() -> list[str]:
    """Names of the step modules of this package (each module is named after its step)."""
    return STEPS.module_names()


def steps(names: Iterable[str] | None = None) -> dict[str, Step]:
    """Registered steps by name, in run order: all of them, or those in ``names`` that exist."""
    wanted = [name for name in (available() if names is None else names) if name in available()]
    STEPS.load(wanted)
    chosen = {name: STEPS[name] for name in wanted}
    return dict(sorted(chosen.items(), key=lambda item: (item[1].order, item[0])))


__all__ = ["STEPS", "Step", "available", "register", "steps"]
