"""The device-aware parts of training: determinism, where the image cache lives, ``torch.compile``.

The same training code runs on a CPU and on a GPU; these helpers decide what differs. On CUDA the
uint8 cache is copied to the device when it takes at most :data:`DEVICE_CACHE_FRACTION` of the free
device memory, so batches are gathered, augmented and normalised there; a larger cache stays on the
host in pinned (page-locked) memory and each batch is copied over asynchronously.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import torch
from torch import nn

from trainers.common.errors import DataError

log = logging.getLogger(__name__)

DEVICE_CACHE_FRACTION = 0.5
"""Largest share of the free device memory the image cache may take on the device."""


def configure_determinism() -> None:
    """Deterministic kernels where torch has them (a rerun gives the same numbers); no cuDNN autotuning."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def cache_fits(nbytes: int, free_bytes: int, fraction: float = DEVICE_CACHE_FRACTION) -> bool:
    """Whether a cache of ``nbytes`` goes on a device with ``free_bytes`` free."""
    return nbytes <= fraction * free_bytes


def place_images(images: np.ndarray, device: torch.device, pinned: bool | None = None) -> np.ndarray | torch.Tensor:
    """The image cache where training reads it on ``device``.

    Parameters
    ----------
    images
        The uint8 cache ``(N, S, S, 3)`` (memory-mapped).
    device
        The training device.
    pinned
        On CUDA: ``True`` keeps the cache in pinned host memory, ``False`` puts it on the device,
        ``None`` (default) decides with :func:`cache_fits`.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``images`` unchanged on a CPU; a device tensor, or a pinned host tensor, on CUDA.
    """
    if device.type != "cuda":
        return images
    if pinned is None:
        free, _ = torch.cuda.mem_get_info(device)
        pinned = not cache_fits(images.nbytes, free)
    host = torch.from_numpy(np.array(images))
    if pinned:
        log.info("image cache (%.1f GB) kept in pinned host memory", images.nbytes / 1e9)
        return host.pin_memory()
    return host.to(device)


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` runs bfloat16 natively: a CUDA GPU with bf16 support, or a CPU with AVX-512 BF16
    or AMX. Elsewhere torch emulates bf16 autocast, which measured 10-30x slower than float32 on an
    AVX2-only CPU, so training keeps float32 there (``TrainConfig.bf16`` means "where it is native")."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return False


def compile_trunk(model: nn.Module) -> nn.Module:
    """``torch.compile`` the model's ``features`` (the convolutional trunk that ``forward``, ``embed``
    and the feature losses go through), in place; parameters and ``state_dict`` keys are unchanged."""
    model.features = torch.compile(model.features)
    return model


def resolve_device(name: str | None) -> torch.device:
    """``cuda`` when available and ``name`` is ``None``; else the named device."""
    if name is None:
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DataError("--device cuda: no CUDA device is available here; use --device cpu")
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """``cuda (<GPU name>, ...)`` or ``cpu (<n> threads, ...)`` with whether bf16 is native, as
    ``study.json`` records the device (a bf16 config trains in float32 where it is not)."""
    precision = "bf16 autocast" if native_bf16(device) else "float32, no native bf16"
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)}, {precision})"
    return f"cpu ({torch.get_num_threads()} threads, {precision})"
