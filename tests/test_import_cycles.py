"""No import cycles: among the engine's packages, among the modules (and subpackages) of every engine
package, and among the add-on's modules. An import inside a function counts: it is still a dependency,
only a later one, and a cycle of them is two modules that cannot be understood (or moved) apart.

At each package the nodes are its direct children, a subpackage standing for everything under it, so
`engine.bench.x -> engine.training.y` is the edge bench -> training of the package `engine`. A failure
lists the edges of the cycle with the file and line of each import: cut one of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_graph import cycles, explain, main_imports, project_imports, sibling_graph

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = project_imports(ROOT, ["engine", "addon"])


def packages(root: Path = ROOT) -> list[str]:
    """Every package of the engine (engine itself included) and the add-on."""
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "engine").rglob("__init__.py")
             if "__pycache__" not in p.parts}
    return sorted(found | {"addon"})


def cycle_report(imports: dict, package: str, root: Path = ROOT) -> str:
    """'' when the children of `package` form no cycle; else each cycle and its edges."""
    graph = sibling_graph(imports, package)
    return "\n".join(f"{package}: {' <-> '.join(c)}\n{explain(graph, c, root)}" for c in cycles(graph))


@pytest.mark.parametrize("package", packages())
def test_no_import_cycle(package):
    report = cycle_report(IMPORTS, package)
    assert not report, "import cycle (cut one of these edges):\n" + report


def test_nothing_imports_a_program():
    """`__main__` modules are left out of the graphs as importers (a program may compose any packages):
    that holds only while nothing imports one."""
    assert not [f"{i.path.relative_to(ROOT)}:{i.line}" for i in main_imports(IMPORTS)]


def write(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_finds_the_cycles_it_must(tmp_path):
    """Lazy, relative and package-level cycles are found; a one-way package is not a cycle; a program
    (`__main__`) importing everything is none."""
    write(tmp_path, {
        "engine/__init__.py": "", "engine/__main__.py": "from .a import x\nfrom .b import y\n",
        "engine/a/__init__.py": "", "engine/a/x.py": "from ..b.y import f\n",
        "engine/b/__init__.py": "", "engine/b/y.py": "def g():\n    from engine.a import x\n",
        "engine/c/__init__.py": "from .p import P\n", "engine/c/p.py": "from . import q\n",
        "engine/c/q.py": "def h():\n    from .p import P\n",
        "engine/d/__init__.py": "from .r import R\n", "engine/d/r.py": "from . import helper\n",
        "engine/e/__init__.py": "", "engine/e/s.py": "from ..d import r\n",
        "addon/__init__.py": "from . import ops\n", "addon/ops.py": "from .engine import motion\n",
    })
    imports = project_imports(tmp_path, ["engine", "addon"])
    assert cycles(sibling_graph(imports, "engine")) == [["a", "b"]]  # b's lazy, absolute import counts
    assert cycles(sibling_graph(imports, "engine.c")) == [["p", "q"]]
    assert cycles(sibling_graph(imports, "engine.d")) == [["__init__", "r"]]  # `helper` is a name in d's __init__
    assert cycles(sibling_graph(imports, "engine.e")) == [] and cycles(sibling_graph(imports, "addon")) == []
    report = cycle_report(imports, "engine", tmp_path)
    assert "a -> b (engine/a/x.py:1)" in report and "b -> a (engine/b/y.py:2, inside a function)" in report
