"""The extension's runtime wheels: platform names, the closure check, the manifest, and the offline error."""

from __future__ import annotations

import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "addon" / "scripts"))
import extension_wheels  # noqa: E402
import package_extension  # noqa: E402
from extension_wheels import WheelError  # noqa: E402


@pytest.mark.parametrize("system, machine, expected", [
    ("Linux", "x86_64", "linux-x64"), ("Windows", "AMD64", "windows-x64"),
    ("Darwin", "arm64", "macos-arm64"), ("Darwin", "x86_64", "macos-x64"), ("Linux", "aarch64", "linux-arm64"),
])
def test_platform_names_are_blenders(monkeypatch, system, machine, expected):
    monkeypatch.setattr(extension_wheels.platform_module, "system", lambda: system)
    monkeypatch.setattr(extension_wheels.platform_module, "machine", lambda: machine)
    assert extension_wheels.this_platform() == expected


def test_a_platform_without_wheels_is_refused_with_the_choices():
    with pytest.raises(WheelError, match=r"macos-x64; build for one of linux-x64, windows-x64, macos-arm64"):
        extension_wheels.check_platform("macos-x64")


@pytest.mark.parametrize("python", ["3.11", "3.13"])
def test_numpy_is_never_bundled_and_the_pins_are_pyprojects(python):
    pins = set(extension_wheels.runtime_wheels(python))
    assert not any(pin.split("==")[0] in extension_wheels.BLENDER_PROVIDES for pin in pins)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    direct = {r.replace("onnxruntime-gpu", "onnxruntime") for r in pyproject["project"]["dependencies"]
              if not r.startswith("numpy")}  # the CPU build at the GPU build's version
    closure = {r.split(";")[0] for r in pyproject["tool"]["talking-head"]["wheel-closure"]
               if ";" not in r or python == "3.13"}  # the only markers: python_version >= '3.13'
    assert pins == direct | closure


def test_each_python_gets_its_own_numpy_and_closure():
    assert extension_wheels.blender_packages("3.11") == {"numpy": "1.26.4"}  # Blender 4.2-5.0
    assert extension_wheels.blender_packages("3.13")["numpy"].startswith("2.")  # Blender 5.1-5.3
    only_313 = set(extension_wheels.runtime_wheels("3.13")) - set(extension_wheels.runtime_wheels("3.11"))
    assert {pin.split("==")[0] for pin in only_313} == {"standard-aifc", "standard-sunau", "standard-chunk",
                                                         "audioop-lts"}  # audioread's, gone from 3.13's library
    with pytest.raises(WheelError, match=r"No Blender release embeds Python 3\.12; the wheels are for 3\.11, 3\.13"):
        extension_wheels.runtime_wheels("3.12")


def test_offline_download_fails_with_a_sentence_and_leaves_no_partial_files(monkeypatch, tmp_path):
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline: no index, and nothing to find locally
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nothing"))
    cache = tmp_path / "cache"
    count = len(extension_wheels.runtime_wheels("3.13"))
    with pytest.raises(WheelError, match=rf"Could not download {count} linux-x64 wheel\(s\) for Python 3\.13 \(pip: "
                                         r"No matching distribution found for scipy==1\.17\.1\); connect to the "
                                         r"internet once"):
        extension_wheels.wheels_for("linux-x64", cache, "3.13")
    assert list((cache / "linux-x64" / "cp313").iterdir()) == []


@pytest.mark.parametrize("python, tag", [("3.11", "cp311"), ("3.13", "cp313")])
def test_closure_check_finds_a_missing_dependency(python, tag):
    wheels = extension_wheels.wheels_for("linux-x64", python=python)
    assert extension_wheels.missing_dependencies(wheels, "linux-x64", python) == []
    compiled = [w.name.split("-")[2] for w in wheels if w.name.split("-")[3] == tag]
    assert compiled and set(compiled) == {tag}  # each compiled wheel is for that Python
    without_cffi = [w for w in wheels if not w.name.startswith("cffi-")]
    missing = extension_wheels.missing_dependencies(without_cffi, "linux-x64", python)
    assert sorted(m.split(" needs ")[0] for m in missing) == ["sounddevice", "soundfile"]


def test_the_313_set_needs_audioreads_backports():
    wheels = extension_wheels.wheels_for("linux-x64", python="3.13")
    without = [w for w in wheels if not w.name.startswith("standard_aifc-")]
    missing = extension_wheels.missing_dependencies(without, "linux-x64", "3.13")
    assert [m.split(" needs ")[0] for m in missing] == ["audioread"]


def test_manifest_gets_version_platforms_and_wheels_before_its_tables():
    text = package_extension.manifest_text(["linux-x64", "windows-x64"], ["a-1.0-py3-none-any.whl"])
    manifest = tomllib.loads(text)
    import engine

    assert manifest["version"] == engine.__version__ == package_extension.version()  # written once, in engine
    assert manifest["platforms"] == ["linux-x64", "windows-x64"]
    assert manifest["wheels"] == ["./wheels/a-1.0-py3-none-any.whl"]
    assert manifest["permissions"] == package_extension.manifest()["permissions"]


def test_a_build_without_wheels_lists_none(tmp_path):
    target = package_extension.build(tmp_path, platforms=[])
    archive = zipfile.ZipFile(target)
    manifest = tomllib.loads(archive.read("blender_manifest.toml").decode())
    assert target.name == f"talking_head-{package_extension.version()}.zip"
    assert "wheels" not in manifest and "platforms" not in manifest and manifest["version"] == package_extension.version()
    assert not any(n.startswith("wheels/") for n in archive.namelist())
