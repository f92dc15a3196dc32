"""Tests of a per-pair quantity (e.g. the attention-shift difference d) with images nested in subjects
nested in folds.

Pairs of one subject are correlated (same face, same expressive style) and subjects of one fold share a
model, so the unit of inference is never the pair: :func:`nested_means` averages pairs per subject,
then subjects per fold. Three tests read those means:

- the corrected resampled t over the fold means (:func:`interp.stats.fold_tests.corrected_resampled_ttest`
  against 0), the primary test, because fold models share training data;
- :func:`sign_flip_test`: a permutation test at the subject level - under the null hypothesis of a
  quantity symmetric about 0 every subject's mean is as likely negated - exact by enumeration for up to
  :data:`EXACT_SUBJECTS` subjects, Monte Carlo above;
- :func:`subject_bootstrap_ci`: a percentile interval from resampling subjects within each fold (the
  cluster bootstrap of Field and Welsh 2007) of the same estimand, the mean over folds of subject means.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trainers.common.errors import DataError

EXACT_SUBJECTS = 16
"""Up to this many subjects the sign-flip test enumerates all 2**n sign patterns."""


@dataclass(frozen=True)
class NestedMeans:
    """Subject means (``subject``, ``fold``, ``value``, ``n``) and fold means (``fold``, ``value``, ``n``)."""

    subjects: pd.DataFrame
    folds: pd.DataFrame

    @property
    def effect(self) -> float:
        """The mean over folds of the fold means (NaN without any fold)."""
        return float(self.folds["value"].mean()) if len(self.folds) else math.nan


def nested_means(frame: pd.DataFrame, value: str = "d") -> NestedMeans:
    """Average ``value`` per (fold, subject), then per fold, skipping NaN; ``frame`` has ``fold``, ``subject``."""
    missing = [column for column in ("fold", "subject", value) if column not in frame.columns]
    if missing:
        raise DataError(f"nested means need the columns {missing}; got {list(frame.columns)}")
    present = frame.dropna(subset=[value])
    subjects = present.groupby(["fold", "subject"], sort=True)[value].agg(value="mean", n="size").reset_index()
    folds = subjects.groupby("fold", sort=True)["value"].agg(value="mean", n="size").reset_index()
    return NestedMeans(subjects, folds)


def sign_flip_test(values: np.ndarray, *, n_perm: int = 10000, seed: int = 0,
                   exact_limit: int = EXACT_SUBJECTS) -> tuple[float, bool]:
    """Two-sided sign-flip permutation p-value of ``mean(values) == 0`` (one value per subject).

    Returns
    -------
    (p, exact)
        The share of sign patterns whose absolute mean reaches the observed one (the observed pattern
        included) and whether it was enumerated exactly; NaN without values.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if not len(x):
        return math.nan, True
    observed = abs(x.mean()) * (1 - 1e-12)
    if len(x) <= exact_limit:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(x))))
        return float(np.mean(np.abs(signs @ x) / len(x) >= observed)), True
    rng = np.random.default_rng(seed)
    signs = rng.choice((1.0, -1.0), size=(n_perm, len(x)))
    hits = int(np.sum(np.abs(signs @ x) / len(x) >= observed))
    return (hits + 1) / (n_perm + 1), False


def subject_bootstrap_ci(subjects: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0,
                         confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the mean over folds of subject means, resampling subjects within folds.

    Parameters
    ----------
    subjects
        ``fold``, ``value`` (a subject's mean), one row per subject and fold (:attr:`NestedMeans.subjects`).
    """
    if subjects.empty:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    fold_draws = []
    for _, group in subjects.groupby("fold", sort=True):
        values = group["value"].to_numpy(dtype=float)
        weights = rng.multinomial(len(values), np.full(len(values), 1.0 / len(values)), size=n_boot)
        fold_draws.append(weights @ values / len(values))
    draws = np.mean(fold_draws, axis=0)
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(low), float(high)
