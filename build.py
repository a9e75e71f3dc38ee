#!/usr/bin/env python3
"""Set up, demo, test, benchmark and package the Talking Head project.

Standard library only, so it runs on a fresh machine before anything is installed.

    python3 build.py demo     # set up, then run the main job in headless Blender -> out/
    python3 build.py test     # set up, then run the whole test suite
    python3 build.py setup    # only the set-up (idempotent: a second run takes seconds)
    python3 build.py bench    # benchmarks -> out/bench.md and out/bench.json
    python3 build.py addon    # the Blender extension zip -> dist/
    python3 build.py fuzz     # a longer fuzz campaign of every file loader -> out/fuzz/
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
OUT = ROOT / "out"
STAMP = VENV / ".talking-head-setup"
# A second environment holding only Blender 4.2 LTS (the oldest release the add-on supports), over .venv's packages
BLENDER42_VENV = ROOT / ".venv-blender42"
BLENDER42_PIN = "bpy==4.2.23"  # the newest 4.2 LTS on PyPI; cp311, needs numpy>=1.26,<2 like .venv's 5.0.1
# Blender 5.1-5.3 embed Python 3.13 and numpy 2: .venv-blender52 is a Python 3.13 environment with bpy 5.2 LTS,
# numpy 2 and the extension's cp313 runtime wheels (tests/addon/test_extension_blenders.py, tests/engine/test_numpy2.py);
# .venv-blender53 holds only bpy 5.3 over it, as .venv-blender42 does over .venv
BLENDER52_VENV, BLENDER52_PIN = ROOT / ".venv-blender52", "bpy==5.2.3"
BLENDER53_VENV, BLENDER53_PIN = ROOT / ".venv-blender53", "bpy==5.3.0"
PYTHON313 = "3.13"
# engine track's MediaPipe lives in its own Python 3.11 environment (see [tool.talking-head] tracker-requirements)
TRACKER_VENV = ROOT / ".venv-video"
# tool on PATH -> the Debian packages that provide it (festival needs a voice, only recommended)
DEBIAN_PACKAGES = {"espeak-ng": ("espeak-ng",), "festival": ("festival", "festvox-kallpc16k"),
                   "text2wave": ("festival", "festvox-kallpc16k"), "ffmpeg": ("ffmpeg",), "ffprobe": ("ffmpeg",)}


def venv_python(root: Path = VENV) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def pinned_requirements() -> list[str]:
    """Every dependency group of pyproject.toml (runtime, training, test), exactly pinned."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = [project["dependencies"], *project["optional-dependencies"].values()]
    return [req for group in groups for req in group]


