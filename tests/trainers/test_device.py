"""Device-aware training helpers: native bf16 detection and the autocast it gates."""

from __future__ import annotations

import torch

from trainers import loop
from trainers.device import native_bf16
from trainers.device import describe_device

CPU = torch.device("cpu")


def test_native_bf16_follows_the_cpu_flags():
    expected = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert native_bf16(CPU) is expected
    assert ("bf16 autocast" in describe_device(CPU)) is expected
    assert ("float32" in describe_device(CPU)) is not expected


def test_autocast_only_where_bf16_is_native(monkeypatch):
    monkeypatch.setattr(loop, "native_bf16", lambda device: False)
    with loop._autocast(CPU, True):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    monkeypatch.setattr(loop, "native_bf16", lambda device: True)
    with loop._autocast(CPU, True):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with loop._autocast(CPU, False):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
