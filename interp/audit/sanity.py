"""Sanity checks of attribution maps: do they depend on the model, agree, match truth, matter?

- :func:`randomisation_curve`: model-parameter randomisation (Adebayo et al. 2018), cascading from
  the top layer block by block; maps that stay similar to the trained model's are not explaining the
  model. :func:`randomisation_check` states the pass criterion and applies it per fold.
- :func:`consistency_pairs`: agreement of the k fold models' maps on
  the same image (a checkpoint-based take on the MeGe generalisability score of Fel et al. 2022),
  each pair of models labelled by whether they trained on the image (``held-out``,
  ``held-out vs trained``, ``trained``).
- :func:`evidence_agreement`: agreement with ground-truth expression-evidence maps (demo data).
- :func:`faithfulness`: accuracy drop when the mask region is occluded vs an equal-area region.
"""

from __future__ import annotations

import copy
import itertools
import zlib
from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch
from PIL import Image
from scipy import stats
from skimage.metrics import structural_similarity
from torch import nn

from interp.attribution import create
from interp.regions import score_regions
from interp.regions.rank_accuracy import RankAccuracy

HELD_OUT, MIXED, TRAINED = "held-out", "held-out vs trained", "trained"
"""Kinds of a pair of fold models on an image: neither, one, or both trained on its subject."""
RANDOMISATION_THRESHOLD = 0.5
"""Pass below this mean absolute-value Spearman correlation at the last stage (the report's verdict too)."""


def _normalised(a: np.ndarray) -> np.ndarray:
    low, high = float(a.min()), float(a.max())
    return (a - low) / (high - low) if high > low else np.zeros_like(a, dtype=float)


