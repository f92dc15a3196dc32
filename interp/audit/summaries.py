"""Summaries of the attention audit computed from its per-image tables: null references, cross-fold
consistency, and the attention-shift tables (pairs, tests, null bands)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from interp.audit.aggregate import ALL_CLASSES, with_views
from interp.audit.sanity import consistency_pairs
from interp.audit.shift_pairs import null_pairs, shift_pairs, with_null
from interp.audit.shift_tests import ShiftTestConfig, shift_tests
from interp.runs import Run
from trainers import rundir


def null_references(images: pd.DataFrame, curves: list[pd.DataFrame],
                    nulls: pd.DataFrame | None = None) -> pd.DataFrame:
    """The two null references of the mask fraction per model, subset and class (and ``all``).

    ``mask_share``: the mean share of the whole input image the mask polygon covers - what a map uniform
    over the image scores - averaged over exactly the images whose mask fraction is scored (an image
    without a polygon or without enough positive evidence counts in neither). ``randomised_mask_fraction``:
    the mean mask fraction of fully randomised networks' maps, what this architecture and attribution
    method give without anything learnt: the null draws on the audited images where the audit ran them
    (``nulls``), else the last stage of the randomisation cascade on the sanity images; ``n_randomised``
    scores behind it.
    """
    table = with_views(images[images["mask_fraction"].notna()])
    keys = ["model", "subset", "class"]
    share = pd.concat([table.assign(**{"class": table["label"]}), table.assign(**{"class": ALL_CLASSES})])
    frame = share.groupby(keys, sort=False)["mask_share"].mean().reset_index()
    if nulls is not None and not nulls.empty:
        last = nulls
    elif curves and "mask_fraction" in curves[0]:
        curve = pd.concat(curves, ignore_index=True)
        last = curve[curve["stage"] == curve.groupby(["model", "fold"])["stage"].transform("max")]
    else:
        return frame.assign(randomised_mask_fraction=np.nan, n_randomised=0)
    facts = images.drop_duplicates("image_id").set_index("image_id")
    last = with_views(last.join(facts[[c for c in ("masked", "label", "pe") if c in facts]], on="image_id"))
    both = pd.concat([last.assign(**{"class": last["label"]}), last.assign(**{"class": ALL_CLASSES})])
    randomised = both.groupby(keys, sort=False)["mask_fraction"].agg(
        randomised_mask_fraction="mean", n_randomised="count").reset_index()
    frame = frame.merge(randomised, on=keys, how="left")
    frame["n_randomised"] = frame["n_randomised"].fillna(0).astype(int)
    return frame


def consistency_table(run: Run, consistency: dict[str, dict[int, np.ndarray]], sanity_ids: list[str]) -> pd.DataFrame:
    """Cross-fold agreement per model and kind (held-out, held-out vs trained, trained) of fold-model pairs.

    Columns: model, kind, k (fold models), n_images, n_pairs, and the mean and sd (over images) of
    each similarity. ``held-out`` rows exist only where no model of a pair trained on the image (a
    test set): only they measure agreement on unseen faces.
    """
    table = run.manifest()
    row = {image_id: index for index, image_id in enumerate(table["image_id"])}
    rows = [row[image_id] for image_id in sanity_ids]
    similarity = ["spearman", "spearman_abs", "ssim"]
    frames = []
    for model, maps in consistency.items():
        if len(maps) < 2:
            continue
        trained = {fold: rundir.fold_rows(table, fold)[0][rows] for fold in maps}
        pairs = consistency_pairs(maps, trained)
        per_image = pairs.groupby(["kind", "image"], sort=False)[similarity].mean().reset_index()
        summary = per_image.groupby("kind", sort=False)[similarity].agg(["mean", "std"]).pipe(flatten)
        summary["n_images"] = per_image.groupby("kind", sort=False).size()
        summary["n_pairs"] = pairs.groupby("kind", sort=False).size()
        frames.append(summary.reset_index().assign(model=model, k=len(maps)))
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    return frame[["model", "kind", "k", "n_images", "n_pairs"]
                 + [c for c in frame.columns if c.split("_")[0] in ("spearman", "ssim")]]


def pool(maps: np.ndarray, size: int) -> np.ndarray:
    """``(N, H, W)`` maps average-pooled to ``size`` x ``size``."""
    tensor = torch.from_numpy(np.asarray(maps, dtype=np.float32)).unsqueeze(1)
    return nn.functional.adaptive_avg_pool2d(tensor, size)[:, 0].numpy()


def flatten(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [f"{name}_{stat}" for name, stat in frame.columns]
    return frame


def null_summary(images: pd.DataFrame, nulls: pd.DataFrame, draws: pd.DataFrame, pairs: pd.DataFrame,
                 confidence: float = 0.95) -> pd.DataFrame:
    """The null band of every metric: per model, subset (``NM``, ``M``; ``pairs`` for ``shift_d``) and metric,
    the trained maps' mean (``trained``) beside the randomised networks' (``null_mean``, and the
    ``null_low``/``null_high`` percentiles over draws of the per-draw mean); ``n_draws``, ``n_images``.
    """
    if nulls.empty:
        return pd.DataFrame()
    metrics = [c for c in nulls.columns if c not in ("model", "fold", "image_id", "draw", "image")]
    sides = images[["model", "fold", "image_id", "masked"]]
    table = nulls.merge(sides, on=["model", "fold", "image_id"]).assign(
        subset=lambda t: np.where(t["masked"].astype(bool), "M", "NM"))
    trained = images.assign(subset=np.where(images["masked"].astype(bool), "M", "NM"))
    long = [(table.melt(["model", "subset", "draw"], metrics, "metric"),
             trained.melt(["model", "subset"], [m for m in metrics if m in trained], "metric"))]
    if not draws.empty:
        long.append((draws.assign(subset="pairs", metric="shift_d", value=draws["d"]),
                     pairs.assign(subset="pairs", metric="shift_d", value=pairs["d"])))
    tail = (1 - confidence) / 2
    frames = []
    for null, real in long:
        per_draw = null.groupby(["model", "subset", "metric", "draw"])["value"].mean()
        band = per_draw.groupby(level=["model", "subset", "metric"]).agg(
            null_mean="mean", null_low=lambda v: v.quantile(tail), null_high=lambda v: v.quantile(1 - tail),
            n_draws="count")
        real = real.groupby(["model", "subset", "metric"])["value"].agg(trained="mean", n_images="count")
        frames.append(real.join(band, how="outer").reset_index())
    return pd.concat(frames, ignore_index=True)


def shift_tables(images: pd.DataFrame, nulls: pd.DataFrame, map_kinds: dict[str, str],
                 config: ShiftTestConfig) -> dict[str, pd.DataFrame]:
    """The attention-shift tables by name: ``attention_shift_pairs`` (one row per model, fold and pair),
    ``attention_shift`` (the tests, :func:`interp.audit.shift_tests.shift_tests`) and ``attention_null``
    (:func:`null_summary`); empty frames where the audit has no complete pair or no null."""
    pairs = shift_pairs(images)
    draws = null_pairs(nulls, images) if not nulls.empty else pd.DataFrame(columns=["model", "fold", "pair_id",
                                                                                       "draw", "d"])
    pairs = with_null(pairs, draws)
    pairs["map_kind"] = pairs["model"].map(map_kinds).fillna("")
    tests = shift_tests(pairs, draws, map_kinds, config) if len(pairs) else pd.DataFrame()
    return {"attention_shift_pairs": pairs, "attention_shift": tests,
            "attention_null": null_summary(images, nulls, draws, pairs)}
