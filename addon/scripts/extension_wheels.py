"""The runtime wheels the extension bundles: exact pins, the Blender platforms they exist for, a download cache.

Blender installs the wheels an extension's manifest lists into its own
site-packages; they must be unmodified PyPI wheels and carry all their
dependencies. Blender 4.2-5.0 embed Python 3.11 with numpy 1.26, Blender
5.1-5.3 Python 3.13 with numpy 2: the zip lists a wheel set for each
(Blender installs those matching its own Python and platform). numpy is never
bundled. The pins are pyproject.toml's, the one place they are written: its
runtime `dependencies` (onnxruntime-gpu as onnxruntime's CPU build) and their
own dependencies, `[tool.talking-head] wheel-closure`, each with markers
evaluated for the Python the set is for.
"""

from __future__ import annotations

import os
import platform as platform_module
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
CACHE = ROOT / "build" / "wheels"   # one folder per platform and Python; downloaded once, reused offline
# Blender's embedded Python versions -> their ABI tag: 3.11 in Blender 4.2-5.0, 3.13 in 5.1-5.3
PYTHONS = {"3.11": "cp311", "3.13": "cp313"}
BLENDER_PROVIDES = ("numpy",)   # Blender's own packages: never bundled
CPU_BUILDS = {"onnxruntime-gpu": "onnxruntime"}   # the extension runs onnxruntime's CPU build


def blender_requirements() -> list[str]:
    """pyproject.toml's runtime pins and their closure as the extension takes them, markers kept
    (onnxruntime-gpu replaced by its CPU build at the same version)."""
    pyproject = tomllib.loads(PYPROJECT.read_text())
    requirements = [*pyproject["project"]["dependencies"], *pyproject["tool"]["talking-head"]["wheel-closure"]]
    for gpu, cpu in CPU_BUILDS.items():
        requirements = [cpu + r[len(gpu):] if r.startswith(gpu + "==") else r for r in requirements]
    return requirements


def _pins_for(python: str) -> dict[str, str]:
    """{name: "name==version"} of blender_requirements() whose markers hold on Python `python` ("3.13")."""
    from packaging.requirements import Requirement

    environment = {"python_version": python, "python_full_version": f"{python}.0"}
    pins = {}
    for line in blender_requirements():
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            pins[requirement.name.lower()] = f"{requirement.name}{requirement.specifier}"
    return pins


def runtime_wheels(python: str) -> tuple[str, ...]:
    """The exact "name==version" pins of the wheels bundled for Blender's Python `python`, numpy left out."""
    check_python(python)
    return tuple(pin for name, pin in _pins_for(python).items() if name not in BLENDER_PROVIDES)


def blender_packages(python: str) -> dict[str, str]:
    """{name: version} of what Blender with Python `python` brings itself (numpy), as pinned for it."""
    pins = _pins_for(check_python(python))
    return {name: pins[name].partition("==")[2] for name in BLENDER_PROVIDES}


def check_python(python: str) -> str:
    """`python` if a Blender release embeds it; else WheelError naming those that do."""
    if python not in PYTHONS:
        raise WheelError(f"No Blender release embeds Python {python}; the wheels are for {', '.join(PYTHONS)}.")
    return python


# Blender platform -> the wheel platform tags pip may choose from. pip does not widen a
# manylinux_2_28 tag to older glibc floors itself; Blender 4.2+ needs glibc 2.28 anyway.
PLATFORM_TAGS = {
    "linux-x64": tuple(f"manylinux_2_{minor}_x86_64" for minor in range(28, 16, -1)) + ("manylinux2014_x86_64",),
    "windows-x64": ("win_amd64",),
    "macos-arm64": ("macosx_14_0_arm64",),   # onnxruntime 1.31 needs macOS 14; pip widens to older macOS tags
}
# macos-x64 is absent: onnxruntime 1.31 publishes no Intel macOS wheel.

# Marker environment of each platform, to check that the wheels carry their dependencies
MARKER_ENVIRONMENTS = {
    "linux-x64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                  "os_name": "posix"},
    "windows-x64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
                    "os_name": "nt"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64",
                    "os_name": "posix"},
}
SYSTEM_NAMES = {"darwin": "macos"}      # platform.system() -> Blender's word
MACHINE_NAMES = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}


