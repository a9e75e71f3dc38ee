"""The shipped extension zip holds no code path into training or torch: build.py's zip drops training/ (and
the engine's bench, command line and evaluation, which nothing in Blender runs), so an import of any of them
(relative or absolute, inside a function or not) is code that fails inside Blender.

Every module of the zip is parsed with its imports resolved as Blender will see them (the zip's root is
the add-on package, the engine its subpackage); an import that lands inside the package must name a
module the zip has, and none may be torch or the engine's training package.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from tests.import_graph import project_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "talking_head"  # any name: Blender's is bl_ext.<repository>.talking_head
TORCH = ("torch", "torchaudio", "torchvision")


def zip_problems(extension: Path, where: Path) -> list[str]:
    """'file:line imports X (why)' for each import of the zip's Python modules that cannot run in Blender."""
    with zipfile.ZipFile(extension) as zf:
        for name in zf.namelist():
            if name.endswith(".py"):
                zf.extract(name, where / PACKAGE)
    imports = project_imports(where, [PACKAGE])
    known = set(imports)
    problems = []
    for found in imports.values():
        for imp in found:
            why = import_problem(imp.module, known)
            if why:
                problems.append(f"{imp.path.relative_to(where / PACKAGE)}:{imp.line} imports {imp.module} ({why})")
    return problems


def import_problem(module: str, known: set) -> str:
    """Why an import of `module` cannot run in the extension, or ''."""
    if module.split(".")[0] in TORCH:
        return "torch is not in the extension"
    as_in_source = module.removeprefix(PACKAGE + ".")  # the bundled engine as the source tree names it
    if as_in_source == "engine.training" or as_in_source.startswith("engine.training."):
        return "training/ is not in the extension"
    if module.startswith(PACKAGE + ".") and module not in known:
        return "no such module in the zip"
    return ""


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory) -> Path:
    """The extension as build.py makes it, without wheels (the modules are what is checked)."""
    sys.path.insert(0, str(ROOT / "addon" / "scripts"))
    import package_extension

    return package_extension.build(tmp_path_factory.mktemp("dist"), platforms=[])


def test_the_zip_has_no_code_path_into_training_or_torch(extension_zip, tmp_path):
    names = zipfile.ZipFile(extension_zip).namelist()
    assert "engine/__init__.py" in names and "__init__.py" in names
    assert not [n for n in names if n.startswith(("engine/training/", "engine/bench/", "engine/cli/",
                                                  "engine/evaluation/")) or n == "engine/__main__.py"]
    assert {"engine/jobs/__init__.py", "engine/batch/lines.py", "engine/video/mediapipe_worker.py"} <= set(names)
    assert zip_problems(extension_zip, tmp_path) == []


def test_the_check_catches_what_it_must(tmp_path):
    """A relative import of training, a lazy torch import and a missing module each fail the check."""
    made = tmp_path / "made.zip"
    with zipfile.ZipFile(made, "w") as zf:
        zf.writestr("__init__.py", "from . import ops\n")
        zf.writestr("ops.py", "from .engine import bench\n")
        zf.writestr("engine/__init__.py", "")
        zf.writestr("engine/bench/__init__.py", "from ..training.corpus import heldout\n")
        zf.writestr("engine/bench/suite.py", "def run():\n    import torch\n    from .gone import thing\n")
    problems = zip_problems(made, tmp_path / "out")
    assert any("engine/bench/__init__.py:1 imports talking_head.engine.training.corpus (training/" in p
               for p in problems)
    assert "engine/bench/suite.py:2 imports torch (torch is not in the extension)" in problems
    assert any(p.startswith("engine/bench/suite.py:3") and "no such module" in p for p in problems)
    assert len(problems) == 3
