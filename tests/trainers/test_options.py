"""The one option converter: text and typed values into option dataclasses, errors that name the option."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from trainers.common.errors import DataError
from trainers.common.options import build, parse_assignments


@dataclass
class Inner:
    rate: float = 0.1


@dataclass
class Example:
    count: int = 1
    flag: bool = True
    names: tuple[str, ...] = ("a",)
    numbers: list[int] | None = None
    kind: Literal["nm", "m"] = "nm"
    path: str | None = None
    inner: Inner = field(default_factory=Inner)

    def __post_init__(self) -> None:
        if self.count < 0:
            raise DataError(f"count must be >= 0, got {self.count}")


@pytest.mark.parametrize(("text", "value"), [("true", True), ("yes", True), ("1", True), ("false", False),
                                             ("off", False), ("0", False)])
def test_text_booleans(text: str, value: bool) -> None:
    assert build(Example, {"flag": text}, "x").flag is value


def test_text_is_parsed_into_the_field_types() -> None:
    example = build(Example, {"count": "32", "names": "b, c", "numbers": "4,5", "kind": "m", "path": "7"}, "x")
    assert example == Example(count=32, names=("b", "c"), numbers=[4, 5], kind="m", path="7")
    assert build(Example, {"names": ""}, "x").names == ()


@pytest.mark.parametrize(("values", "message"), [
    ({"flag": "ture"}, r"--set step: option 'flag' = 'ture': expected bool"),
    ({"count": "3.5"}, r"option 'count' = '3.5': expected int"),
    ({"count": "ten"}, r"option 'count' = 'ten': expected int"),
    ({"kind": "mix"}, r"option 'kind' = 'mix': expected one of 'nm', 'm'"),
    ({"numbers": "1,x"}, r"option 'numbers'.* expected list\[int\] \| None"),
    ({"cuont": "1"}, r"--set step: unknown option 'cuont'; options: count, flag, names, numbers, kind, path, inner"),
    ({"count": "-1"}, r"--set step: count must be >= 0, got -1"),
])
def test_bad_text_names_the_option_and_the_type(values: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        build(Example, values, "--set step")


@pytest.mark.parametrize(("values", "message"), [
    ({"count": True}, "option 'count' = True: expected int"),
    ({"count": 2.5}, "option 'count' = 2.5: expected int"),
    ({"flag": 1}, "option 'flag' = 1: expected bool"),
    ({"path": 5}, "option 'path' = 5: expected str | None"),
    ({"inner": {"rate": "fast"}}, "option 'inner': option 'rate' = 'fast': expected float"),
    ({"inner": {"rat": 1.0}}, "option 'inner': unknown option 'rat'; options: rate"),
])
def test_typed_values_are_checked_strictly(values: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        build(Example, values, "preset.toml")


def test_typed_values_and_nested_tables() -> None:
    example = build(Example, {"count": 3, "names": ["b"], "inner": {"rate": 1}, "numbers": None}, "x")
    assert example == Example(count=3, names=("b",), inner=Inner(rate=1.0))
    assert isinstance(example.inner.rate, float)
    dotted = {"inner.rate": "0.5"}
    assert build(Example, dotted, "x").inner == Inner(0.5) and dotted == {"inner.rate": "0.5"}


def test_parse_assignments() -> None:
    assert parse_assignments(["cl.feature_weight=0.5", "cl.normalise=false", "attributions.settings.steps=3=4"]) == {
        "cl": {"feature_weight": "0.5", "normalise": "false"}, "attributions": {"settings.steps": "3=4"}}
    for bad in ("cl=1", "feature_weight", ".x=1", "cl.=1"):
        with pytest.raises(DataError, match="expected NAME.OPTION=VALUE"):
            parse_assignments([bad])
