"""The project modules a module runs, found from source code, and a digest of their source.

The analysis cache (:mod:`interp.steps.base`) keys a step's outputs on the code that computes them:
every project module (``trainers``, ``interp``, ``reports``) that importing the step's module
runs, directly or through other modules. The graph is read from the source files with :mod:`ast`,
never by importing them, so it is deterministic, covers imports inside functions, and costs
milliseconds. A module's dependencies are:

- every project module named by an ``import`` or ``from ... import`` statement anywhere in it
  (``from a import b`` adds ``a``, and ``a.b`` when that is a module);
- the packages above each module (importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__``);
- the plugin modules of a :class:`trainers.common.registry.Registry` it creates with a ``package``
  (they are imported when the registry is read), except for a plugin's own sibling plugins: a
  step is one plugin of the step registry and does not run the other steps.

Dynamic imports of computed names (``importlib.import_module(variable)``) are not seen; project
code loads plugins only through the registry.
"""

from __future__ import annotations

import ast
import hashlib
import pkgutil
from pathlib import Path

PROJECT_PACKAGES: tuple[str, ...] = ("trainers", "interp", "reports")
"""Top-level packages whose modules count as project code."""
PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The folder holding the project packages."""


def project_modules(module: str, root: Path | None = None,
                    packages: tuple[str, ...] = PROJECT_PACKAGES) -> dict[str, Path]:
    """Every project module that importing ``module`` runs, with its source file, sorted by name.

    Parameters
    ----------
    module
        Dotted name of a project module (``"interp.steps.tables"``).
    root
        Folder holding the top-level packages; default :data:`PROJECT_ROOT`.
    packages
        Top-level package names that count as project code.

    Raises
    ------
    ValueError
        When ``module`` has no source file under ``root``.
    """
    root = PROJECT_ROOT if root is None else Path(root)
    if _source(module, root) is None:
        raise ValueError(f"module {module!r} has no source file under {root}")
    found: dict[str, Path] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        path = _source(name, root) if name not in found else None
        if path is None:
            continue
        found[name] = path
        parts = name.split(".")
        pending.extend(".".join(parts[:end]) for end in range(1, len(parts)))
        pending.extend(_dependencies(name, path, root, packages, module))
    return dict(sorted(found.items()))


def code_digest(module: str, root: Path | None = None, packages: tuple[str, ...] = PROJECT_PACKAGES) -> str:
    """SHA-256 over the names and source bytes of :func:`project_modules` of ``module``."""
    digest = hashlib.sha256()
    for name, path in project_modules(module, root, packages).items():
        digest.update(f"{name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _source(name: str, root: Path) -> Path | None:
    """``root/a/b.py`` or ``root/a/b/__init__.py`` for ``a.b``; ``None`` when neither exists."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def import_graph(root: Path | None = None, packages: tuple[str, ...] = PROJECT_PACKAGES,
                 module_level_only: bool = False) -> dict[str, set[str]]:
    """The direct imports between the modules of ``packages``: module -> the modules it names.

    The edges are the ``import`` statements of each file, read as :func:`project_modules` reads them
    (``from a import b`` names ``a``, and ``a.b`` when that is a module), restricted to modules that
    have a source file. Unlike :func:`project_modules` it adds neither the parent packages nor a
    registry's plugins: the graph says which file names which, the shape the import rules of
    ``tests/test_architecture.py`` are written in.

    Parameters
    ----------
    root
        Folder holding the top-level packages; default :data:`PROJECT_ROOT`.
    packages
        Top-level package names whose modules are the graph's nodes.
    module_level_only
        Only the imports that run when the module is imported (statements outside functions);
        by default also the imports inside functions, which run when the function is called.
    """
    root = PROJECT_ROOT if root is None else Path(root)
    modules: dict[str, Path] = {}
    for top in packages:
        for path in sorted((root / top).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_bytes(), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for base, members in _imports(tree, package, module_level_only):
            submodules = {f"{base}.{member}" for member in members} & set(modules)
            targets |= submodules
            if not members or len(submodules) < len(members):  # a name defined in ``base`` itself
                targets.add(base)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def _imports(tree: ast.AST, package: str, module_level_only: bool = False) -> list[tuple[str, list[str]]]:
    """Each import of ``tree`` as (absolute module, names imported from it): ``import a.b`` is
    ``("a.b", [])``, ``from a import b, c`` is ``("a", ["b", "c"])``."""
    found: list[tuple[str, list[str]]] = []
    for node in _walk(tree, module_level_only):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((_absolute(node, package), [alias.name for alias in node.names if alias.name != "*"]))
    return found


def _imported_names(tree: ast.AST, package: str) -> list[str]:
    """Every dotted name the import statements of ``tree`` name (absolute; ``from a import b``: a, a.b)."""
    names: list[str] = []
    for base, members in _imports(tree, package):
        names.append(base)
        names += [f"{base}.{member}" for member in members]
    return names


def _walk(tree: ast.AST, module_level_only: bool) -> list[ast.AST]:
    """All nodes of ``tree``, or only those outside function bodies."""
    if not module_level_only:
        return list(ast.walk(tree))
    nodes, pending = [], [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))
    return nodes


def _dependencies(name: str, path: Path, root: Path, packages: tuple[str, ...], start: str) -> list[str]:
    """Project modules named in the imports and package registries of one module's source."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = _imported_names(tree, package)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node.func) == "Registry":
            names += _registry_plugins(node, name, root, start)
    return [n for n in names if n.split(".")[0] in packages]


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _registry_plugins(call: ast.Call, name: str, root: Path, start: str) -> list[str]:
    """Plugin modules of ``Registry(..., package=..., skip=(...))`` created in module ``name``."""
    options = {keyword.arg: keyword.value for keyword in call.keywords}
    target = options.get("package")
    if isinstance(target, ast.Name) and target.id == "__name__":
        package = name
    elif isinstance(target, ast.Constant) and isinstance(target.value, str):
        package = target.value
    else:
        return []
    if start.rpartition(".")[0] == package:
        return []  # the module being fingerprinted is one of these plugins; its siblings do not run
    try:
        skipped = set(ast.literal_eval(options["skip"])) if "skip" in options else set()
    except ValueError:  # skip computed at run time: count every module
        skipped = set()
    folder = root.joinpath(*package.split("."))
    return [f"{package}.{info.name}" for info in pkgutil.iter_modules([str(folder)]) if info.name not in skipped]
