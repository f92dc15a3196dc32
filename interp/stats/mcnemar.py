"""McNemar's test on pooled out-of-fold predictions of the same images under two models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.contingency_tables import mcnemar

from interp.stats.base import PairedScores, PairwiseTest, TestResult
from trainers.common.errors import DataError

EXACT_BELOW = 25


def agreement_table(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> np.ndarray:
    """2x2 counts: rows ``a`` right/wrong, columns ``b`` right/wrong."""
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise DataError(f"McNemar needs matched images, got {a.size} and {b.size} results")
    return np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]])


def mcnemar_test(correct_a: Sequence[bool], correct_b: Sequence[bool], exact: bool | None = None) -> TestResult:
    """McNemar's test of paired correctness (statsmodels), two-sided.

    Parameters
    ----------
    correct_a, correct_b
        Whether each matched image was classified correctly by ``a`` and by ``b``.
    exact
        Binomial test on the discordant pairs; ``None`` chooses it when they number fewer than
        :data:`EXACT_BELOW`, else the chi-square statistic with continuity correction.

    Returns
    -------
    TestResult
        ``statistic`` (the smaller discordant count when exact, else chi-square), ``pvalue`` and
        ``effect`` (accuracy of ``a`` minus accuracy of ``b`` on the matched images).

    References
    ----------
    McNemar, Q. (1947). Note on the sampling error of the difference between correlated proportions
    or percentages. Psychometrika, 12(2), 153-157.
    """
    table = agreement_table(correct_a, correct_b)
    discordant = int(table[0, 1] + table[1, 0])
    if exact is None:
        exact = discordant < EXACT_BELOW
    result = mcnemar(table, exact=exact, correction=True)
    total = table.sum()
    effect = float((table[0, 1] - table[1, 0]) / total) if total else float("nan")
    return TestResult(statistic=float(result.statistic), pvalue=float(result.pvalue), effect=effect)


@dataclass
class McNemar(PairwiseTest):
    """McNemar's test on the matched out-of-fold predictions pooled over folds."""

    name = "mcnemar"
    level = "images"
    assumptions = ("images independent; ignores that images of one subject are correlated and "
                   "that the folds' models differ, so it is anti-conservative for clustered data")
    reference = "McNemar (1947), Psychometrika 12; Dietterich (1998), Neural Computation 10"

    def from_scores(self, scores: PairedScores) -> TestResult:
        if len(scores.correct_a) == 0:
            raise DataError("McNemar needs at least one matched image")
        return mcnemar_test(scores.correct_a, scores.correct_b)
