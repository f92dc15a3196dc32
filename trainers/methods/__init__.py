"""Arm registry: model name (``baseline-nm``, ``cl``, ``kd``, ...) -> the method that trains it.

Each module of this package registers its method class with :func:`register_method`, once per
arm (model name) it trains, with what the arm is (:class:`Arm`: its role, the arm it ablates, the
evaluation views it is the baseline for, its colour) and the option defaults that distinguish it
(e.g. the supervised method trains ``baseline-nm`` with ``subset="nm"``). Adding a method is
one new file; the contract is :class:`trainers.methods.base.Method`. The runner records each arm's
description in ``study.json`` (:meth:`Arm.describe`), which is where the analysis reads it
(``interp`` never imports this package); the default ``--models`` comes from :func:`arm_names`.

A study config's ``[methods.<arm>]`` tables are checked by :func:`check_config` (known arm,
every option known and well typed, through the method's ``Options`` dataclass) before anything
is written.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trainers.config import TrainConfig
from trainers.common.errors import DataError
from trainers.methods.base import Method
from trainers.common.options import parse_fields
from trainers.common.registry import Registry
from trainers.data.views import check_views

ROLES: dict[str, str] = {
    "baseline": "supervised baselines on one image subset (paper Tables 3-5)",
    "ours": "the MSD-E paper's methods, compared with the baselines (CL, KD)",
    "ablation": "a method with its own term switched off: the mechanism control of the arm it ablates (CL-CE, KD-CE)",
    "reference": "published masked-face methods retrained for comparison (RAN, SCAN)",
}
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


@dataclass(frozen=True)
class Arm:
    """One trainable arm and what it is.

    Attributes
    ----------
    name
        The model name (``cl``).
    method
        The :class:`Method` subclass that trains it.
    role
        A :data:`ROLES` key.
    colour
        ``#RRGGBB``: the arm's colour in every figure (the dashboard and the report read it from ``study.json``).
    ablates
        The arm this one is the mechanism control of (``cl`` for ``cl-ce``); ``None`` for other roles.
    baseline_for
        Evaluation views (:data:`trainers.data.views.VIEWS`) this arm is the baseline for
        (``baseline-nm``: ``("NM",)``).
    defaults
        Option defaults that distinguish the arm (``subset="nm"``).
    """

    name: str
    method: type[Method]
    role: str
    colour: str
    ablates: str | None = None
    baseline_for: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """What ``study.json`` records of the arm besides its settings: role, ablates, baseline_for, colour."""
        return {"role": self.role, "ablates": self.ablates, "baseline_for": list(self.baseline_for),
                "colour": self.colour}


ARMS: Registry[Arm] = Registry("arm", package=__name__, skip=("base", "optimizers"))


def register_method(name: str, *, role: str, colour: str, ablates: str | None = None,
                    baseline_for: tuple[str, ...] = (), **defaults: Any) -> Callable[[type[Method]], type[Method]]:
    """Class decorator: train arm ``name`` with this method and these option defaults.

    Parameters
    ----------
    name
        The model name.
    role
        A :data:`ROLES` key; ``ablation`` needs ``ablates``, the other roles must not give it.
    colour
        ``#RRGGBB``, distinct from every other arm's.
    ablates
        The arm this one is the ablation of (registered before it, usually by the same decorator stack).
    baseline_for
        Evaluation views this arm is the baseline for.
    **defaults
        Option values of the method's ``Options`` that make this arm.
    """
    if role not in ROLES:
        raise ValueError(f"arm {name!r}: role {role!r} is not one of {', '.join(ROLES)}")
    if (role == "ablation") != (ablates is not None):
        raise ValueError(f"arm {name!r}: an arm names the arm it ablates exactly when its role is 'ablation'")
    if not _COLOUR.fullmatch(colour):
        raise ValueError(f"arm {name!r}: colour {colour!r} is not #RRGGBB")
    check_views(baseline_for, f"arm {name!r} baseline_for")

    def decorator(cls: type[Method]) -> type[Method]:
        parse_fields(cls.Options, defaults, f"arm {name!r} defaults")
        arm = Arm(name, cls, role, colour.upper(), ablates, tuple(baseline_for), dict(defaults))
        ARMS.add(name, arm, origin=f"{cls.__module__}.{cls.__qualname__}")
        return cls

    return decorator


def arm_names(role: str | None = None) -> list[str]:
    """Registered arms (of one ``role``) in :data:`ROLES` order: baselines, ours, ablations, reference methods.

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
