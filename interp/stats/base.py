"""What every statistical test declares (Quantus-style metadata) and what it returns."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np


@dataclass(frozen=True)
class TestResult:
    """Outcome of one test, shaped like scipy's results (``.statistic``, ``.pvalue``).

    ``effect`` and the interval are on the accuracy scale [0, 1], as ``a - b``; NaN where the test
    does not give one.
    """

    statistic: float
    pvalue: float
    effect: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    df: float = math.nan


@dataclass(frozen=True)
class PairedScores:
    """Everything a pairwise test may use about two paired sets of results (``a`` against ``b``).

    Attributes
    ----------
    fold_a, fold_b
        Accuracy per fold, matched by fold.
    n_train, n_test
        Mean training and validation images per fold (from the manifest's ``fold`` column).
    correct_a, correct_b
        Correctness of matched units (the same image under two models, or the two images of a pair).
    clusters
        Subject of each matched unit: the unit of resampling.
    """

    fold_a: np.ndarray
    fold_b: np.ndarray
    n_train: float
    n_test: float
    correct_a: np.ndarray
    correct_b: np.ndarray
    clusters: np.ndarray


class TestInfo:
    """A test that describes itself; the dashboard and the report read these attributes.

    Attributes
    ----------
    name
        Registry key and the ``test`` column of the comparison table.
    level
        What is resampled or paired: ``"folds"``, ``"images"`` or ``"subjects"``.
    assumptions
        One sentence a reader needs to trust the p-value.
    direction
        ``"higher"``: a positive effect (``a - b`` in accuracy) favours ``a``.
    reference
        The paper the test comes from.
    default
        Run on every family that does not name its tests (False: only where a family asks for it,
        e.g. the non-inferiority test).
    min_folds
        Fewest paired folds for which the test gives a row at all (Wilcoxon: 6, below which its
        p-value cannot reach 0.05); 0 for no floor.
    """

    name: ClassVar[str]
    level: ClassVar[str]
    assumptions: ClassVar[str]
    direction: ClassVar[str] = "higher"
    reference: ClassVar[str]
    default: ClassVar[bool] = True
    min_folds: ClassVar[int] = 0

    @classmethod
    def describe(cls) -> dict[str, str]:
        """The metadata as a plain dict (one row of ``analysis/tables/tests``)."""
        return {"test": cls.name, "level": cls.level, "assumptions": cls.assumptions,
                "direction": cls.direction, "reference": cls.reference}


class PairwiseTest(TestInfo, ABC):
    """A test of ``a`` against ``b`` on paired results; one file per family of tests."""

    @abstractmethod
    def from_scores(self, scores: PairedScores) -> TestResult:
        """Run the test on two paired sets of results."""

    def minimum_pvalue(self, k: int) -> float:
        """The smallest p-value the test can return with ``k`` folds (0 when unbounded)."""
        return 0.0