class WheelError(RuntimeError):
    """The runtime wheels could not be found or downloaded."""


def this_platform() -> str:
    """Blender's name for this machine's platform, e.g. "linux-x64" (as `blender_ext.platform_from_this_system`)."""
    system, machine = platform_module.system().lower(), platform_module.machine().lower()
    return f"{SYSTEM_NAMES.get(system, system)}-{MACHINE_NAMES.get(machine, machine)}"


def check_platform(platform: str) -> str:
    """`platform` if the pins have wheels for it; else WheelError naming the ones that do."""
    if platform not in PLATFORM_TAGS:
        raise WheelError(f"The runtime wheels do not exist for {platform}; build for one of "
                         f"{', '.join(PLATFORM_TAGS)} (--platform).")
    return platform


def wheels_for(platform: str, cache: Path = CACHE, python: str = "3.11") -> list[Path]:
    """One wheel file per pin of runtime_wheels(python) for a Blender platform, from cache/<platform>/<cpXY>/,
    downloading the missing ones first (WheelError when that fails, e.g. offline)."""
    pins = runtime_wheels(python)
    folder = cache / check_platform(platform) / PYTHONS[python]
    missing = [pin for pin in pins if cached_wheel(folder, pin) is None]
    if missing:
        download(missing, platform, folder, python)
    wheels = [cached_wheel(folder, pin) for pin in pins]
    if None in wheels:
        pin = pins[wheels.index(None)]
        raise WheelError(f"pip gave no {platform} wheel for {pin} on Python {python}; check its pin in pyproject.toml.")
    return wheels


def cached_wheel(folder: Path, pin: str) -> Optional[Path]:
    """The wheel in `folder` for a "name==version" pin, or None."""
    name, _, version = pin.partition("==")
    prefix = f"{name.replace('-', '_').lower()}-{version}-"
    found = sorted(p for p in folder.glob("*.whl") if p.name.lower().startswith(prefix)) if folder.is_dir() else []
    return found[0] if found else None


def download(pins: list[str], platform: str, folder: Path, python: str = "3.11") -> None:
    """`pip download` the pinned wheels for Python `python` (no dependencies: the pins are the closure)
    into `folder`.

    Files land in a private folder first and move in whole, so two builds never see half a wheel.
    """
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
    tags = [arg for tag in PLATFORM_TAGS[platform] for arg in ("--platform", tag)]
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet", "--no-deps",
               "--only-binary=:all:", "--implementation", "cp", "--python-version", python,
               "--abi", PYTHONS[python], *tags, "--dest", str(staging), *pins]
    try:
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            raise WheelError(f"Could not download {len(pins)} {platform} wheel(s) for Python {python} "
                             f"(pip: {_pip_reason(run.stderr)}); connect to the internet once: "
                             f"they are then kept in {folder} for every later build.")
        for wheel in staging.glob("*.whl"):
            os.replace(wheel, folder / wheel.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def missing_dependencies(wheels: list[Path], platform: str, python: str = "3.11") -> list[str]:
    """Requirements of the wheels [W] that none of them (nor Blender's numpy) satisfies on `platform`
    with Python `python`: empty when the set is a closure, as Blender requires."""
    from email.parser import Parser
    from zipfile import ZipFile

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    environment = {"python_version": python, "python_full_version": f"{python}.0",
                   "implementation_name": "cpython", "platform_python_implementation": "CPython",
                   "extra": "", **MARKER_ENVIRONMENTS[platform]}
    provided = {canonicalize_name(name): version for name, version in
                (w.name.split("-")[:2] for w in wheels)} | blender_packages(python)
    missing = []
    for wheel in wheels:
        with ZipFile(wheel) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            metadata = Parser().parsestr(archive.read(name).decode("utf-8"))
        for line in metadata.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            version = provided.get(canonicalize_name(requirement.name))
            if version is None or not requirement.specifier.contains(version, prereleases=True):
                missing.append(f"{wheel.name.split('-')[0]} needs {requirement}")
    return missing


def _pip_reason(stderr: str) -> str:
    """pip's last error line, without its "ERROR: " prefix."""
    errors = [line.removeprefix("ERROR: ").strip() for line in stderr.splitlines() if line.startswith("ERROR")]
    return (errors or [line.strip() for line in stderr.splitlines() if line.strip()] or ["pip failed"])[-1]
