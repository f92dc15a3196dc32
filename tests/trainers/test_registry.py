"""The one registry helper: registration, lookup errors that list the choices, lazy plugin import."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from trainers.common.errors import DataError
from trainers.common.registry import Registry


def test_register_and_lookup() -> None:
    colours: Registry[int] = Registry("colour")
    colours.add("red", 1)

    @colours.register("shout")
    def shout(text: str) -> str:
        return text.upper()

    assert colours["red"] == 1 and colours["shout"]("a") == "A"
    assert sorted(colours) == ["red", "shout"] and len(colours) == 2 and "red" in colours
    assert colours.get("blue") is None and colours.get("red") == 1
    with pytest.raises(DataError, match=r"unknown colour 'blue'; choose one of: red, shout"):
        colours["blue"]


def test_register_uses_name_attribute_and_refuses_a_second_owner() -> None:
    things: Registry[type] = Registry("thing")

    @things.register()
    class Named:
        name = "named"

    assert things["named"] is Named
    things.register()(Named)  # the same class again (a module reloaded) replaces itself
    with pytest.raises(ValueError, match="registered twice"):
        things.add("named", int)
    with pytest.raises(ValueError, match="needs a name"):
        things.register()(object)


def test_plugin_modules_import_on_first_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "regplugins"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent("""
        from trainers.common.registry import Registry
        PLUGINS = Registry("plugin", package=__name__, skip=("base",))
    """))
    (package / "base.py").write_text("raise RuntimeError('base is not a plugin')\n")
    for name in ("alpha", "beta"):
        (package / f"{name}.py").write_text(f"from regplugins import PLUGINS\nPLUGINS.add({name!r}, {name!r})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from regplugins import PLUGINS  # type: ignore[import-not-found]

    assert "regplugins.alpha" not in sys.modules
    assert PLUGINS.module_names() == ["alpha", "beta"]
    PLUGINS.load(["beta"])
    assert "regplugins.beta" in sys.modules and "regplugins.alpha" not in sys.modules
    assert sorted(PLUGINS) == ["alpha", "beta"]
    for name in [m for m in sys.modules if m.startswith("regplugins")]:
        monkeypatch.delitem(sys.modules, name)


def test_a_plugin_that_fails_to_import_fails_every_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "regbroken"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from trainers.common.registry import Registry\nPLUGINS = Registry('plugin', __name__)\n")
    (package / "good.py").write_text("from regbroken import PLUGINS\nPLUGINS.add('good', 1)\n")
    (package / "typo.py").write_text("import no_such_module_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from regbroken import PLUGINS  # type: ignore[import-not-found]

    for _ in range(2):  # never a silently partial registry
        with pytest.raises(ModuleNotFoundError, match="no_such_module_here"):
            list(PLUGINS)
    for name in [m for m in sys.modules if m.startswith("regbroken")]:
        monkeypatch.delitem(sys.modules, name)
