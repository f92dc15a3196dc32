"""Tests over fold scores: the corrected resampled t-test, its one-sided non-inferiority form and the
Wilcoxon signed-rank test.

Fold scores are not independent: any two training sets of k-fold cross-validation share
(k-2)/(k-1) of their images, so the plain paired t-test understates the variance and rejects
too often. Nadeau and Bengio's correction inflates the variance by ``n_test / n_train``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from interp.stats.base import PairedScores, PairwiseTest, TestResult
from trainers.common.errors import DataError


def _differences(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise DataError(f"fold scores must be two 1-d arrays of equal length, got {a.shape} and {b.shape}")
    if a.size < 2:
        raise DataError(f"a test over folds needs at least 2 folds, got {a.size}")
    return a - b


def _corrected_mean_se(a: Sequence[float], b: Sequence[float], n_train: int, n_test: int) -> tuple[float, float, int]:
    """Mean fold difference, its Nadeau-Bengio corrected standard error and the degrees of freedom (k - 1)."""
    if n_train <= 0 or n_test <= 0:
        raise DataError(f"n_train and n_test must be positive, got {n_train} and {n_test}")
    d = _differences(a, b)
    k = d.size
    return float(d.mean()), math.sqrt((1.0 / k + n_test / n_train) * float(d.var(ddof=1))), k - 1


def _t_statistic(value: float, se: float) -> float:
    """``value / se``; infinite with the sign of ``value`` when ``se`` is 0, NaN when both are."""
    if se == 0:
        return math.nan if value == 0 else math.copysign(math.inf, value)
    return value / se


def corrected_resampled_ttest(
    a: Sequence[float], b: Sequence[float], n_train: float, n_test: float, confidence: float = 0.95,
) -> TestResult:
    """Nadeau and Bengio's corrected resampled t-test of paired fold scores, two-sided.

    With ``d = a - b`` over ``k`` folds, ``t = mean(d) / sqrt((1/k + n_test/n_train) * var(d))``
    (``var`` with ddof 1), referred to Student's t with ``k - 1`` degrees of freedom. For repeated
    cross-validation (``trainers run --repeats R``) pass the scores of all ``R x k`` folds (every fold
    id): ``k`` is then ``R k``, which is Bouckaert and Frank's corrected repeated k-fold t
    (``1/(R k) + n_test/n_train``, ``R k - 1`` degrees of freedom).

    Parameters
    ----------
    a, b
        Score of each fold for the two models, matched by fold.
    n_train, n_test
        Training and test set sizes of one fold (means over folds when sizes differ).
    confidence
        Level of the corrected confidence interval of ``mean(d)``.

    Returns
    -------
    TestResult
        ``statistic`` (t), ``pvalue``, ``effect`` (mean difference), corrected ``ci_low``/``ci_high``
        and ``df``. When every difference is equal, t is infinite (p = 0) or, with no difference at
        all, NaN (as scipy's paired t-test).

    References
    ----------
    Nadeau, C. and Bengio, Y. (2003). Inference for the generalization error. Machine Learning,
    52(3), 239-281. Bouckaert, R. R. and Frank, E. (2004). Evaluating the replicability of significance
    tests for comparing learning algorithms. PAKDD 2004, LNCS 3056, 3-12.
    """
    mean, se, df = _corrected_mean_se(a, b, n_train, n_test)
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    statistic = _t_statistic(mean, se)
    pvalue = math.nan if math.isnan(statistic) else float(2 * stats.t.sf(abs(statistic), df))
    return TestResult(statistic=statistic, pvalue=pvalue, effect=mean,
                      ci_low=mean - half, ci_high=mean + half, df=float(df))


def noninferiority_ttest(
    a: Sequence[float], b: Sequence[float], n_train: float, n_test: float, margin: float,
    confidence: float = 0.95,
) -> TestResult:
    """One-sided non-inferiority test of ``a`` against ``b`` on the corrected standard error.

    ``H0: mean(d) <= -margin`` (``a`` is worse than ``b`` by the margin or more) against
    ``H1: mean(d) > -margin``, with ``d = a - b`` over ``k`` folds and Nadeau and Bengio's standard
    error ``se = sqrt((1/k + n_test/n_train) var(d))`` (as :func:`corrected_resampled_ttest`):
    ``t = (mean(d) + margin) / se`` referred to Student's t with ``k - 1`` degrees of freedom,
    ``p = P(T >= t)``. Rejecting H0 at ``alpha`` is the same as the one-sided lower confidence bound
    at ``1 - alpha`` lying above ``-margin``.

    Parameters
    ----------
    a, b
        Score of each fold for the two models, matched by fold (``b`` is the reference).
    n_train, n_test
        Training and test set sizes of one fold (means over folds when sizes differ).
    margin
        The largest loss still called "keeps the accuracy", on the scale of the scores (0.02 for
        2 accuracy points); positive.
    confidence
        Level of the one-sided lower confidence bound (``ci_low``); ``ci_high`` is NaN.

    Returns
    -------
    TestResult
        ``statistic`` (t), one-sided ``pvalue``, ``effect`` (mean difference), ``ci_low`` and ``df``.

    References
    ----------
    Nadeau, C. and Bengio, Y. (2003). Machine Learning 52(3), 239-281. Piaggio, G. et al. (2012).
    Reporting of noninferiority and equivalence randomized trials: extension of the CONSORT 2010
    statement. JAMA 308(24), 2594-2604.
    """
    if not margin > 0:
        raise DataError(f"the non-inferiority margin must be positive, got {margin} (set stats.margin)")
    mean, se, df = _corrected_mean_se(a, b, n_train, n_test)
    statistic = _t_statistic(mean + margin, se)
    pvalue = math.nan if math.isnan(statistic) else float(stats.t.sf(statistic, df))
    low = mean - float(stats.t.ppf(confidence, df)) * se
    return TestResult(statistic=statistic, pvalue=pvalue, effect=mean, ci_low=low, df=float(df))


def wilcoxon_folds(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Wilcoxon signed-rank test of paired fold scores (scipy, two-sided).

    Returns NaN statistic and p-value when no fold differs (the test has nothing to rank).
    """
    d = _differences(a, b)
    if not np.any(d):
        return TestResult(statistic=math.nan, pvalue=math.nan, effect=0.0)
    result = stats.wilcoxon(d)
    return TestResult(statistic=float(result.statistic), pvalue=float(result.pvalue), effect=float(d.mean()))


@dataclass
class CorrectedResampledTTest(PairwiseTest):
    """Corrected resampled t-test over fold accuracies (see :func:`corrected_resampled_ttest`)."""

    name = "corrected-t"
    level = "folds"
    assumptions = ("fold differences roughly normal; the n_test/n_train term corrects for training "
                   "sets shared between folds")
    reference = "Nadeau and Bengio (2003), Inference for the generalization error, Machine Learning 52"
    confidence: float = 0.95

    def from_scores(self, scores: PairedScores) -> TestResult:
        return corrected_resampled_ttest(scores.fold_a, scores.fold_b, scores.n_train, scores.n_test,
                                         self.confidence)


@dataclass
class NonInferiority(PairwiseTest):
    """One-sided non-inferiority test over fold accuracies (see :func:`noninferiority_ttest`); runs
    only in the families that ask for it."""

    name = "noninferiority"
    level = "folds"
    assumptions = ("as corrected-t; one-sided: a small p says a loses less than the margin against b, a large "
                   "p says nothing (not that a is worse)")
    reference = "Nadeau and Bengio (2003), Machine Learning 52; Piaggio et al. (2012), JAMA 308 (CONSORT)"
    default = False
    margin: float = 0.02
    confidence: float = 0.95

    def from_scores(self, scores: PairedScores) -> TestResult:
        return noninferiority_ttest(scores.fold_a, scores.fold_b, scores.n_train, scores.n_test, self.margin,
                                    self.confidence)


@dataclass
class WilcoxonSignedRank(PairwiseTest):
    """Wilcoxon signed-rank test over fold accuracies (no normality, but no overlap correction)."""

    name = "wilcoxon"
    level = "folds"
    assumptions = ("fold differences symmetric about their median; folds treated as independent, "
                   "which overlapping training sets violate (anti-conservative)")
    reference = ("Wilcoxon (1945), Individual comparisons by ranking methods, Biometrics Bulletin 1; "
                 "Demsar (2006), JMLR 7")
    min_folds = 6  # with 5 folds its two-sided p cannot go below 2 / 2**5 = 0.0625

    def from_scores(self, scores: PairedScores) -> TestResult:
        return wilcoxon_folds(scores.fold_a, scores.fold_b)

    def minimum_pvalue(self, k: int) -> float:
        """Two-sided exact minimum: all k differences of one sign, ``2 / 2**k``."""
        return min(1.0, 2.0 ** (1 - k))