def run(cmd: list, **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


# festival voices (folders) -> their packages: kal is the held-out voice, ked and slt train ADF
FESTIVAL_VOICES = {"/usr/share/festival/voices/english/kal_diphone": "festvox-kallpc16k",
                   "/usr/share/festival/voices/english/ked_diphone": "festvox-kdlpc16k",
                   "/usr/share/festival/voices/us/cmu_us_slt_arctic_hts": "festvox-us-slt-hts"}


def ensure_debian_packages() -> None:
    """Install the system tools the engine and corpus call (espeak-ng, festival and its voices, ffmpeg)
    when missing and root."""
    missing = {pkg for tool, pkgs in DEBIAN_PACKAGES.items() if shutil.which(tool) is None for pkg in pkgs}
    missing |= {pkg for folder, pkg in FESTIVAL_VOICES.items() if not Path(folder).is_dir()}
    missing = sorted(missing)
    if not missing:
        return
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(f"warning: please install {', '.join(missing)} (apt-get as root); "
              "the demo video and speech synthesis need them.", file=sys.stderr)
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


def ensure_venv() -> None:
    """Create .venv with the pinned dependencies; skip when the stamp says it is current."""
    requirements = pinned_requirements()
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    if venv_python().exists() and STAMP.exists() and STAMP.read_text() == digest:
        return
    if not venv_python().exists():
        print(f"creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    run([venv_python(), "-m", "pip", "install", "--disable-pip-version-check", "-q", *requirements])
    STAMP.write_text(digest)


def site_packages(python: Path) -> str:
    """The site-packages folder of the environment whose interpreter is `python`."""
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    return subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def ensure_blender42_venv() -> None:
    """Create .venv-blender42: bpy 4.2 only, then .venv's site-packages (numpy, scipy, ...) through a .pth.

    Its own site-packages comes first on sys.path, so its bpy 4.2 shadows .venv's 5.0.
    tests/addon/test_blender42.py runs the add-on in it. Optional: when it cannot be made
    (offline), warn and go on; that test then fails and says why, the rest of the suite runs.
    """
    ensure_overlay_venv(BLENDER42_VENV, BLENDER42_PIN, venv_python(), "tests/addon/test_blender42.py")


def ensure_overlay_venv(folder: Path, pin: str, base: Path, tests: str) -> None:
    """`folder`: a venv of the same Python as `base` holding only `pin` (no dependencies), over `base`'s
    site-packages through a .pth. Warns (naming `tests`, which then fail) when it cannot be made."""
    python, stamp = venv_python(folder), folder / ".talking-head-setup"
    try:
        shared = site_packages(base)
    except (subprocess.CalledProcessError, OSError):
        print(f"warning: {folder.name} needs {base.parent.parent.name}, which set-up could not make; "
              f"{tests} fails until a set-up succeeds.", file=sys.stderr)
        return
    digest = hashlib.sha256(f"{pin}\n{shared}".encode()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return
    try:
        if not python.exists():
            print(f"creating {folder}", flush=True)
            run([base, "-m", "venv", "--without-pip", folder])  # the same Python as the base
        run([base, "-m", "pip", "--python", python, "install", "--disable-pip-version-check", "-q",
             "--no-deps", pin])
        (Path(site_packages(python)) / "talking_head_shared.pth").write_text(shared + "\n")
    except (subprocess.CalledProcessError, OSError) as error:
        optional_step_failed(folder, pin, error, tests)
        return
    stamp.write_text(digest)


def optional_step_failed(folder: Path, pin: str, error: Exception, tests: str) -> None:
    """Remove a half-made environment and warn in one sentence which tests fail until set-up succeeds."""
    shutil.rmtree(folder, ignore_errors=True)  # the next set-up starts over
    reason = f"exit status {error.returncode}" if isinstance(error, subprocess.CalledProcessError) else error
    print(f"warning: could not make {folder.name} with {pin} ({reason}; offline?). "
          f"{tests} fails until a set-up succeeds; the other tests run.", file=sys.stderr)


def find_python(version: str) -> Optional[Path]:
    """An interpreter of Python `version` ("3.13"): pyenv's newest version.x, else python<version> on PATH."""
    roots = [Path(os.environ["PYENV_ROOT"])] if os.environ.get("PYENV_ROOT") else []
    for root in [*roots, Path.home() / ".pyenv"]:
        found = sorted((root / "versions").glob(f"{version}.*/bin/python{version}"),
                       key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parts[-3].split(".")])
        if found:
            return found[-1]
    on_path = shutil.which(f"python{version}")
    return Path(on_path) if on_path else None


def blender313_requirements() -> list[str]:
    """What .venv-blender52 holds: bpy 5.2, the extension's runtime pins (markers evaluated by pip there,
    so numpy 2 and the cp313 closure), and pytest at the test group's pin."""
    sys.path.insert(0, str(ROOT / "addon" / "scripts"))
    import extension_wheels  # standard library only at import

    test_group = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    return [BLENDER52_PIN, *extension_wheels.blender_requirements(),
            *(r for r in test_group if r.startswith("pytest=="))]


def ensure_blender52_venv() -> None:
    """Create .venv-blender52 with Python 3.13 (Blender 5.1-5.3's) from blender313_requirements().

    tests/addon/test_extension_blenders.py runs the extension zip in it, tests/engine/test_numpy2.py engine tests
    under numpy 2. Optional like .venv-blender42: without Python 3.13 or the network, warn and go on.
    """
    tests = "tests/addon/test_extension_blenders.py and tests/engine/test_numpy2.py"
    python, stamp = venv_python(BLENDER52_VENV), BLENDER52_VENV / ".talking-head-setup"
    requirements = blender313_requirements()
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return
    interpreter = find_python(PYTHON313)
    if interpreter is None and not python.exists():
        print(f"warning: no Python {PYTHON313} found (python{PYTHON313} on PATH or pyenv's versions/); "
              f"{tests} fail until one is installed and set-up runs again.", file=sys.stderr)
        return
    try:
        if not python.exists():
            print(f"creating {BLENDER52_VENV} with {interpreter}", flush=True)
            run([interpreter, "-m", "venv", BLENDER52_VENV])
        run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q", *requirements])
    except (subprocess.CalledProcessError, OSError) as error:
        optional_step_failed(BLENDER52_VENV, BLENDER52_PIN, error, tests)
        return
    stamp.write_text(digest)


def ensure_blender53_venv() -> None:
    """Create .venv-blender53: bpy 5.3 only, over .venv-blender52's packages (as .venv-blender42 over .venv)."""
    ensure_overlay_venv(BLENDER53_VENV, BLENDER53_PIN, venv_python(BLENDER52_VENV),
                        "tests/addon/test_extension_blenders.py[5.3]")


def ensure_tracker_venv() -> None:
    """Create .venv-video (.venv's Python) with MediaPipe for `engine track`, from tracker-requirements.

    Optional like the Blender environments: without the network, warn and go on (tracking then says
    how to get a tracker; tests/engine/video fails where it needs one).
    """
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["talking-head"]["tracker-requirements"]
    python, stamp = venv_python(TRACKER_VENV), TRACKER_VENV / ".talking-head-setup"
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return
    try:
        if not python.exists():
            print(f"creating {TRACKER_VENV}", flush=True)
            run([venv_python(), "-m", "venv", TRACKER_VENV])
        run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q", *requirements])
    except (subprocess.CalledProcessError, OSError) as error:
        optional_step_failed(TRACKER_VENV, requirements[0], error, "tests/engine/video")
        return
    stamp.write_text(digest)


def setup() -> None:
    """Idempotent set-up: system packages, the virtual environment, the Blender 4.2, 5.2 and 5.3 environments."""
    ensure_debian_packages()
    ensure_venv()
    ensure_tracker_venv()
    ensure_blender42_venv()
    ensure_blender52_venv()
    ensure_blender53_venv()


def in_venv(*args: str) -> int:
    """Run the venv's Python with the repository on the path; return its exit code."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.run([str(venv_python()), *args], cwd=ROOT, env=env).returncode


def cmd_setup(_args) -> int:
    setup()
    print("set-up done: .venv is current")
    return 0


def cmd_test(args) -> int:
    setup()
    workers = ["-n", str(args.workers)] if args.workers > 1 else []
    paths = [] if any(not a.startswith("-") for a in args.pytest_args) else ["tests"]
    return in_venv("-m", "pytest", *paths, "-q", *workers, *args.pytest_args)


def cmd_demo(args) -> int:
    setup()
    OUT.mkdir(exist_ok=True)
    return in_venv(str(ROOT / "addon" / "scripts" / "demo_scene.py"), "--out", str(OUT), *args.demo_args)


def cmd_bench(args) -> int:
    setup()
    OUT.mkdir(exist_ok=True)
    quick = ["--quick"] if "--quick" in args.bench_args else []
    extra = []
    for script in sorted((ROOT / "addon" / "scripts").glob("bench_*.py")):  # the benches that need bpy
        rows = OUT / f"{script.stem}.json"
        code = in_venv(str(script), "--out", str(rows), *quick)
        if code != 0:
            return code
        extra += ["--extra", str(rows)]
    rows = OUT / "bench_training.json"  # the training extra's suites (torch): the engine's bench never imports them
    given = args.bench_args
    only = [a for k, a in enumerate(given) if k and given[k - 1] == "--only"] \
        + [a.split("=", 1)[1] for a in given if a.startswith("--only=")]
    code = in_venv("-m", "engine.training.bench", "--out", str(rows), *quick, *[f"--only={n}" for n in only])
    if code != 0:
        return code
    extra += ["--extra", str(rows)]
    return in_venv("-m", "engine", "bench", "--out", str(OUT), *extra, *args.bench_args)


def cmd_fuzz(args) -> int:
    setup()
    return in_venv("-m", "tests.fuzz.campaign", "--out", str(OUT / "fuzz"), *args.fuzz_args)


def cmd_addon(args) -> int:
    setup()
    return in_venv(str(ROOT / "addon" / "scripts" / "package_extension.py"), "--dist", str(ROOT / "dist"),
                   *args.addon_args)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="make .venv with pinned dependencies and install system tools")
    test = sub.add_parser("test", help="run the whole test suite")
    test.add_argument("--workers", type=int, default=2, help="parallel test processes (default 2); "
                      "other arguments go to pytest")
    sub.add_parser("demo", help="the main job on the built-in head and the shipped voice -> out/ "
                                "(other arguments go to addon/scripts/demo_scene.py)")
    sub.add_parser("bench", help="benchmarks -> out/bench.md and out/bench.json (--quick: smaller workloads)")
    sub.add_parser("fuzz", help="fuzz every file loader for a while -> out/fuzz/ (--seconds N, default 180)")
    sub.add_parser("addon", help="build the Blender extension zip -> dist/ (--platform NAME, repeatable: "
                                 "linux-x64, windows-x64, macos-arm64; other arguments go to package_extension.py)")
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "setup":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = args.demo_args = args.bench_args = args.addon_args = args.fuzz_args = extra  # to the tool
    handlers = {"setup": cmd_setup, "test": cmd_test, "demo": cmd_demo, "bench": cmd_bench, "addon": cmd_addon,
                "fuzz": cmd_fuzz}
    try:
        return handlers[args.command](args)
    except subprocess.CalledProcessError as error:
        print(f"error: a set-up step failed ({error.cmd[0]} exited with {error.returncode}).", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
