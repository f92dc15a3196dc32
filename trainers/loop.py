"""The training loop: one fold of one model, from the uint8 image cache to the fold's files.

:func:`train_fold` reads top to bottom: build the method's model and optimiser, resume from the
last checkpoint, then per epoch seed everything from (seed, model, fold, epoch), train on
augmented batches, step the schedule, evaluate on the fold's non-masked and masked images, and
write the checkpoint and history atomically. After the last epoch it writes predictions,
embeddings, the method's extras and ``DONE``, then drops the resume-only state (optimiser,
scheduler, RNG, history) from the checkpoint. The last-epoch model is the result.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from trainers import rundir
from trainers.augment import IMAGENET_MEAN, IMAGENET_STD, augment_views, normalise, to_float
from trainers.config import config_differences, to_dict
from trainers.data.labels import CLASSES
from trainers.device import compile_trunk, native_bf16
from trainers.common.errors import DataError
from trainers.methods.base import Batch, FoldContext, Method, TrainingSet

log = logging.getLogger(__name__)

POSTFIX_EVERY = 10
"""Batches between updates of the progress bar's loss/accuracy (each update waits for the device)."""


@dataclass
class Evaluation:
    """Validation outputs of one epoch, rows in the validation table's order."""

    logits: np.ndarray
    embeddings: np.ndarray
    extras: dict[str, np.ndarray]


def train_fold(method: Method, context: FoldContext, images: np.ndarray | torch.Tensor,
               compile_model: bool = False) -> pd.DataFrame:
    """Train ``method``'s model on one fold and write its files into ``context.fold_dir``.

    Parameters
    ----------
    method
        The training method (its ``config`` holds epochs, batch size, augmentation, ...).
    context
        Run directory, fold, the frozen manifest table with its ``fold`` column, device.
    images
        The uint8 image cache ``(N, S, S, 3)`` in table row order (a tensor on the device or in
        pinned host memory, see :func:`trainers.device.place_images`, or a NumPy/memory-mapped array).
    compile_model
        ``torch.compile`` the model's convolutional trunk (:func:`trainers.device.compile_trunk`).

    Returns
    -------
    pandas.DataFrame
        The fold's predictions (also written to ``predictions.csv``).
    """
    config, device, table = method.config, context.device, context.table
    training_rows, validation_rows = rundir.fold_rows(table, context.fold)
    train = method.training_set(table[training_rows])
    validation = table[validation_rows]
    if len(train) < 2 or validation.empty:
        raise DataError(f"{method.name} fold {context.fold}: {len(train)} training samples and "
                        f"{len(validation)} validation images; the fold needs both (check the subsets and pairs)")
    method.prepare(context)
    _seed_everything(config.seed, method.name, context.fold, -1)  # the initial weights
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    model = method.build_model(len(CLASSES)).to(device, memory_format=memory_format)
    if compile_model:
        compile_trunk(model)
    optimizer, scheduler = method.configure_optimizers(model)
    checkpoint_config = _checkpoint_config(method, context, model)
    start, history = _resume(context, checkpoint_config, model, optimizer, scheduler)
    evaluation, started = None, time.perf_counter()
    for epoch in range(start, config.epochs):
        seed = _seed_everything(config.seed, method.name, context.fold, epoch)
        generator = torch.Generator().manual_seed(seed)
        lrs = {group.get("name"): group["lr"] for group in optimizer.param_groups}
        tic = time.perf_counter()
        bar = tqdm(method.epoch_batches(method.sample_order(train, epoch, generator)),
                   desc=f"{method.name} fold {context.fold} epoch {epoch + 1}/{config.epochs}", leave=False)
        sums = train_epoch(method, model, optimizer, train, images, bar, generator, device, memory_format)
        scheduler.step()
        evaluation = evaluate(method, model, images, validation.index.to_numpy(), device, memory_format)
        history.append(_history_row(epoch, lrs, sums, method, validation, evaluation, time.perf_counter() - tic))
        log.info("%s fold %d epoch %d: %s", method.name, context.fold, epoch + 1,
                 ", ".join(f"{k} {v:.4g}" for k, v in history[-1].items() if isinstance(v, float)))
        rundir.save_checkpoint(context.fold_dir / rundir.CHECKPOINT_FILE, {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "epoch": epoch + 1, "config": checkpoint_config, "rng": _rng_state(seed), "history": history,
        })
        rundir.write_history(context.fold_dir, history)
    if evaluation is None:  # resumed after the last epoch's checkpoint
        evaluation = evaluate(method, model, images, validation.index.to_numpy(), device, memory_format)
    predictions = rundir.prediction_table(validation, evaluation.logits)
    rundir.write_predictions(context.fold_dir, predictions, evaluation.embeddings)
    method.save_extras(context.fold_dir, predictions, evaluation.extras)
    seconds = sum(float(row["seconds"]) for row in history) if history else time.perf_counter() - started
    rundir.write_done(context.fold_dir, config.epochs, seconds)
    rundir.finish_checkpoint(context.fold_dir)
    return predictions


