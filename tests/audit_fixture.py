"""Audited studies, built once per test session, for the tests of ``interp.audit`` and of what reads its output
(``interp.results``, the report, the dashboard).

Tiny demo data (3 subjects, 64 px, 21 NM/M pairs with exact mask polygons), a small seeded CNN given to
:func:`interp.audit.audit_model` as an ``nn.Module`` (8 outputs named with synonyms and ``contempt``), the
whole analysis with t-SNE only and no sanity checks. ``audited_study`` is labelled; ``unlabelled_study``
audits the same images with every label cleared. Treat the run directories as read-only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

import trainers.cli
from interp.audit import audit_model
from interp.external.card import ModelCard

CLASS_NAMES = ["anger", "disgusted", "fearful", "happiness", "sadness", "surprised", "neutral", "contempt"]


def tiny_cnn(seed: int = 0, outputs: int = len(CLASS_NAMES)) -> nn.Module:
    """A seeded 3-conv network for 32-px RGB input (maps 32, 16, 8 px), a linear head."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, outputs)).eval()


def tiny_card(name: str = "tiny") -> ModelCard:
    return ModelCard(name=name, input_size=32, colour="rgb", classes=list(CLASS_NAMES))


def demo_manifest(root: Path) -> Path:
    """A tiny labelled demo dataset with NM/M pairs; returns its manifest."""
    assert trainers.cli.main(["data", "demo", "--out", str(root), "--subjects", "3", "--size", "64"]) == 0
    return root / "manifest.csv"


def unlabelled_copy(manifest: Path, target: Path) -> Path:
    """The manifest with every label cleared (paths rebased to stay valid)."""
    table = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    table["label"] = ""
    table["path"] = [str((manifest.parent / path).resolve()) for path in table["path"]]
    table["evidence"] = ""
    table.to_csv(target, index=False)
    return target


@pytest.fixture(scope="session")
def audit_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The labelled demo manifest the audited studies read."""
    return demo_manifest(tmp_path_factory.mktemp("audit-data") / "demo")


@pytest.fixture(scope="session")
def audited_study(audit_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run directory of the tiny CNN audited on the labelled demo pairs."""
    out = tmp_path_factory.mktemp("audited") / "tiny"
    return audit_model(tiny_cnn(), audit_data, tiny_card(), out, sanity=False, max_images=12)


@pytest.fixture(scope="session")
def unlabelled_study(audit_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run directory of the same CNN audited on the same pairs without labels."""
    folder = tmp_path_factory.mktemp("unlabelled")
    manifest = unlabelled_copy(audit_data, folder / "manifest.csv")
    return audit_model(tiny_cnn(), manifest, tiny_card(), folder / "run", sanity=False, max_images=12)
