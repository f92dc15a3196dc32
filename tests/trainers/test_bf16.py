"""The bf16 path on a CPU that runs bf16 natively (AVX-512 BF16 or AMX): autocast is taken, recorded in
study.json, and a rerun at the same number of torch threads gives byte-identical predictions (the README's
reproducibility condition). Skipped, with the reason, where the CPU has no native bf16."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trainers import rundir
from trainers.config import load_preset, override
from trainers.device import native_bf16
from trainers.runner import run_study

pytestmark = pytest.mark.skipif(not native_bf16(torch.device("cpu")),
                                reason="this CPU has no native bf16 (AVX-512 BF16 or AMX): training stays float32")


def _predictions(manifest: Path, out: Path, bf16: bool) -> bytes:
    config = override(load_preset("smoke"), epochs=1, folds=[0], bf16=bf16)
    run_study(manifest, config, "smoke", ["baseline-nm"], out, device="cpu")
    assert rundir.read_study(out)["precision"] == ("bf16" if bf16 else "float32")
    return (rundir.fold_dir(out, "baseline-nm", 0) / rundir.PREDICTIONS_FILE).read_bytes()


def test_bf16_training_is_taken_and_reproducible_at_a_fixed_thread_count(tiny_manifest: Path, tmp_path: Path):
    assert torch.get_num_threads() == 1  # tests/conftest.py: the condition under which reruns are identical
    first = _predictions(tiny_manifest, tmp_path / "bf16-a", bf16=True)
    assert _predictions(tiny_manifest, tmp_path / "bf16-b", bf16=True) == first
    assert _predictions(tiny_manifest, tmp_path / "float32", bf16=False) != first
