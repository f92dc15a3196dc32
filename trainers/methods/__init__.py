"""Arm registry: model name (``baseline-nm``, ``cl``, ``kd``, ...) -> the method that trains it.

Each module of this package registers its method class with :func:`register_method`, once per
arm (model name) it trains, with the arm's role and the option defaults that distinguish it
(e.g. the supervised method trains ``baseline-nm`` with ``subset="nm"``). Adding a method is
one new file; the contract is :class:`trainers.methods.base.Method`. The lists of arms used
elsewhere (the default ``--models``, the arms the audit compares) come from :func:`arm_names`.

A study config's ``[methods.<arm>]`` tables are checked by :func:`check_config` (known arm,
every option known and well typed, through the method's ``Options`` dataclass) before anything
is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trainers.config import TrainConfig
from trainers.common.errors import DataError
from trainers.methods.base import Method
from trainers.common.options import parse_fields
from trainers.common.registry import Registry

ROLES: dict[str, str] = {
    "baseline": "supervised baselines on one image subset (paper Tables 3-4)",
    "ours": "the MSD-E paper's methods, compared with the baselines (CL, KD)",
    "reference": "published masked-face methods retrained for comparison (RAN, SCAN)",
}


@dataclass(frozen=True)
class Arm:
    """One trainable arm: the ``method`` class, its ``role`` (a :data:`ROLES` key) and option ``defaults``."""

    name: str
    method: type[Method]
    role: str
    defaults: Mapping[str, Any] = field(default_factory=dict)


ARMS: Registry[Arm] = Registry("arm", package=__name__, skip=("base",))


def register_method(name: str, *, role: str, **defaults: Any) -> Callable[[type[Method]], type[Method]]:
    """Class decorator: train arm ``name`` (a :data:`ROLES` ``role``) with this method and these option defaults."""
    if role not in ROLES:
        raise ValueError(f"arm {name!r}: role {role!r} is not one of {', '.join(ROLES)}")

    def decorator(cls: type[Method]) -> type[Method]:
        parse_fields(cls.Options, defaults, f"arm {name!r} defaults")
        ARMS.add(name, Arm(name, cls, role, dict(defaults)), origin=f"{cls.__module__}.{cls.__qualname__}")
        return cls

    return decorator


def arm_names(role: str | None = None) -> list[str]:
    """Registered arms (of one ``role``), baselines first, then ours, then reference methods.

    Within a role, arms keep their registration order (modules alphabetically).
    """
    if role is not None and role not in ROLES:
        raise DataError(f"unknown arm role {role!r}; choose one of: {', '.join(ROLES)}")
    order = list(ROLES)
    arms = sorted(ARMS.values(), key=lambda arm: order.index(arm.role))
    return [arm.name for arm in arms if role is None or arm.role == role]


def create_method(name: str, config: TrainConfig) -> Method:
    """The method that trains arm ``name`` under ``config`` (its options checked)."""
    arm = ARMS[name]
    return arm.method(name, config, dict(arm.defaults))


def check_config(config: TrainConfig, arms: Iterable[str] = ()) -> dict[str, Method]:
    """Check every ``[methods.<arm>]`` table of ``config`` and build the methods of ``arms``.

    Raises
    ------
    DataError
        For a table of an unknown arm, an unknown option or an ill-typed value, naming the arm,
        the option and the choices or the expected type.
    """
    unknown = [name for name in config.methods if name not in ARMS]
    if unknown:
        raise DataError(f"[methods.{unknown[0]}]: no such arm; arms: {', '.join(arm_names())}")
    methods = {name: create_method(name, config) for name in [*config.methods, *arms]}
    return {name: methods[name] for name in arms}


def set_options(config: TrainConfig, assignments: Mapping[str, Mapping[str, str]]) -> TrainConfig:
    """``config`` with command-line ``{arm: {option: text}}`` parsed into its ``[methods.<arm>]`` tables."""
    methods = {name: dict(table) for name, table in config.methods.items()}
    for name, texts in assignments.items():
        if name not in ARMS:
            raise DataError(f"--set {name}.*: no such arm; arms: {', '.join(arm_names())}")
        typed = parse_fields(ARMS[name].method.Options, texts, f"--set {name}")
        methods[name] = {**methods.get(name, {}), **typed}
    return dataclasses.replace(config, methods=methods)


__all__ = ["ARMS", "ROLES", "Arm", "arm_names", "check_config", "create_method", "register_method", "set_options"]
