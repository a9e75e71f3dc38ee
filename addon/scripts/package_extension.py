"""Build the Blender extension zip: the add-on at the root, the engine inside it as a subpackage.

    python addon/scripts/package_extension.py --dist dist/

The engine's training code (torch) and development scripts stay out; the
add-on imports the bundled engine relatively (`from . import engine`).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXCLUDED_PARTS = {"__pycache__", "scripts", "training"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


def manifest() -> dict:
    return tomllib.loads((ROOT / "addon" / "blender_manifest.toml").read_text())


def package_files() -> list[tuple[Path, str]]:
    """(source file, path inside the zip) for every file the extension ships."""
    files = []
    for folder, prefix in ((ROOT / "addon", ""), (ROOT / "engine", "engine/")):
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if path.is_file() and not (EXCLUDED_PARTS & set(relative.parts)) \
                    and path.suffix not in EXCLUDED_SUFFIXES:
                files.append((path, prefix + relative.as_posix()))
    files.append((ROOT / "LICENSE", "LICENSE"))
    return files


def build(dist: Path) -> Path:
    """Write dist/<id>-<version>.zip and return its path."""
    info = manifest()
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / f"{info['id']}-{info['version']}.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for source, name in package_files():
            zf.write(source, name)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="output folder")
    args = parser.parse_args(argv)
    target = build(Path(args.dist))
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
