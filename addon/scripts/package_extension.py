"""Build the Blender extension zip: the add-on at the root, the engine inside it as a subpackage, its wheels.

    python addon/scripts/package_extension.py --dist dist/                        # this machine's platform
    python addon/scripts/package_extension.py --dist dist/ --platform windows-x64 # another (repeatable)

Only what runs inside Blender ships: the engine's training code (torch), its
benchmarks, command line and evaluation (ENGINE_LEFT_OUT: nothing the add-on
runs imports them, which tests/addon/test_extension_imports.py checks on the
zip itself) and the development scripts stay out; the add-on imports the
bundled engine relatively (`from . import engine`). The
runtime wheels of `extension_wheels` (scipy, soundfile, soxr, audioread,
onnxruntime, pocketsphinx and their dependencies; never numpy, Blender has
it), one set for Python 3.11 (Blender 4.2-5.0) and one for 3.13 (5.1-5.3) per
platform, go under `wheels/`, listed in the zip's `blender_manifest.toml` with
the platforms they are for; Blender installs those matching its Python. They
are downloaded once into build/wheels/<platform>/<cpXY>/. The manifest's
`version` is the engine's `__version__`, the one place it is written.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Optional, Sequence

import extension_wheels
from extension_wheels import WheelError

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "addon" / "blender_manifest.toml"
ENGINE_INIT = ROOT / "engine" / "__init__.py"
WRITTEN_BY_BUILD = ("version", "platforms", "wheels")
EXCLUDED_PARTS = {"__pycache__", "scripts", "training"}
ENGINE_LEFT_OUT = {"training", "bench", "cli", "evaluation", "__main__.py"}  # the engine's top-level parts for
                                                                          # development, never run in Blender
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


def manifest() -> dict:
    """The add-on's own blender_manifest.toml, parsed, with the version it gets at build."""
    return tomllib.loads(MANIFEST.read_text()) | {"version": version()}


def version() -> str:
    """The project's version: `__version__ = "X.Y.Z"` in engine/__init__.py (read, not imported)."""
    found = re.search(r'^__version__ = "([^"]+)"$', ENGINE_INIT.read_text(), re.MULTILINE)
    if found is None:
        raise WheelError(f"{ENGINE_INIT} has no `__version__ = \"X.Y.Z\"` line.")
    return found.group(1)


def package_files() -> list[tuple[Path, str]]:
    """(source file, path inside the zip) for every file the extension ships, but the manifest and wheels."""
    files = []
    for folder, prefix in ((ROOT / "addon", ""), (ROOT / "engine", "engine/")):
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            left_out = prefix == "engine/" and relative.parts[0] in ENGINE_LEFT_OUT
            if path.is_file() and not (EXCLUDED_PARTS & set(relative.parts)) and not left_out \
                    and path.suffix not in EXCLUDED_SUFFIXES and path != MANIFEST:
                files.append((path, prefix + relative.as_posix()))
    files.append((ROOT / "LICENSE", "LICENSE"))
    return files


def manifest_text(platforms: Sequence[str], wheel_names: Sequence[str]) -> str:
    """The add-on's manifest with `version`, and `platforms` and `wheels` ("./wheels/<name>") unless
    `platforms` is empty, added before its first table."""
    if set(WRITTEN_BY_BUILD) & set(tomllib.loads(MANIFEST.read_text())):
        raise WheelError(f"{MANIFEST.name} must not list {', '.join(WRITTEN_BY_BUILD)}: the build writes them.")
    head, separator, tables = MANIFEST.read_text().partition("\n[")
    lines = [f'version = "{version()}"']
    if platforms:
        lines += ["platforms = [" + ", ".join(f'"{p}"' for p in platforms) + "]", "wheels = ["]
        lines += [f'    "./wheels/{name}",' for name in wheel_names] + ["]"]
    return head.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n" + separator + tables


def bundled_wheels(platforms: Sequence[str], cache: Path) -> list[Path]:
    """The wheels [W] of every platform and Blender Python (one set each), checked to be complete and free
    of numpy."""
    wheels: dict[str, Path] = {}   # by file name: pure-Python and abi3 wheels serve several sets once
    for platform in platforms:
        for python in extension_wheels.PYTHONS:
            wheels_here = extension_wheels.wheels_for(platform, cache, python)
            problems = extension_wheels.missing_dependencies(wheels_here, platform, python)
            if problems:
                raise WheelError(f"The {platform} wheels for Python {python} lack dependencies "
                                 f"({'; '.join(problems)}); pin them in pyproject.toml's wheel-closure.")
            wheels.update((w.name, wheels.get(w.name, w)) for w in wheels_here)
    return list(wheels.values())


def build(dist: Path, platforms: Optional[Sequence[str]] = None, cache: Path = extension_wheels.CACHE) -> Path:
    """Write dist/<id>-<version>[-<platform>].zip and return its path.

    platforms: Blender platform names ("linux-x64", ...) to bundle wheels for; default this
    machine's. An empty list bundles none: such a zip runs only where the engine's
    dependencies are already importable. WheelError when a wheel cannot be had.
    """
    platforms = [extension_wheels.this_platform()] if platforms is None else list(dict.fromkeys(platforms))
    wheels = bundled_wheels(platforms, cache)
    info = manifest()
    suffix = f"-{platforms[0].replace('-', '_')}" if len(platforms) == 1 else ""
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / f"{info['id']}-{info['version']}{suffix}.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("blender_manifest.toml", manifest_text(platforms, [w.name for w in wheels]))
        for source, name in package_files():
            zf.write(source, name)
        for wheel in wheels:  # already compressed
            zf.write(wheel, f"wheels/{wheel.name}", compress_type=zipfile.ZIP_STORED)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="output folder")
    parser.add_argument("--platform", action="append", choices=sorted(extension_wheels.PLATFORM_TAGS),
                        help="a Blender platform to bundle wheels for (repeatable; default: this machine's)")
    parser.add_argument("--no-wheels", action="store_true",
                        help="bundle no wheels (the zip then runs only where scipy & co. are importable)")
    args = parser.parse_args(argv)
    try:
        target = build(Path(args.dist), [] if args.no_wheels else args.platform)
    except WheelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
