"""The benchmarks run (tiny settings; their figures are not checked, only that every row is measured)."""

from __future__ import annotations

import sys

import pytest

from benchmarks import cpu_steps


def test_cpu_steps_prints_every_model_and_configuration(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["cpu_steps", "--size", "40", "--batch", "2", "--steps", "1",
                                      "--models", "resnet18,scan-resnet18"])
    cpu_steps.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "40 px, batch 2, 1 timed steps, float32"
    assert "2 processes x 1 thread img/s" in lines[1]
    rows = {line.split()[0]: [float(value) for value in line.split()[1:]] for line in lines[2:]}
    assert set(rows) == {"resnet18", "scan-resnet18"}
    assert all(value > 0 for values in rows.values() for value in values)
    assert rows["resnet18"][-1] == 1.0  # the reference row's cost ratio
