"""An ONNX model exported elsewhere audits with flags only, no code: `python -m interp.audit model.onnx --data ...`
run as a user would (a subprocess, relative paths, from another working directory), and its predictions
equal the exported module's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import interp.results
from tests.audit_fixture import CLASS_NAMES, audit_data, tiny_cnn  # noqa: F401  (pytest fixture)
from trainers import rundir
from trainers.data.labels import CLASSES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_onnx_file_audits_from_the_command_line_with_flags_only(audit_data, tmp_path):  # noqa: F811
    model = tiny_cnn(seed=3)
    torch.onnx.export(model, (torch.zeros(1, 3, 32, 32),), tmp_path / "expressions.onnx", dynamo=False,
                      input_names=["image"], output_names=["scores"], dynamic_axes={"image": {0: "n"}})
    work = tmp_path / "elsewhere"
    work.mkdir()
    data = os.path.relpath(audit_data, work)
    command = [sys.executable, "-m", "interp.audit", "../expressions.onnx", "--data", data, "--out", "runs/onnx",
               "--input-size", "32", "--colour", "rgb", "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225",
               "--classes", ",".join(CLASS_NAMES), "--max-images", "8", "--no-sanity"]
    done = subprocess.run(command, check=False, cwd=work, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    run = work / "runs" / "onnx"
    assert "flip_rate" in done.stdout and str(Path("runs/onnx")) in done.stdout
    results = interp.results.load(run)
    assert results.arms == ["expressions"] and not results.missing_steps()
    record = results.audited()["arms"]["expressions"]
    assert record["card"]["format"] == "onnx" and record["model_sha256"] and record["layer"]["side"] == 8
    # the converted graph scores every image as the exported module does
    predictions = pd.read_csv(run / "expressions" / "fold-0" / rundir.PREDICTIONS_FILE)
    frozen = rundir.read_manifest(run).set_index("image_id").loc[predictions["image_id"]]
    assert len(frozen) == len(pd.read_csv(audit_data))
    order = [CLASS_NAMES.index(name) for name in ("surprised", "fearful", "disgusted", "happiness", "sadness",
                                                  "anger", "neutral")]
    from interp.external.card import ModelCard
    from trainers.data.cache import load_images
    from trainers.data.manifest import Manifest

    card = ModelCard(name="x", input_size=32, classes=list(CLASS_NAMES)).resolved()
    images = load_images(Manifest(frozen.reset_index(), run), 32)
    with torch.no_grad():
        expected = model(card.preprocess(np.asarray(images))).numpy()[:, order]
    stored = predictions[[f"logit_{name}" for name in CLASSES]].to_numpy()
    assert np.allclose(stored, expected, atol=1e-4)
    assert len(results.attention()) == 8 and len(results.mask_sensitivity("pairs")) == 21
