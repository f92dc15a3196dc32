"""Friedman's test over all models on matched folds; its post-hoc compares every pair of models.

The post-hoc (:func:`interp.stats.comparisons.posthoc_family`) runs, for every pair of models, the
corrected resampled t-test over folds as the primary test and the Wilcoxon signed-rank test as a
secondary one, each Holm-adjusted across all model pairs - pairwise tests rather than the Nemenyi
mean-rank test, whose outcome depends on which other models are in the comparison (Benavoli et al.
2016).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from interp.stats.base import TestInfo, TestResult
from trainers.common.errors import DataError

POSTHOC = ("every pair of models: the corrected resampled t-test over folds (primary) and the Wilcoxon "
           "signed-rank test (secondary), Holm-adjusted across all model pairs")


def friedman_test(scores: pd.DataFrame) -> TestResult:
    """Friedman's chi-square test that all models rank equally over folds (scipy).

    Parameters
    ----------
    scores
        One row per fold, one column per model; folds with a missing score are dropped.

    Raises
    ------
    DataError
        With fewer than 3 models or 2 complete folds.
    """
    complete = scores.dropna()
    if complete.shape[1] < 3 or complete.shape[0] < 2:
        raise DataError(f"Friedman's test needs at least 3 models and 2 complete folds, got "
                        f"{complete.shape[1]} models and {complete.shape[0]} folds")
    if (complete.nunique(axis=1) == 1).all():
        return TestResult(statistic=math.nan, pvalue=math.nan)
    result = stats.friedmanchisquare(*(complete[column].to_numpy() for column in complete.columns))
    return TestResult(statistic=float(result.statistic), pvalue=float(result.pvalue),
                      df=float(complete.shape[1] - 1))


def model_pairs(models: list[str]) -> list[tuple[str, str]]:
    """Every unordered pair of models, in the given order (the post-hoc family)."""
    return list(itertools.combinations(models, 2))


@dataclass
class Friedman(TestInfo):
    """Omnibus test over all models; see :data:`POSTHOC` for the follow-up."""

    name = "friedman"
    level = "folds"
    assumptions = ("folds independent blocks (overlapping training sets violate this); "
                   "ranks within a fold; post-hoc: " + POSTHOC)
    reference = "Friedman (1937), JASA 32; Demsar (2006), JMLR 7; Benavoli, Corani and Mangili (2016), JMLR 17"

    def __call__(self, scores: pd.DataFrame) -> TestResult:
        return friedman_test(scores)
