"""McNemar's test clustered by subject, on the out-of-fold predictions of the same images under two models.

The plain McNemar test counts images as independent; the images of one subject (same face, same
expressive style) are not, so it rejects too often. Durkalski et al.'s (2003) clustered form keeps the
discordant counts per subject: with ``b_s`` the images of subject ``s`` that ``a`` gets right and ``b``
wrong and ``c_s`` the reverse,

    X^2 = (sum_s (b_s - c_s))^2 / sum_s (b_s - c_s)^2,

referred to chi-square with one degree of freedom. With one image per subject it is the plain
McNemar statistic ``(b - c)^2 / (b + c)`` (no continuity correction). It does not see that the
folds' models differ (training variance); the corrected t-test over folds does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from interp.stats.base import PairedScores, PairwiseTest, TestResult
from trainers.common.errors import DataError


def clustered_mcnemar_test(correct_a: Sequence[bool], correct_b: Sequence[bool],
                           clusters: Sequence[object]) -> TestResult:
    """Durkalski et al.'s McNemar test for clustered matched-pair data, two-sided.

    Parameters
    ----------
    correct_a, correct_b
        Whether each matched unit (an image under two models, or the NM and M images of a pair) was
        classified correctly by ``a`` and by ``b``.
    clusters
        The subject of each unit.

    Returns
    -------
    TestResult
        ``statistic`` (X^2 above), ``pvalue`` (chi-square, 1 df), ``effect`` (accuracy of ``a`` minus
        accuracy of ``b`` on the matched units), ``df`` 1. NaN statistic and p-value when no unit is
        discordant.

    References
    ----------
    Durkalski, V. L., Palesch, Y. Y., Lipsitz, S. R. and Rust, P. F. (2003). Analysis of clustered
    matched-pair data. Statistics in Medicine, 22(15), 2417-2428. McNemar, Q. (1947). Psychometrika 12.
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1 or len(clusters) != a.size:
        raise DataError(f"McNemar needs matched units with a subject each, got {a.size}, {b.size} results "
                        f"and {len(clusters)} subjects")
    if a.size == 0:
        raise DataError("McNemar needs at least one matched image")
    codes, _ = pd.factorize(pd.Series(list(clusters)))
    per_subject = np.bincount(codes, weights=(a & ~b).astype(float) - (~a & b).astype(float))
    numerator, denominator = float(per_subject.sum()) ** 2, float((per_subject ** 2).sum())
    effect = float(a.mean() - b.mean())
    if denominator == 0:
        return TestResult(statistic=math.nan, pvalue=math.nan, effect=effect, df=1.0)
    statistic = numerator / denominator
    return TestResult(statistic=statistic, pvalue=float(stats.chi2.sf(statistic, 1)), effect=effect, df=1.0)


@dataclass
class ClusteredMcNemar(PairwiseTest):
    """McNemar's test on the matched out-of-fold predictions pooled over folds, clustered by subject
    (see :func:`clustered_mcnemar_test`)."""

    name = "mcnemar-clustered"
    level = "subjects"
    assumptions = ("subjects independent, images within a subject may be correlated; chi-square approximation "
                   "(needs many subjects); ignores that the folds' models differ (training variance)")
    reference = ("Durkalski, Palesch, Lipsitz and Rust (2003), Analysis of clustered matched-pair data, "
                 "Statistics in Medicine 22; McNemar (1947), Psychometrika 12")

    def from_scores(self, scores: PairedScores) -> TestResult:
        return clustered_mcnemar_test(scores.correct_a, scores.correct_b, scores.clusters)
