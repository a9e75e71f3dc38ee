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


def test_numpy_is_never_pinned():
    assert not any(pin.split("==")[0] in extension_wheels.BLENDER_PROVIDES for pin in extension_wheels.RUNTIME_WHEELS)


def test_offline_download_fails_with_a_sentence_and_leaves_no_partial_files(monkeypatch, tmp_path):
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline: no index, and nothing to find locally
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nothing"))
    cache = tmp_path / "cache"
    count = len(extension_wheels.RUNTIME_WHEELS)
    with pytest.raises(WheelError, match=rf"Could not download {count} linux-x64 wheel\(s\) \(pip: No matching "
                                         r"distribution found for scipy==1\.17\.1\); connect to the internet once"):
        extension_wheels.wheels_for("linux-x64", cache)
    assert list((cache / "linux-x64").iterdir()) == []


def test_closure_check_finds_a_missing_dependency():
    wheels = extension_wheels.wheels_for("linux-x64")
    assert extension_wheels.missing_dependencies(wheels, "linux-x64") == []
    without_cffi = [w for w in wheels if not w.name.startswith("cffi-")]
    missing = extension_wheels.missing_dependencies(without_cffi, "linux-x64")
    assert sorted(m.split(" needs ")[0] for m in missing) == ["sounddevice", "soundfile"]


def test_manifest_gets_platforms_and_wheels_before_its_tables():
    text = package_extension.manifest_text(["linux-x64", "windows-x64"], ["a-1.0-py3-none-any.whl"])
    manifest = tomllib.loads(text)
    assert manifest["platforms"] == ["linux-x64", "windows-x64"]
    assert manifest["wheels"] == ["./wheels/a-1.0-py3-none-any.whl"]
    assert manifest["permissions"] == package_extension.manifest()["permissions"]


def test_a_build_without_wheels_lists_none(tmp_path):
    target = package_extension.build(tmp_path, platforms=[])
    archive = zipfile.ZipFile(target)
    manifest = tomllib.loads(archive.read("blender_manifest.toml").decode())
    assert target.name == "talking_head-0.1.0.zip"
    assert "wheels" not in manifest and "platforms" not in manifest
    assert not any(n.startswith("wheels/") for n in archive.namelist())
