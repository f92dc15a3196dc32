"""Subject-level paired cluster bootstrap of an accuracy difference.

Images of one subject are correlated (same face, same expressive style), so resampling images
understates the uncertainty. Here whole subjects are drawn with replacement, each bringing all its
matched images, and the difference of pooled accuracies is recomputed on every resample.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from interp.stats.base import PairedScores, PairwiseTest, TestResult
from trainers.common.errors import DataError


def cluster_bootstrap_difference(
    correct_a: Sequence[bool],
    correct_b: Sequence[bool],
    clusters: Sequence[object],
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> TestResult:
    """Percentile bootstrap CI of ``accuracy(a) - accuracy(b)``, resampling clusters (subjects).

    Parameters
    ----------
    correct_a, correct_b
        Correctness of matched units (same image under two models, or the two images of a pair).
    clusters
        Cluster (subject) of each unit; pass unique ids per unit for an image-level bootstrap.
    n_boot
        Number of resamples.
    seed
        Seed of the generator; equal seeds give equal intervals.
    confidence
        Level of the percentile interval.

    Returns
    -------
    TestResult
        ``effect`` (observed difference), ``ci_low``/``ci_high``; ``statistic`` is the bootstrap
        standard error; ``pvalue`` is NaN (an interval, not a test).

    References
    ----------
    Field, C. A. and Welsh, A. H. (2007). Bootstrapping clustered data. JRSS B, 69(3), 369-390.
    """
    a = np.asarray(correct_a, dtype=float)
    b = np.asarray(correct_b, dtype=float)
    if a.shape != b.shape or len(clusters) != a.size:
        raise DataError(f"bootstrap needs matched arrays, got {a.size}, {b.size} and {len(clusters)} clusters")
    if a.size == 0:
        raise DataError("bootstrap needs at least one matched unit")
    codes, _ = pd.factorize(pd.Series(list(clusters)))
    size = np.bincount(codes).astype(float)
    sum_a, sum_b = np.bincount(codes, weights=a), np.bincount(codes, weights=b)
    groups = size.size
    rng = np.random.default_rng(seed)
    # How often each cluster is drawn in each resample: G draws with replacement from G clusters.
    weights = rng.multinomial(groups, np.full(groups, 1.0 / groups), size=n_boot).astype(float)
    differences = (weights @ sum_a - weights @ sum_b) / (weights @ size)
    tail = (1 - confidence) / 2
    low, high = np.quantile(differences, [tail, 1 - tail])
    return TestResult(statistic=float(differences.std(ddof=1)), pvalue=math.nan,
                      effect=float(a.mean() - b.mean()), ci_low=float(low), ci_high=float(high))


@dataclass
class SubjectBootstrap(PairwiseTest):
    """Paired cluster bootstrap over subjects (see :func:`cluster_bootstrap_difference`)."""

    name = "subject-bootstrap"
    level = "subjects"
    assumptions = ("subjects independent; images within a subject may be correlated; "
                   "percentile interval, no p-value")
    reference = "Field and Welsh (2007), Bootstrapping clustered data, JRSS B 69"
    n_boot: int = 2000
    seed: int = 0
    confidence: float = 0.95

    def from_scores(self, scores: PairedScores) -> TestResult:
        return cluster_bootstrap_difference(scores.correct_a, scores.correct_b, scores.clusters,
                                            self.n_boot, self.seed, self.confidence)
