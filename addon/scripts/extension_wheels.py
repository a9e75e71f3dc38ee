"""The runtime wheels the extension bundles: exact pins, the Blender platforms they exist for, a download cache.

Blender installs the wheels an extension's manifest lists into its own
site-packages; they must be unmodified PyPI wheels and carry all their
dependencies. Blender 4.2-5.0 embed Python 3.11 and numpy 1.26, so numpy is
never bundled: the pins below are the closure of the engine's runtime
dependencies resolved together with numpy==1.26.4 (`pip install --dry-run
--report --only-binary=:all: --platform ...` for each platform), minus numpy.
"""

from __future__ import annotations

import os
import platform as platform_module
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "wheels"   # one folder per platform; downloaded once, reused offline
PYTHON_VERSION, PYTHON_ABI = "3.11", "cp311"   # Blender 4.2-5.0's Python
BLENDER_PROVIDES = {"numpy": "1.26.4"}   # Blender 4.2-5.0's own packages: never bundled

RUNTIME_WHEELS = (
    "scipy==1.17.1",                # filters, FFTs, interpolation
    "soundfile==0.14.0",            # WAV/FLAC/OGG decoding (the wheel carries libsndfile)
    "cffi==2.1.1", "pycparser==3.12", "typing_extensions==4.16.0",   # soundfile's
    "soxr==1.1.0",                  # resampling
    "audioread==3.1.0",             # other formats through ffmpeg
    "onnxruntime==1.31.1",          # the ADF network: the CPU build of the pinned onnxruntime-gpu
    "flatbuffers==25.12.19", "packaging==26.3", "protobuf==7.36.2",  # onnxruntime's
    "pocketsphinx==5.1.1",          # phone recognition (the wheel carries its English model)
    "sounddevice==0.5.6",           # pocketsphinx's (its microphone input, never used here)
)

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


def wheels_for(platform: str, cache: Path = CACHE) -> list[Path]:
    """One wheel file per pin of RUNTIME_WHEELS for a Blender platform, from cache/<platform>/,
    downloading the missing ones first (WheelError when that fails, e.g. offline)."""
    folder = cache / check_platform(platform)
    missing = [pin for pin in RUNTIME_WHEELS if cached_wheel(folder, pin) is None]
    if missing:
        download(missing, platform, folder)
    wheels = [cached_wheel(folder, pin) for pin in RUNTIME_WHEELS]
    if None in wheels:
        pin = RUNTIME_WHEELS[wheels.index(None)]
        raise WheelError(f"pip gave no {platform} wheel for {pin}; check the pin in {Path(__file__).name}.")
    return wheels


def cached_wheel(folder: Path, pin: str) -> Optional[Path]:
    """The wheel in `folder` for a "name==version" pin, or None."""
    name, _, version = pin.partition("==")
    prefix = f"{name.replace('-', '_').lower()}-{version}-"
    found = sorted(p for p in folder.glob("*.whl") if p.name.lower().startswith(prefix)) if folder.is_dir() else []
    return found[0] if found else None


def download(pins: list[str], platform: str, folder: Path) -> None:
    """`pip download` the pinned wheels (no dependencies: the pins are the closure) into `folder`.

    Files land in a private folder first and move in whole, so two builds never see half a wheel.
    """
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
    tags = [arg for tag in PLATFORM_TAGS[platform] for arg in ("--platform", tag)]
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet", "--no-deps",
               "--only-binary=:all:", "--implementation", "cp", "--python-version", PYTHON_VERSION,
               "--abi", PYTHON_ABI, *tags, "--dest", str(staging), *pins]
    try:
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            raise WheelError(f"Could not download {len(pins)} {platform} wheel(s) (pip: {_pip_reason(run.stderr)}); "
                             f"connect to the internet once: they are then kept in {folder} for every later build.")
        for wheel in staging.glob("*.whl"):
            os.replace(wheel, folder / wheel.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def missing_dependencies(wheels: list[Path], platform: str) -> list[str]:
    """Requirements of the wheels [W] that none of them (nor Blender's numpy) satisfies on `platform`:
    empty when the set is a closure, as Blender requires."""
    from email.parser import Parser
    from zipfile import ZipFile

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    environment = {"python_version": PYTHON_VERSION, "python_full_version": f"{PYTHON_VERSION}.0",
                   "implementation_name": "cpython", "platform_python_implementation": "CPython",
                   "extra": "", **MARKER_ENVIRONMENTS[platform]}
    provided = {canonicalize_name(name): version for name, version in
                (w.name.split("-")[:2] for w in wheels)} | BLENDER_PROVIDES
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
