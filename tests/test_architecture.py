"""The import rules of docs/architecture.md, checked over the import graph the analysis cache reads.

The graph is :func:`interp.dependencies.import_graph`: which project file names which, read from the
source with :mod:`ast`. Two readings of it:

- the layer rules count every import, also those inside functions: a deferred import is still a
  dependency on the layer it names (it runs when the function is called);
- the no-circle rule counts only the imports that run when a module is imported (outside functions):
  a circle among those makes import order matter; a function-local import cannot, and is the
  documented way to defer a heavy optional dependency.

Each rule is shown to fail: on a synthetic tree and on a copy of the real tree with one forbidden
import added.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from interp.dependencies import PROJECT_ROOT, import_graph

PACKAGES: tuple[str, ...] = ("trainers", "interp", "dashboards", "reports")
"""The layered packages (benchmarks and tests may import anything)."""

LAYERS: tuple[tuple[str, str], ...] = (
    ("trainers.common", "kernel"),
    ("trainers.data", "data"),
    ("trainers.models", "models"),
    ("trainers.rundir", "run directory"),
    ("trainers", "training"),
    ("interp", "analysis"),
    ("dashboards", "dashboard"),
    ("reports", "report"),
)
"""Module prefix -> layer, first match wins (so ``trainers`` is what is left: runner, loop, methods, ...)."""

FORBIDDEN: dict[str, frozenset[str]] = {
    "kernel": frozenset({"data", "models", "run directory", "training", "analysis", "dashboard", "report"}),
    "data": frozenset({"run directory", "training", "analysis", "dashboard", "report"}),
    "models": frozenset({"training", "analysis", "dashboard", "report"}),
    "run directory": frozenset({"models", "training", "analysis", "dashboard", "report"}),
    "training": frozenset({"analysis", "dashboard", "report"}),
    "analysis": frozenset({"training", "dashboard"}),
    "dashboard": frozenset({"training"}),
    "report": frozenset({"analysis", "dashboard", "training"}),
}
"""Layer -> the layers it must never import. The flow is one way: dataset -> manifest -> run directory
-> analysis -> dashboard / report; the kernel is below everything."""


def layer(module: str) -> str:
    """The layer of a dotted module name (:data:`LAYERS`)."""
    for prefix, name in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return name
    raise ValueError(f"{module}: in no layer of tests/test_architecture.py; add its package to LAYERS")


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """``"a -> b (layer x imports layer y)"`` for every edge of ``graph`` that :data:`FORBIDDEN` forbids."""
    found = []
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            if layer(target) in FORBIDDEN[layer(source)]:
                found.append(f"{source} -> {target} ({layer(source)} imports {layer(target)})")
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of two or more modules (Tarjan), each sorted: every circle lies in one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


# -- the real tree -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_graph() -> dict[str, set[str]]:
    """Every import of the project's files, inside functions too."""
    return import_graph(packages=PACKAGES)


def test_every_module_is_in_a_layer(real_graph: dict[str, set[str]]) -> None:
    assert len(real_graph) > 100
    assert {"trainers.common.errors", "interp.results", "reports.document", "dashboards.app"} <= set(real_graph)
    assert all(layer(module) for module in real_graph)


def test_the_tree_keeps_the_layer_rules(real_graph: dict[str, set[str]]) -> None:
    assert layer_violations(real_graph) == []


def test_the_tree_has_no_import_circles() -> None:
    assert circles(import_graph(packages=PACKAGES, module_level_only=True)) == []


# -- the rules fail when a forbidden import is added -------------------------------------------------
def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_rules_catch_forbidden_imports_in_a_synthetic_tree(tmp_path: Path) -> None:
    _write(tmp_path, {
        "trainers/__init__.py": "",
        "trainers/common/__init__.py": "",
        "trainers/common/errors.py": "class DataError(ValueError):\n    pass\n",
        "trainers/data/__init__.py": "",
        "trainers/data/manifest.py": "from trainers.common.errors import DataError\n",
        "trainers/runner.py": "from trainers.data import manifest\n",
        "interp/__init__.py": "",
        "interp/results.py": "from ..trainers.data.manifest import DataError\n",
        "reports/__init__.py": "",
        "reports/document.py": "def build():\n    from interp.results import DataError\n",  # inside a function
        "dashboards/__init__.py": "",
        "dashboards/app.py": "import interp.results\n",
    })
    graph = import_graph(tmp_path, PACKAGES)
    assert graph["trainers.runner"] == {"trainers.data.manifest"}  # `from package import module`: the module
    assert layer_violations(graph) == ["reports.document -> interp.results (report imports analysis)"]
    assert import_graph(tmp_path, PACKAGES, module_level_only=True)["reports.document"] == set()
    _write(tmp_path, {"trainers/common/errors.py": "from trainers.runner import manifest\n"})
    assert "trainers.common.errors -> trainers.runner (kernel imports training)" in layer_violations(
        import_graph(tmp_path, PACKAGES))
    assert circles(import_graph(tmp_path, PACKAGES, module_level_only=True)) == [
        ["trainers.common.errors", "trainers.data.manifest", "trainers.runner"]]


FORBIDDEN_LINES: tuple[tuple[str, str, str], ...] = (
    ("trainers/common/errors.py", "from trainers.data.labels import CLASSES",
     "trainers.common.errors -> trainers.data.labels (kernel imports data)"),
    ("trainers/data/manifest.py", "from trainers.rundir import fold_dir",
     "trainers.data.manifest -> trainers.rundir (data imports run directory)"),
    ("trainers/models/__init__.py", "from trainers.runner import run_study",
     "trainers.models -> trainers.runner (models imports training)"),
    ("trainers/loop.py", "def later():\n    from interp.results import load",
     "trainers.loop -> interp.results (training imports analysis)"),
    ("interp/results.py", "import dashboards.app", "interp.results -> dashboards.app (analysis imports dashboard)"),
    ("interp/tables.py", "from trainers.methods import ARMS",
     "interp.tables -> trainers.methods (analysis imports training)"),
    ("reports/document.py", "from interp import results",
     "reports.document -> interp.results (report imports analysis)"),
)
"""(file, line appended to it, the violation it must cause): one per rule."""


def test_forbidden_imports_added_to_a_copy_of_the_real_tree_fail(tmp_path: Path) -> None:
    for package in PACKAGES:  # the Python sources only
        shutil.copytree(PROJECT_ROOT / package, tmp_path / package, ignore=lambda folder, names: [
            name for name in names if not name.endswith(".py") and not (Path(folder) / name).is_dir()
            or name == "__pycache__"])
    before = set(layer_violations(import_graph(tmp_path, PACKAGES)))
    circles_before = circles(import_graph(tmp_path, PACKAGES, module_level_only=True))
    for file, line, _ in FORBIDDEN_LINES:
        path = tmp_path / file
        path.write_text(path.read_text() + "\n" + line + "\n")
    labels = tmp_path / "trainers" / "data" / "labels.py"  # a circle: manifest imports labels
    labels.write_text(labels.read_text() + "\nfrom trainers.data.manifest import Manifest\n")
    after = set(layer_violations(import_graph(tmp_path, PACKAGES)))
    assert after - before == {expected for _, _, expected in FORBIDDEN_LINES}
    new_circles = [group for group in circles(import_graph(tmp_path, PACKAGES, module_level_only=True))
                   if group not in circles_before]
    assert any({"trainers.data.labels", "trainers.data.manifest"} <= set(group) for group in new_circles)
