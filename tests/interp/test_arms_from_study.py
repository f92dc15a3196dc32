"""interp reads what an arm is from study.json, never from the trainers' method registry (issue 21)."""

from __future__ import annotations

import ast
from pathlib import Path

import interp

FORBIDDEN = "trainers.methods"


def _imports(path: Path) -> set[str]:
    """Every module a file imports (module level or inside functions), as dotted names."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_nothing_in_interp_imports_the_method_registry():
    root = Path(interp.__file__).parent
    offenders = {str(path.relative_to(root.parent)): sorted(name for name in _imports(path)
                                                             if name == FORBIDDEN or name.startswith(FORBIDDEN + "."))
                 for path in sorted(root.rglob("*.py"))}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_such_an_import(tmp_path: Path):
    for line in ("from trainers.methods import arm_names", "import trainers.methods.base",
                 "def f():\n    from trainers import methods"):
        module = tmp_path / "m.py"
        module.write_text(line + "\n")
        assert any(name == FORBIDDEN or name.startswith(FORBIDDEN + ".") for name in _imports(module)), line
