"""The model card: class names and synonyms, JSON cards and flags, resolution, preprocessing, output kinds."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from interp.external.card import GREY_MEAN, IMAGENET_MEAN, ModelCard, ModelInfo, load_card
from interp.external.classes import map_classes
from interp.external.outputs import detect_output_kind, to_log_probabilities, to_probabilities
from trainers.common.errors import DataError
from trainers.data.labels import CLASSES


def test_synonyms_map_to_our_classes_and_contempt_is_kept() -> None:
    names = ["Anger", "FEARFUL", "disgusted", "Surprised", "sadness", "happiness", "neutral", "contempt"]
    assert map_classes(names) == ["angry", "fear", "disgust", "surprise", "sad", "happy", "neutral", "contempt"]
    assert map_classes(["joy", "scared", "calm"]) == ["happy", "fear", "neutral"]


def test_an_unknown_class_names_the_option_and_the_known_names() -> None:
    with pytest.raises(DataError, match=r"--classes.*'bored'.*angry.*contempt"):
        ModelCard(name="m", classes=["happy", "bored"])


def test_two_outputs_of_one_class_are_refused() -> None:
    with pytest.raises(DataError, match="more than once"):
        map_classes(["happy", "joy"])


def test_bad_choices_name_the_field() -> None:
    with pytest.raises(DataError, match="colour must be one of grey, rgb"):
        ModelCard(name="m", colour="gray")
    with pytest.raises(DataError, match="std must be positive"):
        ModelCard(name="m", std=(0.0,))


def test_json_card_then_flags_override_it(tmp_path) -> None:
    model = tmp_path / "net.onnx"
    model.write_bytes(b"")
    card_file = tmp_path / "card.json"
    card_file.write_text(json.dumps({"name": "lab", "model": "net.onnx", "input_size": 48, "colour": "grey",
                                     "classes": ["anger", "happiness", "neutral"], "licence": "CC-BY"}))
    card = load_card(card_file, input_size=96, mean="0.4", classes=None)
    assert card.model == str(tmp_path / "net.onnx")  # relative to the card file
    assert (card.input_size, card.colour, card.mean, card.licence) == (96, "grey", (0.4,), "CC-BY")
    assert card.output_classes() == ["angry", "happy", "neutral"]


def test_a_card_file_on_top_of_a_model_file(tmp_path) -> None:
    model = tmp_path / "net.onnx"
    model.write_bytes(b"")
    card_file = tmp_path / "card.json"
    card_file.write_text(json.dumps({"name": "lab", "classes": "sad,happy"}))
    card = load_card(model, card_file=card_file, colour="grey")
    assert (card.name, card.model, card.colour, card.classes) == ("lab", str(model), "grey", ["sad", "happy"])


def test_unknown_card_fields_and_missing_files_are_data_errors(tmp_path) -> None:
    bad = tmp_path / "card.json"
    bad.write_text(json.dumps({"name": "x", "size": 3}))
    with pytest.raises(DataError, match="unknown field.*size"):
        ModelCard.from_json(bad)
    with pytest.raises(DataError, match="no such file"):
        ModelCard.from_json(tmp_path / "none.json")
    with pytest.raises(DataError, match="no such file and no built-in card.*fer"):
        load_card(tmp_path / "none.onnx")


def test_resolved_fills_from_the_file_and_checks_it() -> None:
    card = ModelCard(name="m", classes=list(CLASSES))
    resolved = card.resolved(ModelInfo(input_size=32, n_outputs=7))
    assert (resolved.input_size, resolved.channels, resolved.mean) == (32, 3, IMAGENET_MEAN)
    grey = ModelCard(name="m", colour="grey", classes=list(CLASSES)).resolved(ModelInfo(input_size=32))
    assert (grey.channels, grey.mean) == (1, GREY_MEAN)
    with pytest.raises(DataError, match="--input-size"):
        card.resolved(ModelInfo())
    with pytest.raises(DataError, match="7 classes given .* 8 outputs"):
        card.resolved(ModelInfo(input_size=32, n_outputs=8))
    with pytest.raises(DataError, match="--classes"):
        ModelCard(name="m").resolved(ModelInfo(input_size=32))
    with pytest.raises(DataError, match="--colour grey"):
        card.resolved(ModelInfo(input_size=32, channels=1))
    assert json.loads(json.dumps(resolved.to_dict()))["mean"] == list(IMAGENET_MEAN)


def test_preprocess_resizes_converts_to_grey_and_normalises() -> None:
    card = ModelCard(name="m", colour="grey", input_size=4, channels=1, mean=(0.5,), std=(0.5,),
                     classes=list(CLASSES))
    images = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    images[0, ..., 0] = 255  # pure red: luma 0.299
    images[1] = 255
    batch = card.preprocess(images)
    assert batch.shape == (2, 1, 4, 4) and batch.dtype == torch.float32
    assert torch.allclose(batch[0], torch.full((1, 4, 4), (0.299 - 0.5) / 0.5), atol=1e-5)
    assert torch.allclose(batch[1], torch.ones(1, 4, 4), atol=1e-5)
    rgb = ModelCard(name="m", input_size=8, channels=3, mean=(0.0, 0.5, 1.0), std=(1.0, 1.0, 1.0))
    out = rgb.preprocess(np.full((1, 8, 8, 3), 255, dtype=np.uint8))
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([1.0, 0.5, 0.0]))
    with pytest.raises(DataError, match="resolved"):
        ModelCard(name="m").preprocess(images)


def test_output_kind_detection_and_probabilities() -> None:
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    probs = logits.softmax(1)
    assert detect_output_kind(probs) == "probs" and detect_output_kind(logits) == "logits"
    assert detect_output_kind(torch.tensor([[0.2, 0.2, 0.2]])) == "logits"  # in [0, 1] but not summing to 1
    auto = ModelCard(name="m")
    assert torch.allclose(to_probabilities(logits, auto), probs)
    assert torch.allclose(to_probabilities(probs, auto), probs)
    assert torch.allclose(to_log_probabilities(probs, auto), logits.log_softmax(1), atol=1e-5)
    forced = ModelCard(name="m", outputs="logits")
    assert torch.allclose(to_probabilities(probs, forced), probs.softmax(1))
