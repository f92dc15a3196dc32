"""Supervised baselines: cross-entropy on non-masked (NM), masked (M) or all (Mix) training images."""

from __future__ import annotations

from dataclasses import dataclass

from trainers.methods import register_method
from trainers.methods.base import TRAINING_SUBSETS, Method, check_subset

SUBSETS: dict[str, str] = {name: TRAINING_SUBSETS[name] for name in ("nm", "m", "mix")}


@dataclass
class SupervisedOptions:
    """``subset``: ``nm``, ``m`` or ``mix`` (paper Tables 3-4)."""

    subset: str = "mix"

    def __post_init__(self) -> None:
        check_subset(self.subset, SUBSETS)


@register_method("baseline-mix", role="baseline", subset="mix")
@register_method("baseline-m", role="baseline", subset="m")
@register_method("baseline-nm", role="baseline", subset="nm")  # applied first: registered first
class Supervised(Method):
    """Plain cross-entropy training of the backbone and a linear head on one image subset."""

    Options = SupervisedOptions
