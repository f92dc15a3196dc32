"""One converter from preset tables, command-line text and Python values to typed option dataclasses.

Every set of options in the suite is a dataclass: the study config (:class:`trainers.config.TrainConfig`),
each training method's ``Options``, each analysis step's ``Config``, each attribution method's
``Settings``. :func:`build` fills one from a mapping and checks it field by field with pydantic, so a
bad value is reported before anything runs or is written:

- an unknown option raises :class:`DataError` listing the options that exist;
- text (``--set`` values) is parsed into the field's type: ``"32"`` -> 32, ``"true"``/``"false"``/
  ``"yes"``/``"no"``/``"1"``/``"0"`` -> bool, ``"a,b"`` -> a list or tuple; anything else (``"ture"``,
  ``"3.5"`` for an integer) is an error naming the option and the expected type;
- typed values (TOML tables, Python callers) are checked strictly: ``epochs = true`` or ``epochs = 2.5``
  is an error, an integer where a float is expected is fine;
- a dotted key (``"optim.lr_head"``) or a nested table fills a nested dataclass or mapping;
- the dataclass's own ``__post_init__`` checks (choices such as ``subset``) run last and are reported
  with the same prefix.

:func:`parse_assignments` splits ``NAME.OPTION=VALUE`` command-line pairs (``--set``) for it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from trainers.common.errors import DataError

T = TypeVar("T")
_SEQUENCES = (list, tuple, set, frozenset)


def build(cls: type[T], values: Mapping[str, Any] | None, where: str) -> T:
    """An instance of the dataclass ``cls`` from ``values``, every field checked (see the module docstring).

    Parameters
    ----------
    cls
        A dataclass whose fields all have defaults (or are given in ``values``).
    values
        Option name -> value (text or typed); dotted names fill nested fields.
    where
        Prefix of error messages naming the table or flag, e.g. ``"[methods.cl]"``.

    Raises
    ------
    DataError
        Naming ``where``, the option, the value and the expected type or choices.
    """
    typed = parse_fields(cls, values, where)
    try:
        return cls(**typed)
    except (DataError, TypeError) as exc:  # a choice checked in __post_init__, a required field left out
        raise DataError(f"{where}: {exc}") from exc


def parse_fields(cls: type, values: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """The given ``values`` converted to the types of the fields of ``cls`` (no instance is made)."""
    values = _nest(values or {})
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(set(values) - set(names))
    if unknown:
        choices = ", ".join(names) if names else "none"
        raise DataError(f"{where}: unknown option {unknown[0]!r}; options: {choices}")
    return {name: convert(hints[name], value, f"{where}: option {name!r}") for name, value in values.items()}


def convert(hint: Any, value: Any, label: str) -> Any:
    """``value`` as type ``hint``: text is parsed, typed values are checked strictly."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if isinstance(value, hint):
            return value
        if isinstance(value, Mapping):
            return build(hint, value, label)
    try:
        if isinstance(value, str) and hint is not str:
            text: Any = [part.strip() for part in value.split(",") if part.strip()] if _is_sequence(hint) else value
            return _adapter(hint).validate_python(text)
        return _adapter(hint).validate_json(json.dumps(value, default=str), strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        place = "".join(f"[{part}]" for part in error["loc"])
        raise DataError(f"{label}{place} = {value!r}: expected {type_name(hint)} ({error['msg']})") from None


def type_name(hint: Any) -> str:
    """A short readable name of a type hint (``float``, ``list[int] | None``, ``one of 'a', 'b'``)."""
    if typing.get_origin(hint) is typing.Literal:
        return "one of " + ", ".join(repr(choice) for choice in typing.get_args(hint))
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    return str(hint).replace("typing.", "")


def parse_assignments(pairs: Sequence[str], form: str = "NAME.OPTION=VALUE") -> dict[str, dict[str, str]]:
    """``["NAME.OPTION=VALUE", ...]`` -> ``{NAME: {OPTION: VALUE}}`` (``OPTION`` may itself be dotted)."""
    parsed: dict[str, dict[str, str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        name, dot, option = key.strip().partition(".")
        if not sep or not dot or not name or not option:
            raise DataError(f"--set {pair!r}: expected {form}")
        parsed.setdefault(name, {})[option] = value
    return parsed


def _nest(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys as nested mappings: ``{"optim.lr": 1}`` -> ``{"optim": {"lr": 1}}`` (inputs not modified)."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        head, dot, rest = str(key).partition(".")
        if dot:
            value = {rest: value}
        if isinstance(value, Mapping) and isinstance(nested.get(head), dict):
            nested[head] = {**nested[head], **value}
        else:
            nested[head] = dict(value) if isinstance(value, Mapping) else value
    return nested


def _is_sequence(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(arg) for arg in typing.get_args(hint) if arg is not type(None))
    return origin in _SEQUENCES or hint in _SEQUENCES


@functools.lru_cache(maxsize=None)
def _adapter(hint: Any) -> TypeAdapter:
    return TypeAdapter(hint)
