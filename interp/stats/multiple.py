"""Multiple-comparison adjustment over a declared family (statsmodels ``multipletests``).

With k folds a rank test cannot return a p-value below a floor (Wilcoxon: ``2 / 2**k``). When the
family is so large that even the best case - every test at that floor - stays above ``alpha``
after adjustment, no comparison can ever be significant; :func:`check_family` warns about it.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Sequence

import numpy as np
from statsmodels.stats.multitest import multipletests

from trainers.common.errors import DataError

METHODS: dict[str, str] = {"holm": "holm", "bh": "fdr_bh"}


class UnderpoweredFamilyWarning(UserWarning):
    """No test of a family can reach significance after adjustment."""


def adjust(pvalues: Sequence[float], method: str = "holm") -> np.ndarray:
    """Adjusted p-values of one family; NaN entries stay NaN and are not counted in the family.

    Parameters
    ----------
    pvalues
        Raw p-values of the family's tests.
    method
        ``"holm"`` (family-wise error) or ``"bh"`` (Benjamini-Hochberg false discovery rate).
    """
    if method not in METHODS:
        raise DataError(f"unknown adjustment {method!r}; use one of {', '.join(METHODS)}")
    raw = np.asarray(pvalues, dtype=float)
    adjusted = np.full(raw.shape, np.nan)
    present = ~np.isnan(raw)
    if present.any():
        # statsmodels' Holm branch calls gc.collect(); freezing the heap first makes that collection
        # scan only new objects (0.2-0.5 s per call in a loaded process otherwise).
        gc.freeze()
        try:
            adjusted[present] = multipletests(raw[present], method=METHODS[method])[1]
        finally:
            gc.unfreeze()
    return adjusted


def best_adjusted_pvalue(minimum_pvalue: float, family_size: int, method: str = "holm") -> float:
    """The smallest adjusted p-value a family can reach: every test at the attainable minimum.

    With ``m`` equal p-values ``p``, Holm gives ``min(1, m p)`` to each and Benjamini-Hochberg ``p``
    (closed forms of what :func:`adjust` returns).
    """
    if method not in METHODS:
        raise DataError(f"unknown adjustment {method!r}; use one of {', '.join(METHODS)}")
    if family_size < 1:
        return float("nan")
    return min(1.0, family_size * minimum_pvalue) if method == "holm" else float(minimum_pvalue)


def check_family(name: str, test: str, minimum_pvalue: float, family_size: int, k: int,
                 alpha: float = 0.05, method: str = "holm") -> bool:
    """Whether the family can reach significance; warn (:class:`UnderpoweredFamilyWarning`) when it cannot.

    Parameters
    ----------
    name, test
        Family and test names, for the message.
    minimum_pvalue
        Smallest p-value the test can return with ``k`` folds.
    family_size
        Number of tests in the family.
    """
    best = best_adjusted_pvalue(minimum_pvalue, family_size, method)
    if best <= alpha:
        return True
    message = (f"family {name!r} ({family_size} {test} tests, k={k} folds): the smallest attainable p-value "
               f"{minimum_pvalue:.4g} gives at best {best:.4g} after {method} adjustment, above alpha={alpha}; "
               "no comparison in it can be significant - use more folds, a smaller family or another test")
    warnings.warn(message, UnderpoweredFamilyWarning, stacklevel=2)
    return False
