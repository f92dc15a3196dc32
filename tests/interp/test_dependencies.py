"""The analysis cache's code key: every project module a step imports, found from source."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from interp import dependencies
from interp.dependencies import code_digest, project_modules
from interp.runs import open_run
from interp.steps.tables import TablesStep


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A project-like package: a step imports a helper that imports (inside a function) a deep module,
    and a package registry whose plugins are imported when it is read."""
    _write(tmp_path, {
        "proj/__init__.py": "",
        "proj/steps/__init__.py": 'from proj.registry import Registry\nSTEPS = Registry("step", package=__name__)\n',
        "proj/steps/first.py": "from proj.steps import STEPS\nfrom . import helper_free\nfrom proj.helper import go\n",
        "proj/steps/helper_free.py": "VALUE = 1\n",
        "proj/steps/second.py": "from proj.steps import STEPS\n",
        "proj/helper.py": "import json\n\ndef go():\n    from proj.deep.util import work\n    return work()\n",
        "proj/deep/__init__.py": "",
        "proj/deep/util.py": "from ..plugins import PLUGINS\n\ndef work():\n    return 1\n",
        "proj/plugins/__init__.py": 'from proj.registry import Registry\nPLUGINS = Registry("p", package="proj.plugins", skip=("base",))\n',
        "proj/plugins/base.py": "",
        "proj/plugins/alpha.py": "from proj.plugins.base import *\n",
        "proj/registry.py": "class Registry:\n    pass\n",
        "proj/unrelated.py": "X = 1\n",
    })
    return tmp_path


def test_the_import_graph_is_followed_through_functions_relative_imports_and_registries(tree):
    found = project_modules("proj.steps.first", tree, ("proj",))
    assert list(found) == [
        "proj", "proj.deep", "proj.deep.util", "proj.helper", "proj.plugins", "proj.plugins.alpha",
        "proj.plugins.base", "proj.registry", "proj.steps", "proj.steps.first", "proj.steps.helper_free",
    ]  # not proj.unrelated, nor the sibling step proj.steps.second
    assert found["proj.deep"] == tree / "proj" / "deep" / "__init__.py"
    with pytest.raises(ValueError, match="no source file"):
        project_modules("proj.missing", tree, ("proj",))


def test_an_indirect_edit_changes_the_digest_and_an_unrelated_one_does_not(tree):
    before = code_digest("proj.steps.first", tree, ("proj",))
    assert code_digest("proj.steps.first", tree, ("proj",)) == before  # deterministic
    (tree / "proj" / "unrelated.py").write_text("X = 2\n")
    (tree / "proj" / "steps" / "second.py").write_text("Y = 2\n")
    assert code_digest("proj.steps.first", tree, ("proj",)) == before
    (tree / "proj" / "deep" / "util.py").write_text("from ..plugins import PLUGINS\n\ndef work():\n    return 2\n")
    assert code_digest("proj.steps.first", tree, ("proj",)) != before
    after_util = code_digest("proj.steps.first", tree, ("proj",))
    (tree / "proj" / "plugins" / "alpha.py").write_text("Z = 3\n")
    assert code_digest("proj.steps.first", tree, ("proj",)) != after_util


def test_real_steps_cover_the_modules_the_hand_kept_lists_missed():
    attributions = project_modules("interp.steps.attributions")
    assert {"interp.stats.fold_tests", "interp.stats.multiple", "trainers.data.cache", "trainers.models",
            "interp.regions.areas.eyes", "trainers.data.landmarks", "interp.attribution.gradcam"} <= set(attributions)
    tables = project_modules("interp.steps.tables")
    assert {"interp.tables", "interp.plots", "interp.runs", "interp.steps.base", "trainers.common.errors"} <= set(tables)
    assert not any(name.startswith(("interp.steps.stats", "interp.audit", "trainers.data.demo")) for name in tables)


def _project_copy(target: Path) -> Path:
    for package in dependencies.PROJECT_PACKAGES:
        source = dependencies.PROJECT_ROOT / package
        if source.is_dir():
            shutil.copytree(source, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_editing_an_indirectly_imported_module_changes_the_step_fingerprint(known_run, tmp_path, monkeypatch):
    # interp.analyze reruns a step exactly when its fingerprint's input_hash changes (test_analyze).
    step = TablesStep()
    run, config = open_run(known_run), step.Config()
    before = step.fingerprint(run, config)["input_hash"]
    copy = _project_copy(tmp_path / "src")
    monkeypatch.setattr(dependencies, "PROJECT_ROOT", copy)
    assert step.fingerprint(run, config)["input_hash"] == before  # the same code, elsewhere
    manifest = copy / "trainers" / "data" / "manifest.py"  # tables -> interp.runs -> trainers.data.manifest
    manifest.write_text(manifest.read_text() + "\n# an edit\n")
    assert step.fingerprint(run, config)["input_hash"] != before