def map_similarity(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Spearman rank correlation (signed and of absolute values) and SSIM of two ``(H, W)`` maps.

    SSIM compares the maps min-max normalised to [0, 1]; constant maps give NaN correlations.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore"):
        signed = stats.spearmanr(a.ravel(), b.ravel()).statistic if a.std() and b.std() else np.nan
        absolute = (stats.spearmanr(np.abs(a).ravel(), np.abs(b).ravel()).statistic
                    if np.abs(a).std() and np.abs(b).std() else np.nan)
    window = min(7, *a.shape) // 2 * 2 + 1 if min(a.shape) >= 3 else None
    ssim = structural_similarity(_normalised(a), _normalised(b), data_range=1.0, win_size=window) if window else np.nan
    return {"spearman": float(signed), "spearman_abs": float(absolute), "ssim": float(ssim)}


def randomisation_stages(model: nn.Module, max_stages: int = 10) -> list[tuple[str, list[nn.Module]]]:
    """Parameterised leaf modules grouped into at most ``max_stages`` blocks, output first.

    Grouping starts from the top-level children and splits a group into its children (the next
    name level) while the count stays within ``max_stages``, the group with most layers first (the
    one nearer the output on ties). Every architecture thus gets block-level stages, however deep
    its backbone is nested: a ResNet classifier gives head, layer4.1, layer4.0, layer3, layer2,
    layer1, bn1, conv1; RAN (a backbone under one name next to its attention head) gives the same
    blocks instead of one "backbone" stage.
    """
    leaves = [(name, module) for name, module in model.named_modules()
              if name and not list(module.children()) and list(module.parameters(recurse=False))]
    if not leaves:
        raise ValueError("the model has no parameterised layers to randomise")
    groups = _split([(name, module) for name, module in leaves], "")
    while True:
        order = sorted(range(len(groups)), key=lambda i: (-len(groups[i][1]), -i))
        for index in order:
            prefix, members = groups[index]
            children = _split(members, prefix)
            if len(children) > 1 and len(groups) - 1 + len(children) <= max_stages:
                groups[index:index + 1] = children
                break
        else:
            break
    return [(prefix, [module for _, module in members]) for prefix, members in groups][::-1]


def _split(members: list[tuple[str, nn.Module]], prefix: str) -> list[tuple[str, list[tuple[str, nn.Module]]]]:
    """Group named leaves under ``prefix`` by their next name component, in module order."""
    depth = prefix.count(".") + 1 if prefix else 0
    groups: dict[str, list[tuple[str, nn.Module]]] = {}
    for name, module in members:
        parts = name.split(".")
        groups.setdefault(".".join(parts[:min(depth + 1, len(parts))]), []).append((name, module))
    return list(groups.items())


def randomise(modules: list[nn.Module], seed: int) -> None:
    """Re-initialise ``modules`` in place (their ``reset_parameters``, else N(0, 0.02)), seeded with ``seed``
    without touching the global random state. Callers derive ``seed`` from the model and fold
    (:func:`draw_seed`) so that every fold and arm gets its own random network."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in modules:
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
            else:
                for parameter in module.parameters(recurse=False):
                    nn.init.normal_(parameter, std=0.02)


def draw_seed(*keys: int | str) -> int:
    """A 32-bit seed from any keys (the audit's seed, model name, fold, stage or draw): different keys give
    independent seeds (numpy ``SeedSequence``; strings enter by their CRC-32)."""
    entropy = [zlib.crc32(key.encode()) if isinstance(key, str) else int(key) for key in keys]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def randomisation_curve(model: nn.Module, images: torch.Tensor, *, method: str = "gradcam",
                        max_stages: int = 10, batch_size: int = 32, seed: int = 0,
                        settings: Mapping[str, object] | None = None,
                        regions: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Similarity of maps of cascadingly randomised copies of ``model`` to the trained model's.

    Stage 0 is the trained model (similarity 1); stage ``s`` has the top ``s`` layer groups
    re-initialised. Every stage explains the trained model's predicted class, so only the
    parameters change. ``model`` itself is not modified. ``settings`` are the method's own settings.
    With ``regions`` (``{"mask": (N, H, W), "eyes": ...}`` at the input size) every stage's maps are
    also scored with every region metric: the last stage's scores are the null reference of a
    model that learnt nothing (e.g. its mask fraction).

    Returns
    -------
    pandas.DataFrame
        One row per stage and image: stage, layer (the group randomised last), image, spearman,
        spearman_abs, ssim (and the region metrics). A sound method's similarity falls towards 0 as
        layers are randomised.

    References
    ----------
    Adebayo et al. (2018), "Sanity checks for saliency maps", NeurIPS.
    """
    with create(method, model, batch_size=batch_size, **(settings or {})) as attributor:
        trained = attributor.attribute(images, target="pred")
    copy_model = copy.deepcopy(model)
    modules = dict(copy_model.named_modules())
    names = {id(m): n for n, m in model.named_modules()}
    scores = _scores(trained.maps, regions)
    rows = [{"stage": 0, "layer": "(trained)", "image": i, "spearman": 1.0, "spearman_abs": 1.0, "ssim": 1.0,
             **{name: float(values[i]) for name, values in scores.items()}} for i in range(len(images))]
    for stage, (layer, group) in enumerate(randomisation_stages(model, max_stages), start=1):
        randomise([modules[names[id(m)]] for m in group], draw_seed(seed, stage))
        with create(method, copy_model, batch_size=batch_size, **(settings or {})) as attributor:
            maps = attributor.attribute(images, target=trained.targets).maps
        scores = _scores(maps, regions)
        for i, (before, after) in enumerate(zip(trained.maps, maps)):
            rows.append({"stage": stage, "layer": layer, "image": i, **map_similarity(before, after),
                         **{name: float(values[i]) for name, values in scores.items()}})
    return pd.DataFrame(rows)


def _scores(maps: np.ndarray, regions: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Every region metric of ``maps`` (none without ``regions``)."""
    return score_regions(maps, dict(regions)) if regions is not None else {}


def randomisation_check(summary: pd.DataFrame, threshold: float = RANDOMISATION_THRESHOLD) -> pd.DataFrame:
    """Pass or fail of the randomisation check per (model, fold), from the per-stage mean similarity.

    Criterion: at the last stage (every layer group randomised) the mean over images of the Spearman
    correlation between the absolute values of the trained model's map and of the randomised
    model's map (Adebayo et al. 2018's measure) is below ``threshold``. The absolute-value
    correlation is used because signed correlations of opposite sign cancel in a mean while each
    map may still copy the input's structure. A model passes when every fold checked passes.

    Parameters
    ----------
    summary
        ``model``, ``fold``, ``stage``, ``layer``, ``spearman``, ``spearman_abs``, ``ssim`` (means over images).

    Returns
    -------
    pandas.DataFrame
        model, fold, stages, last_layer, spearman_last, spearman_abs_last, ssim_last, threshold, passed,
        folds_passed, folds_checked, model_passed.
    """
    last = summary.sort_values("stage").groupby(["model", "fold"], sort=False).tail(1)
    frame = pd.DataFrame({
        "model": last["model"].to_numpy(), "fold": last["fold"].to_numpy(), "stages": last["stage"].to_numpy(),
        "last_layer": last["layer"].to_numpy(), "spearman_last": last["spearman"].to_numpy(),
        "spearman_abs_last": last["spearman_abs"].to_numpy(), "ssim_last": last["ssim"].to_numpy(),
        "threshold": threshold,
    })
    frame["passed"] = frame["spearman_abs_last"] < threshold
    per_model = frame.groupby("model", sort=False)["passed"]
    frame["folds_passed"] = per_model.transform("sum").astype(int)
    frame["folds_checked"] = per_model.transform("size").astype(int)
    frame["model_passed"] = per_model.transform("all")
    return frame.sort_values(["model", "fold"], kind="stable").reset_index(drop=True)


def consistency_pairs(maps: Mapping[int, np.ndarray], trained: Mapping[int, np.ndarray]) -> pd.DataFrame:
    """Similarity of every pair of fold models' maps on the same images, labelled by training.

    Parameters
    ----------
    maps
        Fold -> ``(N, H, W)`` maps of that fold's model on the same N images.
    trained
        Fold -> ``(N,)`` booleans: whether that fold's model trained on each image (its subject is in
        the fold's training split).

    Returns
    -------
    pandas.DataFrame
        One row per image and pair of folds: image, fold_a, fold_b, kind (:data:`HELD_OUT` when
        neither model trained on the image, :data:`MIXED` when one did, :data:`TRAINED` when both),
        spearman, spearman_abs, ssim. Only ``held-out`` pairs measure agreement on unseen images;
        the other kinds mix in memorisation of training images and are reported apart.
    """
    folds = sorted(maps)
    rows = []
    for a, b in itertools.combinations(folds, 2):
        for image in range(len(maps[a])):
            seen = int(bool(trained[a][image])) + int(bool(trained[b][image]))
            rows.append({"image": image, "fold_a": a, "fold_b": b, "kind": (HELD_OUT, MIXED, TRAINED)[seen],
                         **map_similarity(maps[a][image], maps[b][image])})
    return pd.DataFrame(rows)


def evidence_agreement(maps: np.ndarray, evidence: np.ndarray, share: float = 0.1) -> pd.DataFrame:
    """Agreement of ``(N, H, W)`` attribution maps with ``(N, h, w)`` ground-truth evidence maps.

    Attribution is average-pooled to the evidence grid. The evidence region is where evidence
    exceeds ``share`` of the image's maximum.

    Returns
    -------
    pandas.DataFrame
        One row per image: spearman (positive attribution vs evidence), evidence_fraction (positive
        attribution mass on the evidence region), evidence_rank_accuracy (Arras et al. 2022).
        NaN for images without evidence (neutral faces).
    """
    pooled = _pool_to(np.asarray(maps, dtype=float), np.asarray(evidence).shape[-2:])
    evidence = np.asarray(evidence, dtype=float)
    positive = np.clip(pooled, 0, None)
    peak = evidence.reshape(len(evidence), -1).max(axis=1)
    region = evidence > (share * peak)[:, None, None]
    region &= (peak > 0)[:, None, None]
    total = positive.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where((total > 0) & (peak > 0), (positive * region).sum(axis=(1, 2)) / total, np.nan)
    rank = RankAccuracy()(pooled, region)
    spearman = [map_similarity(p, e)["spearman"] if m > 0 else np.nan for p, e, m in zip(positive, evidence, peak)]
    return pd.DataFrame({"image": np.arange(len(pooled)), "spearman": spearman,
                         "evidence_fraction": fraction, "evidence_rank_accuracy": rank})


def _pool_to(maps: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    tensor = torch.from_numpy(maps).float().unsqueeze(1)
    return nn.functional.adaptive_avg_pool2d(tensor, tuple(shape))[:, 0].double().numpy()


def evidence_to_input_frame(evidence: np.ndarray, image_size: tuple[int, int],
                            box: tuple[float, float, float, float], size: int) -> np.ndarray:
    """Resample an evidence map covering the whole stored image onto the model's input crop.

    Parameters
    ----------
    evidence
        ``(h, w)`` map spanning the stored image (``image_size`` = ``(width, height)``).
    box
        ``(x0, y0, x1, y1)`` crop of the stored image that the input shows.
    size
        Output side (the map is ``(size, size)``).
    """
    height, width = evidence.shape
    sx, sy = width / image_size[0], height / image_size[1]
    grid_box = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
    image = Image.fromarray(np.asarray(evidence, dtype=np.float32), mode="F")
    return np.asarray(image.resize((size, size), Image.Resampling.BILINEAR, box=grid_box), dtype=np.float32)


def faithfulness(model: nn.Module, images: torch.Tensor, labels: np.ndarray, regions: np.ndarray,
                 *, repeats: int = 3, seed: int = 0, batch_size: int = 64) -> pd.DataFrame:
    """Correctness with the region occluded vs the same-shaped region at a random offset.

    Occluded pixels take the value 0 of the normalised input (the dataset's mean colour). The
    control region is the image's region shifted cyclically by a random offset, so it has exactly
    the same area and shape.

    Returns
    -------
    pandas.DataFrame
        One row per image: image, correct, correct_occluded, correct_random (mean over repeats).
        Accuracy drops are ``correct - correct_occluded`` and ``correct - correct_random``.

    References
    ----------
    Samek et al. (2017), "Evaluating the visualization of what a deep neural network has learned",
    IEEE TNNLS (region perturbation); Hooker et al. (2019), "A benchmark for interpretability
    methods in deep neural networks", NeurIPS (the need for a same-area control).
    """
    regions = np.asarray(regions, dtype=bool)
    if regions.shape != (len(images), *images.shape[-2:]):
        raise ValueError(f"regions {regions.shape} must be (N, H, W) at the input size {tuple(images.shape[-2:])}")
    rng = np.random.default_rng(seed)
    height, width = regions.shape[1:]
    shifted = [np.stack([np.roll(r, (rng.integers(height), rng.integers(width)), axis=(0, 1)) for r in regions])
               for _ in range(repeats)]
    labels = np.asarray(labels)
    correct = _predict(model, images, None, batch_size) == labels
    occluded = _predict(model, images, regions, batch_size) == labels
    random = np.mean([_predict(model, images, s, batch_size) == labels for s in shifted], axis=0)
    return pd.DataFrame({"image": np.arange(len(images)), "correct": correct.astype(float),
                         "correct_occluded": occluded.astype(float), "correct_random": random})


def _predict(model: nn.Module, images: torch.Tensor, regions: np.ndarray | None, batch_size: int) -> np.ndarray:
    was_training = model.training
    model.eval()
    preds = []
    device = next(model.parameters(), torch.empty(0)).device
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                batch = images[start:start + batch_size]
                if regions is not None:
                    keep = torch.from_numpy(~regions[start:start + batch_size]).to(batch.dtype)
                    batch = batch * keep[:, None]
                preds.append(model(batch.to(device)).argmax(dim=1).cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(preds)
