"""Supervised baselines: cross-entropy on non-masked (NM), masked (M) or all (Mix) training images."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trainers.errors import DataError
from trainers.methods import register_method
from trainers.methods.base import Method, TrainingSet, single_images

SUBSETS: dict[str, str] = {"nm": "non-masked images", "m": "masked images", "mix": "all images"}


@dataclass
class SupervisedOptions:
    """``subset``: ``nm``, ``m`` or ``mix`` (paper Tables 3-4)."""

    subset: str = "mix"

    def __post_init__(self) -> None:
        if self.subset not in SUBSETS:
            raise DataError(f"subset {self.subset!r}: use one of {', '.join(SUBSETS)}")


@register_method("baseline-mix", role="baseline", subset="mix")
@register_method("baseline-m", role="baseline", subset="m")
@register_method("baseline-nm", role="baseline", subset="nm")  # applied first: registered first
class Supervised(Method):
    """Plain cross-entropy training of the backbone and a linear head on one image subset."""

    Options = SupervisedOptions

    def training_set(self, table: pd.DataFrame) -> TrainingSet:
        """The fold's training images of the chosen subset."""
        if self.options.subset == "nm":
            table = table[~table["masked"]]
        elif self.options.subset == "m":
            table = table[table["masked"]]
        return single_images(table)
