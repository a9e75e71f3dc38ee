"""No source file of the engine, the add-on or build.py over 400 lines without the reason in its docstring
(a sentence saying why it is over 400 lines): a longer file is asking to be split along a seam."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
REASON = "400 lines"  # the docstring says why the file is over 400 lines


def sources(root: Path = ROOT) -> list[Path]:
    files = [p for folder in ("engine", "addon") for p in (root / folder).rglob("*.py") if "__pycache__" not in p.parts]
    return sorted(files + [root / "build.py"])


def unexplained_long_files(root: Path = ROOT) -> list[str]:
    """'path (N lines)' of every file over MAX_LINES whose module docstring gives no reason."""
    found = []
    for path in sources(root):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + (not text.endswith("\n"))
        if lines > MAX_LINES and REASON not in (ast.get_docstring(ast.parse(text)) or ""):
            found.append(f"{path.relative_to(root)} ({lines} lines)")
    return found


def test_no_file_over_400_lines_without_a_reason():
    assert unexplained_long_files() == []


def test_the_rule_sees_a_long_file(tmp_path):
    (tmp_path / "engine").mkdir()
    (tmp_path / "addon").mkdir()
    (tmp_path / "build.py").write_text('"""Short."""\n')
    body = "x = 1\n" * MAX_LINES
    (tmp_path / "engine" / "long.py").write_text('"""A long module."""\n' + body)
    (tmp_path / "addon" / "kept.py").write_text('"""Kept whole: over 400 lines because it is one table."""\n' + body)
    assert unexplained_long_files(tmp_path) == [f"{Path('engine') / 'long.py'} ({MAX_LINES + 1} lines)"]
