"""The project's imports as a graph of full module names, read from the source with ast (nothing is imported).

Every import counts: at module level, inside functions, under `if TYPE_CHECKING:`; relative imports are
resolved against the importing module's package, so `from ..training import corpus` in engine/bench/x.py is
`engine.training.corpus`. `from P import name` is an edge to the module `P.name` when that module exists, and
to `P` (its __init__) when `name` is something P defines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator


@dataclass(frozen=True)
class Import:
    """One import statement's target: `module` (full dotted name), where it is (file, line), `lazy` when the
    statement sits inside a function."""
    module: str
    path: Path
    line: int
    lazy: bool


def module_name(path: Path, root: Path) -> str:
    """`engine/bench/suites.py` -> "engine.bench.suites"; a package's __init__.py is the package's name."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def statements(tree: ast.AST) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement of a tree with whether it sits inside a function (lazy)."""
    def walk(node: ast.AST, lazy: bool):
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, lazy
            yield from walk(child, inner)
    yield from walk(tree, False)


def resolve_base(node: ast.ImportFrom, name: str, package: bool) -> str:
    """The absolute module a `from ... import` names, for a file whose module is `name`.

    ValueError when a relative import climbs above the top package (Python's own error)."""
    if node.level == 0:
        return node.module or ""
    here = name.split(".") if package else name.split(".")[:-1]
    if node.level - 1 > len(here) - 1:
        raise ValueError(f"{name}: relative import beyond the top-level package (level {node.level})")
    base = here[:len(here) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def file_imports(path: Path, root: Path, known: set[str]) -> list[Import]:
    """The resolved imports [I] of one file. `known`: every module name under `root` (to tell `from P import
    module` from `from P import function`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name, package = module_name(path, root), is_package(path)
    found = []
    for node, lazy in statements(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = resolve_base(node, name, package)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        found += [Import(t, path, node.lineno, lazy) for t in dict.fromkeys(targets) if t]
    return found


def python_files(root: Path, folders: Iterable[str]) -> list[Path]:
    return sorted(p for folder in folders for p in (root / folder).rglob("*.py") if "__pycache__" not in p.parts)


BUNDLED = {"addon.engine": "engine"}  # the extension zip puts the engine inside the add-on: `from . import engine`


def unbundled(module: str) -> str:
    """`addon.engine.motion` -> `engine.motion`: the add-on's view of the bundled engine is the engine."""
    for inside, real in BUNDLED.items():
        if module == inside or module.startswith(inside + "."):
            return real + module[len(inside):]
    return module


def project_imports(root: Path, folders: Iterable[str]) -> dict[str, list[Import]]:
    """{module name: its resolved imports} for every .py file under the given top-level folders of `root`."""
    files = python_files(root, folders)
    known = {module_name(p, root) for p in files} | set(BUNDLED)
    return {module_name(p, root): [Import(unbundled(i.module), i.path, i.line, i.lazy)
                                   for i in file_imports(p, root, known)] for p in files}


def owner(target: str, known: set[str]) -> str | None:
    """The longest module name in `known` that `target` is or lies inside (None: outside the project)."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return None


def sibling_graph(imports: dict[str, list[Import]], package: str) -> dict[str, dict[str, Import]]:
    """The graph among the direct children of `package` (its modules and subpackages, each subpackage one
    node with everything under it; the package's own __init__ a node named "__init__"): {child: {child it
    imports: the first import that says so}}. `__main__` modules are programs, left out as importers
    (`main_imports` checks that nothing imports them)."""
    def child(module: str) -> str | None:
        if module == package:
            return "__init__"
        if not module.startswith(package + "."):
            return None
        return module[len(package) + 1:].split(".")[0]

    known = set(imports)
    graph: dict[str, dict[str, Import]] = {}
    for module, found in imports.items():
        source = child(module)
        if source is None or module.endswith(".__main__"):
            continue  # a program (`python -m P`): nothing imports it, so it may compose any packages
        edges = graph.setdefault(source, {})
        for imp in found:
            target = owner(imp.module, known)
            target_child = None if target is None else child(target)
            if target_child not in (None, source):
                edges.setdefault(target_child, imp)
    return graph


def main_imports(imports: dict[str, list[Import]]) -> list[Import]:
    """Every import [I] of a `__main__` module: a program's entry point that something imports is a library."""
    return [imp for found in imports.values() for imp in found
            if imp.module == "__main__" or imp.module.endswith(".__main__")]


def cycles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted; sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def explain(graph: dict[str, dict[str, Import]], component: list[str], root: Path) -> str:
    """One line per edge inside a cycle: `a -> b (file:line, lazy)`, so a failure says where to cut."""
    lines = []
    for source in component:
        for target, imp in sorted(graph.get(source, {}).items()):
            if target in component:
                where = f"{imp.path.relative_to(root)}:{imp.line}{', inside a function' if imp.lazy else ''}"
                lines.append(f"  {source} -> {target} ({where})")
    return "\n".join(lines)