def train_epoch(method: Method, model: torch.nn.Module, optimizer: torch.optim.Optimizer, train: TrainingSet,
                images: np.ndarray | torch.Tensor, batches: tqdm, generator: torch.Generator, device: torch.device,
                memory_format: torch.memory_format) -> dict[str, float]:
    """One pass over ``batches`` (arrays of sample indices); returns summed losses and accuracy counts.

    The sums stay on the device (float64) until the epoch ends, so the host does not wait for the
    device after every step.
    """
    model.train()
    sums: dict[str, Any] = {}
    for i, order in enumerate(batches):
        batch = training_batch(train, order, images, method, generator, device, memory_format)
        with _autocast(device, method.config.bf16):
            step = method.training_step(model, batch)
        if i == 0 and method.gradient_ratio is not None:
            sums["grad_ratio"] = gradient_norm_ratio(model, *(step.parts[name] for name in method.gradient_ratio))
        optimizer.zero_grad(set_to_none=True)
        step.loss.backward()
        optimizer.step()
        _accumulate(sums, step, len(order))
        if (i + 1) % POSTFIX_EVERY == 0:
            batches.set_postfix(loss=f"{float(sums['loss']) / sums['n']:.3f}",
                                acc=f"{float(sums['correct']) / sums['seen']:.3f}")
    return {name: float(value) for name, value in sums.items()}


def gradient_norm_ratio(model: torch.nn.Module, numerator: torch.Tensor, denominator: torch.Tensor) -> float:
    """``||d numerator / d theta|| / ||d denominator / d theta||`` over the trainable parameters ``theta``.

    Both losses must come from one forward pass; its graph is kept for the step's own backward.
    NaN when the denominator's gradient is zero.
    """
    parameters = [p for p in model.parameters() if p.requires_grad]
    norms = []
    for loss in (numerator, denominator):
        grads = torch.autograd.grad(loss, parameters, retain_graph=True, allow_unused=True)
        squares = [g.float().pow(2).sum() for g in grads if g is not None]
        norms.append(float(torch.stack(squares).sum().sqrt()) if squares else 0.0)
    num, den = norms
    return num / den if den > 0 else float("nan")


def evaluate(method: Method, model: torch.nn.Module, images: np.ndarray | torch.Tensor, rows: np.ndarray,
             device: torch.device, memory_format: torch.memory_format) -> Evaluation:
    """Eval-mode, no-grad predictions of ``rows`` of the cache (ImageNet-normalised, no augmentation).

    Batches are gathered, normalised and predicted on the device; outputs are collected there and
    copied to the host once, at the end.
    """
    model.eval()
    logits, embeddings, extras = [], [], {}
    config = method.config
    with torch.no_grad():
        for start in range(0, len(rows), config.eval_batch_size):
            chunk = _gather(images, rows[start:start + config.eval_batch_size], device)
            x = normalise(to_float(chunk)).contiguous(memory_format=memory_format)
            with _autocast(device, config.bf16):
                out = method.predict(model, x)
            logits.append(out.logits.float())
            embeddings.append(out.embeddings.float())
            for name, value in out.extras.items():
                extras.setdefault(name, []).append(value.float())
    return Evaluation(_host(logits), _host(embeddings).astype(np.float32),
                      {name: _host(parts) for name, parts in extras.items()})


def _host(parts: list[torch.Tensor]) -> np.ndarray:
    """Concatenate device tensors and copy them to the host as one NumPy array."""
    return torch.cat(parts).cpu().numpy()


def epoch_seed(seed: int, model: str, fold: int, epoch: int) -> int:
    """A 31-bit seed for one epoch of one model and fold (stable across processes)."""
    return zlib.crc32(f"{seed}:{model}:{fold}:{epoch}".encode()) & 0x7FFFFFFF


def _seed_everything(seed: int, model: str, fold: int, epoch: int) -> int:
    value = epoch_seed(seed, model, fold, epoch)
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)
    return value


def _rng_state(seed: int) -> dict[str, Any]:
    state = {"epoch_seed": seed, "torch": torch.get_rng_state(), "python": random.getstate()}
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state["numpy"] = {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos,
                      "has_gauss": has_gauss, "cached": cached}
    return state


