"""The layer rules of DESIGN.md, checked on the source itself (static imports, parsed with ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports (absolute imports only)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def sources(folder: str, exclude: str | None = None) -> list[Path]:
    files = sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if exclude is None or exclude not in f.relative_to(ROOT).parts]


@pytest.mark.parametrize("path", sources("engine"), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_never_imports_bpy(path):
    assert "bpy" not in imported_modules(path)


@pytest.mark.parametrize("path", sources("engine", exclude="training"), ids=lambda p: str(p.relative_to(ROOT)))
def test_torch_only_under_engine_training(path):
    assert not {"torch", "torchaudio", "torchvision"} & imported_modules(path)


@pytest.mark.parametrize("path", sources("engine", exclude="training"), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_runtime_needs_no_librosa(path):
    """librosa (and the numba/llvmlite it drags in) is a test-only reference, not in the extension's wheels."""
    assert not {"librosa", "numba", "llvmlite"} & imported_modules(path)


@pytest.mark.parametrize("path", sources("addon"), ids=lambda p: str(p.relative_to(ROOT)))
def test_addon_never_imports_torch(path):
    assert "torch" not in imported_modules(path)


def test_rules_see_real_imports(tmp_path):
    """The checker itself catches the imports it must forbid (so the rules above can fail)."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom bpy import types\ndef f():\n    import torch.nn as nn\n")
    assert {"bpy", "torch", "os"} <= imported_modules(bad)


def test_importing_the_engine_loads_neither_bpy_nor_torch():
    import subprocess
    import sys

    code = "import sys, engine, engine.cli.main; print(sorted(m for m in ('bpy', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
