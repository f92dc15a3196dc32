"""Registry of analysis steps.

Every module of this package (other than ``base``) defines one :class:`~interp.steps.base.Step`
subclass decorated with :func:`register`, in a file named after the step; adding a step (e.g.
``attributions``) is one new file here. Modules are imported on demand, so choosing some steps
does not pay for importing the others (the attribution step imports torch and captum).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from interp.steps.base import Step

_STEPS: dict[str, Step] = {}


def register(step: type[Step]) -> type[Step]:
    """Class decorator adding an instance of ``step`` to the registry under ``step.name``."""
    if step.name in _STEPS and type(_STEPS[step.name]) is not step:
        raise ValueError(f"two analysis steps are named {step.name!r}")
    _STEPS[step.name] = step()
    return step


def available() -> list[str]:
    """Names of the step modules of this package (each module is named after its step)."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name != "base")


def steps(names: Iterable[str] | None = None) -> dict[str, Step]:
    """Registered steps by name, in run order: all of them, or those in ``names`` that exist."""
    wanted = [name for name in (available() if names is None else names) if name in available()]
    for name in wanted:
        importlib.import_module(f"{__name__}.{name}")
    chosen = {name: _STEPS[name] for name in wanted if name in _STEPS}
    return dict(sorted(chosen.items(), key=lambda item: (item[1].order, item[0])))


__all__ = ["Step", "available", "register", "steps"]
