"""The layer rules of DESIGN.md, checked on the source itself (every import, parsed with ast, relative ones
resolved to the module they name: `from ..training import x` in engine/bench/ is `engine.training.x`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from tests.import_graph import file_imports, module_name, python_files, unbundled

ROOT = Path(__file__).resolve().parent.parent
TORCH = {"torch", "torchaudio", "torchvision"}


@lru_cache(maxsize=None)
def known_modules(root: Path) -> frozenset:
    """Every module name of the engine and the add-on under `root` (and the add-on's bundled engine)."""
    return frozenset({module_name(p, root) for p in python_files(root, ["engine", "addon"])} | {"addon.engine"})


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """The full name of every module a file imports (absolute, relative resolved; inside functions too);
    the add-on's bundled engine (`from . import engine`) is named `engine`."""
    return {unbundled(i.module) for i in file_imports(path, root, set(known_modules(root)))}


def top_levels(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def reaches_training(modules: set[str]) -> bool:
    return any(m == "engine.training" or m.startswith("engine.training.") for m in modules)


def sources(folder: str, exclude: str | None = None) -> list[Path]:
    files = python_files(ROOT, [folder])
    return [f for f in files if exclude is None or exclude not in f.relative_to(ROOT).parts]


@pytest.mark.parametrize("path", sources("engine"), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_never_imports_bpy(path):
    assert not {"bpy", "mathutils", "bmesh"} & top_levels(imported_modules(path))


@pytest.mark.parametrize("path", sources("engine", exclude="training"), ids=lambda p: str(p.relative_to(ROOT)))
def test_torch_only_under_engine_training(path):
    """The runtime imports neither torch nor engine.training (whose modules import torch): the extension
    ships without training/, so such an import is a code path that fails inside Blender."""
    modules = imported_modules(path)
    assert not TORCH & top_levels(modules)
    assert not reaches_training(modules), sorted(m for m in modules if m.startswith("engine.training"))


@pytest.mark.parametrize("path", sources("engine", exclude="training"), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_runtime_needs_no_librosa(path):
    """librosa (and the numba/llvmlite it drags in) is a test-only reference, not in the extension's wheels."""
    assert not {"librosa", "numba", "llvmlite"} & top_levels(imported_modules(path))


@pytest.mark.parametrize("path", sources("addon"), ids=lambda p: str(p.relative_to(ROOT)))
def test_addon_never_imports_torch(path):
    modules = imported_modules(path)
    assert not TORCH & top_levels(modules) and not reaches_training(modules)


def test_rules_see_real_imports(tmp_path):
    """The checker itself catches the imports it must forbid (so the rules above can fail): absolute ones,
    ones inside functions, and relative ones, which name the module they resolve to."""
    for folder in ("engine/bench", "engine/training", "addon"):
        (tmp_path / folder).mkdir(parents=True)
    for init in ("engine", "engine/bench", "engine/training", "addon"):
        (tmp_path / init / "__init__.py").write_text("")
    bad = tmp_path / "engine" / "bench" / "bad.py"
    bad.write_text("import os\nfrom bpy import types\ndef f():\n    import torch.nn as nn\n"
                   "    from ..training import corpus\nfrom . import bad\n")
    modules = imported_modules(bad, tmp_path)
    assert {"os", "bpy", "torch.nn", "engine.training", "engine.bench.bad"} <= modules
    assert reaches_training(modules) and {"bpy", "torch"} <= top_levels(modules)
    shipped = tmp_path / "addon" / "ops.py"
    shipped.write_text("from .engine.training import corpus\n")
    assert reaches_training(imported_modules(shipped, tmp_path))  # the bundled engine is the engine
    assert not reaches_training({"engine.trainingwheels", "engine.bench"})


def test_importing_the_engine_loads_neither_bpy_nor_torch():
    import subprocess
    import sys

    code = "import sys, engine, engine.cli.main; print(sorted(m for m in ('bpy', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