def _checkpoint_config(method: Method, context: FoldContext, model: torch.nn.Module) -> dict[str, Any]:
    return {
        "model": method.name, "method": type(method).__name__, "options": method.options_dict(),
        "architecture": method.config.architecture, "architecture_options": method.architecture_options(),
        "num_classes": len(CLASSES), "classes": list(CLASSES), "image_size": method.config.image_size,
        "normalisation": {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
        "embedding_dim": int(model.embedding_dim), "gradcam_layer": model.gradcam_layer,
        "fold": context.fold, "train_subjects": sorted(context.training_subjects),
        "validation_subjects": sorted(context.validation_subjects), "training": to_dict(method.config),
    }


def _resume(context: FoldContext, config: dict[str, Any], model: torch.nn.Module, optimizer: Any,
            scheduler: Any) -> tuple[int, list[dict[str, Any]]]:
    """Restore the last checkpoint of the fold, if any; return (finished epochs, history rows)."""
    path = context.fold_dir / rundir.CHECKPOINT_FILE
    if not path.is_file():
        return 0, []
    state = rundir.load_checkpoint(path)
    differences = config_differences(state["config"], config)
    if differences:
        raise DataError(f"{path}: checkpoint was trained with another config ({'; '.join(differences[:5])}); "
                        "use a new --out directory")
    if "optimizer" not in state:  # a finished fold's lean checkpoint whose DONE was removed
        raise DataError(f"{path}: a finished fold's checkpoint (no optimiser state) cannot be resumed; "
                        f"delete {path.parent} to retrain the fold")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    history = list(state["history"])  # history.csv may lag the checkpoint by one epoch
    log.info("%s: resuming after epoch %d", context.fold_dir, state["epoch"])
    return int(state["epoch"]), history


def _gather(images: np.ndarray | torch.Tensor, rows: np.ndarray, device: torch.device) -> torch.Tensor:
    """Cache rows ``rows`` on ``device``: indexed on the device, or gathered into pinned host memory
    and copied without blocking, or read from the NumPy cache."""
    if isinstance(images, torch.Tensor) and images.is_pinned():
        staging = torch.empty((len(rows), *images.shape[1:]), dtype=images.dtype, pin_memory=True)
        torch.index_select(images, 0, torch.as_tensor(rows), out=staging)
        return staging.to(device, non_blocking=True)
    if isinstance(images, torch.Tensor):
        return images[torch.as_tensor(rows, device=images.device)].to(device)
    return torch.from_numpy(np.asarray(images[rows])).to(device)


def training_batch(train: TrainingSet, order: np.ndarray, images: np.ndarray | torch.Tensor, method: Method,
                    generator: torch.Generator, device: torch.device, memory_format: torch.memory_format) -> Batch:
    """Gather the samples' views, augment them alike, normalise, one channels_last tensor per view."""
    rows = train.rows[order]
    pixels = to_float(_gather(images, rows.reshape(-1), device)).view(len(order), rows.shape[1], 3,
                                                                        *images.shape[1:3])
    pixels = normalise(augment_views(pixels, method.config.augment, generator))
    views = [pixels[:, v].contiguous(memory_format=memory_format) for v in range(rows.shape[1])]
    return Batch(views, torch.as_tensor(train.labels[order], device=device))


def _autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    if not enabled or not native_bf16(device):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _accumulate(sums: dict[str, Any], step: Any, n: int) -> None:
    """Add one step's losses (times ``n``) and accuracy counts to ``sums``, as float64/int64 tensors on
    the step's device (the same numbers as Python floats, without waiting for the device)."""
    sums["n"] = sums.get("n", 0) + n
    sums["loss"] = sums.get("loss", 0.0) + step.loss.detach().double() * n
    for name, value in step.terms.items():
        sums[f"loss_{name}"] = sums.get(f"loss_{name}", 0.0) + value.detach().double() * n
    sums["correct"] = sums.get("correct", 0) + (step.logits.argmax(1) == step.targets).sum()
    sums["seen"] = sums.get("seen", 0) + len(step.targets)


def _history_row(epoch: int, lrs: dict[str | None, float], sums: dict[str, float], method: Method,
                 validation: pd.DataFrame, evaluation: Evaluation, seconds: float) -> dict[str, Any]:
    correct = np.asarray(CLASSES)[evaluation.logits.argmax(1)] == validation["label"].to_numpy()
    masked = validation["masked"].to_numpy(dtype=bool)
    row: dict[str, Any] = {"epoch": epoch + 1, "lr_backbone": lrs.get("backbone"), "lr_head": lrs.get("head"),
                           "loss": sums["loss"] / sums["n"]}
    row.update({f"loss_{term}": sums[f"loss_{term}"] / sums["n"] for term in method.loss_terms})
    if method.gradient_ratio is not None:
        row["grad_ratio_" + "_".join(method.gradient_ratio)] = sums["grad_ratio"]
    row["train_acc"] = sums["correct"] / sums["seen"]
    row["val_acc_nm"] = float(correct[~masked].mean()) if (~masked).any() else None
    row["val_acc_m"] = float(correct[masked].mean()) if masked.any() else None
    row["seconds"] = round(seconds, 2)
    return row
