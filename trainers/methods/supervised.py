"""Supervised baselines: cross-entropy on non-masked (NM), masked (M) or all (Mix) training images, or on
both images of every MSD-PE pair (``baseline-pe``: the paper's Table 5 baseline, trained on the same images as
CL, KD, RAN and SCAN, one image per sample)."""

from __future__ import annotations

from dataclasses import dataclass

from trainers.data.views import M, NM, PE_M, PE_NM
from trainers.methods import register_method
from trainers.methods.base import TRAINING_SUBSETS, ClassifierOptions, Method, check_subset

SUBSETS: dict[str, str] = {name: TRAINING_SUBSETS[name] for name in ("nm", "m", "mix", "pe")}


@dataclass
class SupervisedOptions(ClassifierOptions):
    """``subset``: ``nm``, ``m`` or ``mix`` (paper Tables 3-4), or ``pe`` (Table 5); and
    (:class:`ClassifierOptions`) what the classifier reads."""

    subset: str = "mix"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_subset(self.subset, SUBSETS)


@register_method("baseline-pe", role="baseline", colour="#88CCEE", baseline_for=(PE_NM, PE_M), subset="pe")
@register_method("baseline-mix", role="baseline", colour="#332288", subset="mix")
@register_method("baseline-m", role="baseline", colour="#0072B2", baseline_for=(M,), subset="m")
@register_method("baseline-nm", role="baseline", colour="#56B4E9", baseline_for=(NM,), subset="nm")  # registered first
class Supervised(Method):
    """Plain cross-entropy training of the backbone and a linear head on one image subset."""

    Options = SupervisedOptions
