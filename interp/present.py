"""Numbers as people read them: the cells that ``make demo``, the dashboard and the PDF report print.

Every door formats a table of :mod:`interp.results` through these functions, so the printed
precision and wording are the same everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PERCENT_DECIMALS = 2


def percent(value: float | None, decimals: int = PERCENT_DECIMALS) -> str:
    """A share in [0, 1] as a percentage with ``decimals`` places; ``n/a`` for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "n/a"
    return f"{100 * float(value):.{decimals}f}"


def interval(low: float | None, high: float | None, decimals: int = PERCENT_DECIMALS) -> str:
    """A confidence interval of shares as ``[low, high]`` in percent."""
    return f"[{percent(low, decimals)}, {percent(high, decimals)}]"


def points(value: float | None, decimals: int = PERCENT_DECIMALS) -> str:
    """A difference already in percentage points (``comparisons`` effects), signed; ``n/a`` when missing."""
    if value is None or pd.isna(value):
        return "n/a"
    return f"{round(float(value), decimals) + 0.0:+.{decimals}f}"  # + 0.0: no "-0.00"


def p_value(value: float | None) -> str:
    """A p-value: three significant digits, ``<0.001`` below a thousandth, ``n/a`` when missing."""
    if value is None or pd.isna(value):
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3g}"


def accuracy_cells(accuracy: pd.DataFrame) -> pd.DataFrame:
    """The summarised accuracy table (``Results.accuracy()``) as text cells, one row per arm and subset:
    ``model``, ``init`` (what the arm's backbone started from, when the table has it), ``subset``, ``folds``,
    ``accuracy %`` (mean +- sd), ``95% CI``, ``macro-F1 %``."""
    init = {"init": accuracy["init"]} if "init" in accuracy.columns else {}
    return pd.DataFrame({
        "model": accuracy["model"], **init, "subset": accuracy["subset"], "folds": accuracy["n_folds"],
        "accuracy %": [f"{percent(mean)} +- {percent(sd)}"
                       for mean, sd in zip(accuracy["accuracy_mean"], accuracy["accuracy_sd"])],
        "95% CI": [interval(low, high) for low, high in zip(accuracy["accuracy_ci_low"], accuracy["accuracy_ci_high"])],
        "macro-F1 %": [percent(mean) for mean in accuracy["macro_f1_mean"]],
    })


def manifest_name(path: str) -> str:
    """A manifest path as people name a dataset: its folder and file (``raf-masked/manifest.csv``)."""
    parts = Path(path).parts
    return "/".join(parts[-2:]) if len(parts) > 1 else str(path)


def cross_dataset_note(record: dict | None) -> str | None:
    """What a cross-dataset study (``Results.cross_dataset()``) measures, in one paragraph; ``None`` for a
    study within one dataset. The dashboard's overview and the report's protocol print this text."""
    if not record:
        return None
    train, test = manifest_name(record["train_manifest"]), manifest_name(record["test_manifest"])
    note = (f"Cross-dataset study: every fold's model trains on the folds of {train} and is evaluated on all of "
            f"{test}, which no fold trained on; every accuracy, confusion matrix and attention number is on "
            f"{test}.")
    for key, where in (("missing_in_test", f"not in {test} (never scored)"),
                       ("missing_in_train", f"not in {train} (never predicted correctly)")):
        if record.get(key):
            note += f" Classes {where}: {', '.join(record[key])}."
    return note


@dataclass
class Figure6Grid:
    """What figure 6 shows, for every door that draws it (the audit's PNG, the PDF, the dashboard).

    Attributes
    ----------
    arms
        Row labels, top to bottom (the study's arm order).
    images
        Column image ids, left to right: the non-masked then the masked image of each pair.
    headers
        One column header per image: ``NM · happy`` (view and true class).
    predictions
        ``(arm, image_id)`` -> ``(predicted class, right)`` of every tile drawn.
    """

    arms: list[str]
    images: list[str]
    headers: list[str]
    predictions: dict[tuple[str, str], tuple[str, bool | None]]


def figure6_grid(images: pd.DataFrame, tiles: Iterable[tuple[str, str]], arms: Sequence[str] | None = None) -> Figure6Grid:
    """The rows, columns and labels of figure 6.

    Parameters
    ----------
    images
        The audit's per-image table (``Results.attention()``): ``model``, ``image_id``, ``label``, ``pred``,
        ``masked``, ``correct`` and, when present, ``pair_id`` (columns are ordered by pair, NM first).
    tiles
        ``(arm, image_id)`` of every overlay tile the audit drew.
    arms
        Row order (default: the order of ``tiles``); arms without a tile are left out.
    """
    tiles = list(dict.fromkeys(tiles))
    drawn = set(tiles)
    rows = images.drop_duplicates(["model", "image_id"]).set_index(["model", "image_id"])
    order = list(dict.fromkeys(arms or [arm for arm, _ in tiles]))
    shown = [arm for arm in order if any(tile[0] == arm for tile in drawn)]
    ids = list(dict.fromkeys(image_id for _, image_id in tiles))
    first = rows.reset_index().drop_duplicates("image_id").set_index("image_id")
    if "pair_id" in first.columns:
        ids.sort(key=lambda image_id: (str(first.loc[image_id, "pair_id"]), bool(first.loc[image_id, "masked"])))
    headers = [" · ".join(part for part in ("M" if bool(first.loc[image_id, "masked"]) else "NM",
                                            str(first.loc[image_id, "label"] or "")) if part)
               for image_id in ids]
    predictions = {(arm, image_id): (str(rows.loc[(arm, image_id), "pred"]),
                                     bool(rows.loc[(arm, image_id), "correct"]) if rows.loc[(arm, image_id), "label"]
                                     else None)  # None: an unlabelled photo, neither right nor wrong
                   for arm, image_id in tiles if (arm, image_id) in rows.index}
    return Figure6Grid(arms=shown, images=ids, headers=headers, predictions=predictions)
