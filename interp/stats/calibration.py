"""Calibration of a classifier's probabilities: expected calibration error, Brier score, reliability table.

The three functions take ``probs``, an ``(n, C)`` array of class probabilities (rows sum to 1, e.g. the
softmax of the stored logits), and ``labels``, the ``(n,)`` true class indices in ``0..C-1``.

- :func:`reliability_table` and :func:`expected_calibration_error` share one binning (:func:`_bins`):
  the top-label confidence ``max_c p_ic`` falls into one of ``bins`` equal-width intervals
  ``((m - 1) / M, m / M]`` (Guo et al. 2017, section 2), so the ECE is exactly the count-weighted
  mean of the table's ``|accuracy - confidence|``. They are written here (a few lines of numpy)
  because no installed library does this: scikit-learn's ``calibration_curve`` is binary only, and
  torchmetrics' ``MulticlassCalibrationError`` / netcal's ``ECE`` (neither installed) return the
  ECE without the per-bin table a reliability diagram needs, so a second binning would have to
  agree with theirs.
- :func:`brier_score` is scikit-learn's multi-class ``brier_score_loss`` (Brier 1950's original
  definition: the sum over classes of the squared difference between the probability and the
  one-hot label, averaged over images; range [0, 2], 0 perfect; not halved).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss

__all__ = ["brier_score", "expected_calibration_error", "reliability_table"]

BINS = 15  # Guo et al. (2017) use 15 bins


def _check(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``probs`` as float64 ``(n, C)`` and ``labels`` as int ``(n,)``, checked."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    if probs.ndim != 2 or probs.shape[0] == 0:
        raise ValueError(f"probs must be a non-empty (n, C) array of class probabilities, got shape {probs.shape}")
    if labels.shape != (probs.shape[0],):
        raise ValueError(f"labels must have shape ({probs.shape[0]},) to match probs, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= probs.shape[1]:
        raise ValueError(f"labels must be class indices in 0..{probs.shape[1] - 1}")
    if np.any(probs < 0) or not np.allclose(probs.sum(1), 1.0, atol=1e-6):
        raise ValueError("probs rows must be probabilities summing to 1 (apply a softmax to logits first)")
    return probs, labels.astype(np.int64)


def _bins(confidence: np.ndarray, bins: int) -> np.ndarray:
    """Bin index ``m - 1`` of each confidence in ``((m - 1) / M, m / M]`` (0 goes to the first bin)."""
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)


def reliability_table(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> pd.DataFrame:
    """Per confidence bin: how many images, their mean top-label confidence and their accuracy.

    Parameters
    ----------
    probs
        ``(n, C)`` class probabilities (rows sum to 1).
    labels
        ``(n,)`` true class indices.
    bins
        Number of equal-width confidence bins on [0, 1].

    Returns
    -------
    pandas.DataFrame
        One row per bin (empty bins included): ``bin`` (0-based), ``lower``, ``upper`` (the bin is
        ``(lower, upper]``), ``count``, ``confidence`` (mean top-label probability) and ``accuracy``
        (fraction whose top label is the true one); NaN confidence and accuracy in empty bins.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern Neural Networks",
    ICML 2017, section 2 (reliability diagrams).
    """
    probs, labels = _check(probs, labels)
    confidence = probs.max(1)
    correct = (probs.argmax(1) == labels).astype(np.float64)
    index = _bins(confidence, bins)
    count = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, weights=confidence, minlength=bins) / count
        accuracy = np.bincount(index, weights=correct, minlength=bins) / count
    edges = np.linspace(0.0, 1.0, bins + 1)
    return pd.DataFrame({"bin": np.arange(bins), "lower": edges[:-1], "upper": edges[1:], "count": count,
                         "confidence": mean_confidence, "accuracy": accuracy})


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Top-label expected calibration error: ``sum_m |B_m| / n * |acc(B_m) - conf(B_m)|``.

    Parameters
    ----------
    probs
        ``(n, C)`` class probabilities (rows sum to 1).
    labels
        ``(n,)`` true class indices.
    bins
        Number of equal-width confidence bins ``((m - 1) / M, m / M]`` (:func:`reliability_table`).

    Returns
    -------
    float
        The ECE in [0, 1] (accuracy scale; 0 when every bin's accuracy equals its mean confidence).

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern Neural Networks",
    ICML 2017, equation (3). M. P. Naeini, G. F. Cooper and M. Hauskrecht, "Obtaining Well
    Calibrated Probabilities Using Bayesian Binning", AAAI 2015.
    """
    table = reliability_table(probs, labels, bins)
    filled = table[table["count"] > 0]
    gaps = (filled["accuracy"] - filled["confidence"]).abs()
    return float((filled["count"] * gaps).sum() / filled["count"].sum())


def brier_score(probs: np.ndarray, labels: np.ndarray) -> float:
    """Multi-class Brier score: ``mean_i sum_c (p_ic - [y_i = c])^2`` (scikit-learn's ``brier_score_loss``).

    Parameters
    ----------
    probs
        ``(n, C)`` class probabilities (rows sum to 1).
    labels
        ``(n,)`` true class indices.

    Returns
    -------
    float
        In [0, 2]: 0 for a confident correct prediction of every image, 2 for a confident wrong one;
        a uniform guess over ``C`` classes scores ``1 - 1/C``. Not halved (Brier's original
        multi-class definition; the binary "mean squared error of p(positive)" is half of it).

    References
    ----------
    G. W. Brier, "Verification of Forecasts Expressed in Terms of Probability", Monthly Weather
    Review 78(1), 1950.
    """
    probs, labels = _check(probs, labels)
    return float(brier_score_loss(labels, probs, labels=np.arange(probs.shape[1]), scale_by_half=False))
