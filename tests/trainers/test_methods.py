"""Training methods: the CL loss formula, and a few steps of each method lower its loss."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from trainers.augment import normalise, to_float
from trainers.config import load_preset
from trainers.data.cache import load_images
from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest
from trainers.methods import ARMS, arm_names, create_method
from trainers.loop import gradient_norm_ratio
from trainers.methods.base import Batch, Method
from trainers.models import create

OUR_MODELS = [*arm_names("baseline"), *arm_names("ours"), *arm_names("ablation")]


def _batch(method: Method, manifest: Manifest, size: int, n: int = 8) -> Batch:
    images = load_images(manifest, size)
    train = method.training_set(manifest.table)
    rows = train.rows[:n]
    views = [normalise(to_float(torch.from_numpy(np.array(images[rows[:, v]])))) for v in range(rows.shape[1])]
    return Batch(views, torch.as_tensor(train.labels[:n]))


def test_arm_registry_orders_arms_by_role() -> None:
    assert arm_names("baseline") == ["baseline-nm", "baseline-m", "baseline-mix", "baseline-pe"]
    assert arm_names("ours") == ["cl", "kd"] and arm_names("reference") == ["ran", "scan"]
    assert arm_names("ablation") == ["cl-ce", "kd-ce"]
    assert arm_names() == [*OUR_MODELS, *arm_names("reference")] and set(arm_names()) == set(ARMS)


def test_subsets(tiny_manifest: Path) -> None:
    manifest = Manifest.load(tiny_manifest)
    config = load_preset("smoke")
    table = manifest.table
    nm = create_method("baseline-nm", config).training_set(table)
    m = create_method("baseline-m", config).training_set(table)
    mix = create_method("baseline-mix", config).training_set(table)
    assert not table.loc[nm.rows[:, 0], "masked"].any() and table.loc[m.rows[:, 0], "masked"].all()
    assert len(mix) == len(table) == len(nm) + len(m)
    pairs = create_method("cl", config).training_set(table)
    assert pairs.views == ("non-masked", "masked") and len(pairs) == len(table) // 2
    first, second = table.loc[pairs.rows[:, 0]], table.loc[pairs.rows[:, 1]]
    assert (~first["masked"]).all() and second["masked"].all()
    assert (first["pair_id"].to_numpy() == second["pair_id"].to_numpy()).all()
    assert (first["label"].to_numpy() == second["label"].to_numpy()).all()


def test_baseline_pe_trains_on_both_images_of_complete_pairs_only(tiny_manifest: Path) -> None:
    table = Manifest.load(tiny_manifest).table
    masked_row = table.index[table["masked"]][0]
    table.loc[masked_row, "label"] = "happy" if table.loc[masked_row, "label"] != "happy" else "sad"
    pe = create_method("baseline-pe", load_preset("smoke")).training_set(table)
    broken = table.loc[masked_row, "pair_id"]
    assert pe.views == ("image",) and len(pe) == len(table) - 2
    assert broken not in set(table.loc[pe.rows[:, 0], "pair_id"])
    assert (np.asarray(CLASSES)[pe.labels] == table.loc[pe.rows[:, 0], "label"].to_numpy()).all()


def test_pairs_with_different_labels_are_left_out(tiny_manifest: Path) -> None:
    table = Manifest.load(tiny_manifest).table
    masked_row = table.index[table["masked"]][0]
    table.loc[masked_row, "label"] = "happy" if table.loc[masked_row, "label"] != "happy" else "sad"
    pairs = create_method("cl", load_preset("smoke")).training_set(table)
    assert len(pairs) == len(table) // 2 - 1 and masked_row not in pairs.rows


def test_contrastive_loss_equals_the_formula() -> None:
    torch.manual_seed(0)
    config = dataclasses.replace(load_preset("smoke"), methods={"cl": {"feature_weight": 0.3, "ce_weight": 0.7}})
    method = create_method("cl", config)
    model = create("resnet18", num_classes=7).eval()
    nm, m = torch.randn(3, 3, 32, 32), torch.randn(3, 3, 32, 32)
    labels = torch.tensor([0, 3, 6])
    step = method.training_step(model, Batch([nm, m], labels))
    fn, fm = model.features(nm), model.features(m)
    fn, fm = fn / fn.norm(dim=1, keepdim=True), fm / fm.norm(dim=1, keepdim=True)
    mse = ((fn - fm) ** 2).mean()
    expected = 0.3 * mse + 0.7 * (F.cross_entropy(model(nm), labels) + F.cross_entropy(model(m), labels))
    assert torch.allclose(step.loss, expected, atol=1e-5)
    assert torch.allclose(step.terms["feature"], mse, atol=1e-6)
    assert step.logits.shape == (6, 7) and step.targets.tolist() == [0, 3, 6, 0, 3, 6]


def test_cl_ce_has_zero_feature_loss_and_cl_a_positive_gradient_ratio() -> None:
    config = load_preset("smoke")
    nm, m = torch.randn(3, 3, 32, 32), torch.randn(3, 3, 32, 32)
    labels = torch.tensor([0, 3, 6])
    ratios = {}
    for name in ("cl", "cl-ce"):
        torch.manual_seed(0)
        method = create_method(name, config)
        model = create("resnet18", num_classes=7).train()
        step = method.training_step(model, Batch([nm, m], labels))
        ratios[name] = gradient_norm_ratio(model, step.parts["feature"], step.parts["ce"])
        if name == "cl-ce":
            assert method.options.feature_weight == 0.0 and float(step.parts["feature"].detach()) == 0.0
            assert torch.equal(step.loss, step.parts["ce"])
            assert torch.allclose(step.loss, step.terms["ce_nm"] + step.terms["ce_m"])
    assert ratios["cl-ce"] == 0.0 and 0.0 < ratios["cl"] < 1.0


@pytest.mark.parametrize("name", OUR_MODELS)
def test_a_few_steps_lower_the_loss(name: str, tiny_manifest: Path) -> None:
    torch.manual_seed(0)
    config = load_preset("smoke")
    method = create_method(name, config)
    model = method.build_model(7)
    if name == "kd":
        method.teacher = create("resnet18", num_classes=7).eval().requires_grad_(False)
    optimizer, _ = method.configure_optimizers(model)
    batch = _batch(method, Manifest.load(tiny_manifest), size=32)
    model.train()
    losses = []
    for _ in range(6):
        torch.manual_seed(1)  # the same KD input choice every step
        step = method.training_step(model, batch)
        optimizer.zero_grad()
        step.loss.backward()
        optimizer.step()
        losses.append(float(step.loss.detach()))
    assert set(step.terms) == set(method.loss_terms)
    assert losses[-1] < losses[0]
