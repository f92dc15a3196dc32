"""Mask sensitivity: how a model's answer on a face changes when a mask covers its lower half.

For every pair (a non-masked image NM and its masked copy M, scored by the same (arm, fold) model):
the prediction on each, ``flip`` (the prediction changed), ``drop`` (how much the probability of the
NM prediction fell on M) and ``kl`` (the Kullback-Leibler divergence KL(p_NM || p_M) of the two output
distributions, in nats). Summaries per arm and class (and ``all``): the flip rate with a percentile
bootstrap interval that resamples subjects (images of one person are correlated;
:func:`interp.stats.bootstrap.cluster_bootstrap_difference` of the flips against zero), mean drop
and KL, the share of each class among the predictions on NM and on M (which classes masks collapse
onto), and with labels the accuracy and calibration (ECE with 15 bins, Brier;
:mod:`interp.stats.calibration`) on NM and on M. The attention audit's per-image metrics (mask and
eye fraction, shift index) join each pair when the audit drew it, with the within-pair attention shift.

Distributions: an audited model's ``prob_<class>`` columns of ``predictions.csv`` hold every output
(extra classes such as contempt included), else the softmax of the seven stored logits. Accuracy
and calibration are 7-class: the seven logits' softmax, on labelled pairs only. The ``class`` of a
pair is its label, or without one the class predicted on NM.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import softmax

from interp.stats.bootstrap import cluster_bootstrap_difference
from interp.stats.calibration import brier_score, expected_calibration_error
from trainers.data.labels import CLASSES

ALL = "all"
PROB_PREFIX = "prob_"
LOGIT_PREFIX = "logit_"
ATTENTION_METRICS: tuple[str, ...] = ("mask_fraction", "eye_fraction", "shift_index")
"""Per-image audit metrics carried onto each pair as ``<metric>_nm`` and ``<metric>_m``; with the shift index
(:mod:`interp.audit.shift`) the pair also gets ``attention_shift`` = its masked minus its non-masked value,
the within-pair shift of the evidence up the face (:mod:`interp.audit.shift_pairs`' ``d``)."""
PAIR_COLUMNS: tuple[str, ...] = (
    "model", "fold", "pair_id", "subject", "label", "class", "pred_nm", "pred_m", "flip", "p_nm", "p_m",
    "drop", "kl", "correct_nm", "correct_m",
)


def distributions(predictions: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Each row's output distribution and the class of each column (``prob_*`` when present, else softmax of the logits)."""
    probs = [c for c in predictions.columns if c.startswith(PROB_PREFIX)]
    if probs and predictions[probs].notna().all(axis=None):
        return predictions[probs].to_numpy(dtype=float), [c[len(PROB_PREFIX):] for c in probs]
    logits = [f"{LOGIT_PREFIX}{name}" for name in CLASSES]
    return softmax(predictions[logits].to_numpy(dtype=float), axis=1), list(CLASSES)


def pair_table(predictions: pd.DataFrame, attention: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (arm, fold, pair) with both images scored: :data:`PAIR_COLUMNS`, then the attention metrics.

    Parameters
    ----------
    predictions
        Predictions of every (model, fold) with ``pair_id``, ``masked``, ``subject``, ``label``, the
        logits and, for an audited arm, ``prob_<class>`` (``predictions.csv`` read as it is).
    attention
        The audit's per-image table (``attention_images``) or ``None``.
    """
    frames = []
    for (model, fold), group in predictions.groupby(["model", "fold"], sort=False):
        group = group.reset_index(drop=True)
        probs, classes = distributions(group)
        seven = softmax(group[[f"{LOGIT_PREFIX}{c}" for c in CLASSES]].to_numpy(dtype=float), axis=1)
        frame = _pairs(group, probs, classes, seven)
        if not frame.empty:
            frames.append(frame.assign(model=model, fold=int(fold)))
    if not frames:
        return pd.DataFrame(columns=list(PAIR_COLUMNS))
    table = pd.concat(frames, ignore_index=True)
    table = table[list(PAIR_COLUMNS) + [c for c in table.columns if c not in PAIR_COLUMNS]]
    return _with_attention(table, attention)


def _pairs(group: pd.DataFrame, probs: np.ndarray, classes: list[str], seven: np.ndarray) -> pd.DataFrame:
    masked = group["masked"].astype(bool).to_numpy()
    paired = group["pair_id"].astype(str) != ""
    nm = group.index[paired & ~masked]
    m = group.index[paired & masked]
    nm_of = pd.Series(nm, index=group.loc[nm, "pair_id"].to_numpy())
    m_of = pd.Series(m, index=group.loc[m, "pair_id"].to_numpy())
    nm_of, m_of = nm_of[~nm_of.index.duplicated(keep=False)], m_of[~m_of.index.duplicated(keep=False)]
    pairs = nm_of.index.intersection(m_of.index, sort=False)
    if pairs.empty:
        return pd.DataFrame()
    a, b = nm_of.loc[pairs].to_numpy(), m_of.loc[pairs].to_numpy()
    p, q = probs[a], probs[b]
    top = p.argmax(1)
    rows = np.arange(len(pairs))
    names = np.asarray(classes)
    label = group.loc[a, "label"].astype(str).to_numpy()
    labelled = label != ""
    pred_nm, pred_m = names[top], names[q.argmax(1)]
    tiny = np.finfo(float).tiny
    frame = pd.DataFrame({
        "pair_id": pairs.to_numpy(), "subject": group.loc[a, "subject"].to_numpy(), "label": label,
        "class": np.where(labelled, label, pred_nm), "pred_nm": pred_nm, "pred_m": pred_m, "flip": pred_nm != pred_m,
        "p_nm": p[rows, top], "p_m": q[rows, top], "drop": p[rows, top] - q[rows, top],
        "kl": (p * (np.log(np.maximum(p, tiny)) - np.log(np.maximum(q, tiny)))).sum(1),
    })
    seven_names = np.asarray(CLASSES)
    frame["correct_nm"] = np.where(labelled, seven_names[seven[a].argmax(1)] == label, np.nan)
    frame["correct_m"] = np.where(labelled, seven_names[seven[b].argmax(1)] == label, np.nan)
    for index, name in enumerate(CLASSES):  # the 7-class probabilities, for calibration
        frame[f"p7_nm_{name}"] = seven[a, index]
        frame[f"p7_m_{name}"] = seven[b, index]
    return frame


def _with_attention(table: pd.DataFrame, attention: pd.DataFrame | None) -> pd.DataFrame:
    if attention is None or attention.empty:
        return table
    metrics = [m for m in ATTENTION_METRICS if m in attention.columns]
    per_image = attention[attention["pair_id"].astype(str) != ""]
    for masked, suffix in ((False, "nm"), (True, "m")):
        part = per_image[per_image["masked"].astype(bool) == masked]
        part = part.drop_duplicates(["model", "fold", "pair_id"])[["model", "fold", "pair_id", *metrics]]
        table = table.merge(part.rename(columns={m: f"{m}_{suffix}" for m in metrics}),
                            on=["model", "fold", "pair_id"], how="left")
    if "shift_index" in metrics:
        table["attention_shift"] = table["shift_index_m"] - table["shift_index_nm"]
    return table


def summary_table(pairs: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per arm and class (then ``all``): pairs, subjects, flip rate with its subject-bootstrap 95% CI,
    mean drop and KL, accuracy NM/M, ECE and Brier NM/M (NaN without labels), mean attention metrics."""
    rows = []
    for model, group in pairs.groupby("model", sort=False):
        classes = [c for c in list(CLASSES) + sorted(set(group["class"]) - set(CLASSES)) if c in set(group["class"])]
        for name in [*classes, ALL]:
            part = group if name == ALL else group[group["class"] == name]
            rows.append({"model": model, "class": name, **_summary_row(part, n_boot, seed)})
    return pd.DataFrame(rows)


def _summary_row(part: pd.DataFrame, n_boot: int, seed: int) -> dict:
    flips = part["flip"].to_numpy(dtype=float)
    interval = cluster_bootstrap_difference(flips, np.zeros_like(flips), part["subject"].to_numpy(), n_boot, seed)
    row = {"n_pairs": len(part), "n_subjects": int(part["subject"].nunique()), "flip_rate": float(flips.mean()),
           "flip_ci_low": interval.ci_low, "flip_ci_high": interval.ci_high,
           "drop_mean": float(part["drop"].mean()), "kl_mean": float(part["kl"].mean())}
    labelled = part[part["label"] != ""]
    row["n_labelled"] = len(labelled)
    for suffix in ("nm", "m"):
        row[f"accuracy_{suffix}"] = float(labelled[f"correct_{suffix}"].astype(float).mean()) if len(labelled) else np.nan
        if len(labelled):
            probs = labelled[[f"p7_{suffix}_{c}" for c in CLASSES]].to_numpy(dtype=float)
            probs = probs / probs.sum(1, keepdims=True)
            truth = labelled["label"].map(CLASSES.index).to_numpy(dtype=np.int64)
            row[f"ece_{suffix}"] = expected_calibration_error(probs, truth)
            row[f"brier_{suffix}"] = brier_score(probs, truth)
        else:
            row[f"ece_{suffix}"] = row[f"brier_{suffix}"] = np.nan
    for column in part.columns:
        if column == "attention_shift" or any(column.startswith(f"{metric}_") for metric in ATTENTION_METRICS):
            row[f"{column}_mean"] = float(part[column].mean())
    return row


def class_shift_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per arm and predicted class: how many pairs the model puts in it on NM and on M, the shares and
    their change (``share_m - share_nm``: positive = masks collapse onto this class)."""
    rows = []
    for model, group in pairs.groupby("model", sort=False):
        names = list(dict.fromkeys([*CLASSES, *sorted(set(group["pred_nm"]) | set(group["pred_m"]))]))
        nm, m = group["pred_nm"].value_counts(), group["pred_m"].value_counts()
        for name in names:
            n_nm, n_m = int(nm.get(name, 0)), int(m.get(name, 0))
            rows.append({"model": model, "class": name, "n_nm": n_nm, "n_m": n_m, "share_nm": n_nm / len(group),
                         "share_m": n_m / len(group), "change": (n_m - n_nm) / len(group)})
    return pd.DataFrame(rows, columns=["model", "class", "n_nm", "n_m", "share_nm", "share_m", "change"])


def collapse_classes(shift: pd.DataFrame, model: str) -> list[str]:
    """Classes whose share of predictions grows on masked faces, largest gain first."""
    part = shift[(shift["model"] == model) & (shift["change"] > 0)].sort_values("change", ascending=False)
    return list(part["class"])

