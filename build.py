#!/usr/bin/env python3
"""Set up, demo, test, benchmark and package the Talking Head project.

Standard library only, so it runs on a fresh machine before anything is installed.

    python3 build.py demo     # set up, then run the main job in headless Blender -> out/
    python3 build.py test     # set up, then run the whole test suite
    python3 build.py setup    # only the set-up (idempotent: a second run takes seconds)
    python3 build.py bench    # benchmarks -> out/bench.md and out/bench.json
    python3 build.py addon    # the Blender extension zip -> dist/
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

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
OUT = ROOT / "out"
STAMP = VENV / ".talking-head-setup"
# A second environment holding only Blender 4.2 LTS (the oldest release the add-on supports), over .venv's packages
BLENDER42_VENV = ROOT / ".venv-blender42"
BLENDER42_PIN = "bpy==4.2.23"  # the newest 4.2 LTS on PyPI; cp311, needs numpy>=1.26,<2 like .venv's 5.0.1
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
    python, stamp = venv_python(BLENDER42_VENV), BLENDER42_VENV / ".talking-head-setup"
    shared = site_packages(venv_python())
    digest = hashlib.sha256(f"{BLENDER42_PIN}\n{shared}".encode()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return
    try:
        if not python.exists():
            print(f"creating {BLENDER42_VENV}", flush=True)
            run([venv_python(), "-m", "venv", "--without-pip", BLENDER42_VENV])  # the same Python as .venv
        run([venv_python(), "-m", "pip", "--python", python, "install", "--disable-pip-version-check", "-q",
             "--no-deps", BLENDER42_PIN])
        (Path(site_packages(python)) / "talking_head_shared.pth").write_text(shared + "\n")
    except (subprocess.CalledProcessError, OSError) as error:
        shutil.rmtree(BLENDER42_VENV, ignore_errors=True)  # the next set-up starts over
        reason = f"exit status {error.returncode}" if isinstance(error, subprocess.CalledProcessError) else error
        print(f"warning: could not make {BLENDER42_VENV.name} with {BLENDER42_PIN} ({reason}; offline?). "
              "tests/addon/test_blender42.py fails until a set-up succeeds; the other tests run.", file=sys.stderr)
        return
    stamp.write_text(digest)


def setup() -> None:
    """Idempotent set-up: system packages, the virtual environment, the Blender 4.2 environment."""
    ensure_debian_packages()
    ensure_venv()
    ensure_blender42_venv()


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
    addon_rows = OUT / "bench_addon.json"
    quick = ["--quick"] if "--quick" in args.bench_args else []
    code = in_venv(str(ROOT / "addon" / "scripts" / "bench_keys.py"), "--out", str(addon_rows), *quick)
    if code != 0:
        return code
    return in_venv("-m", "engine", "bench", "--out", str(OUT), "--extra", str(addon_rows), *args.bench_args)


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
    sub.add_parser("addon", help="build the Blender extension zip -> dist/ (--platform NAME, repeatable: "
                                 "linux-x64, windows-x64, macos-arm64; other arguments go to package_extension.py)")
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "setup":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = args.demo_args = args.bench_args = args.addon_args = extra  # passed through to the tool
    handlers = {"setup": cmd_setup, "test": cmd_test, "demo": cmd_demo, "bench": cmd_bench, "addon": cmd_addon}
    try:
        return handlers[args.command](args)
    except subprocess.CalledProcessError as error:
        print(f"error: a set-up step failed ({error.cmd[0]} exited with {error.returncode}).", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
