"""The user-level demo flow end to end: install the extension zip -> built-in head -> animate -> .blend, video, picture."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("bpy")

CHECK_BLEND = """
import bpy, json, sys
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
scene = bpy.context.scene
strips = scene.sequence_editor.strips
head = bpy.data.objects["TalkingHead"]
key = head.data.shape_keys
scene.frame_set(20)
print(json.dumps({
    "frame_range": [scene.frame_start, scene.frame_end],
    "strips": [(s.type, s.frame_start, s.get("talking_head"), s.channel) for s in strips],
    "images": [(len(s.elements), s.directory) for s in strips if s.type == 'IMAGE'],
    "shape_action": key.animation_data.action.name,
    "rig_action": head.parent.animation_data.action.name,
    "jaw_w_at_20": head.parent.pose.bones["jaw"].rotation_quaternion[0],
}))
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe checks the video")
def test_demo_scene_end_to_end(tmp_path):
    rate = 16000
    t = np.arange(int(1.2 * rate)) / rate
    voice = tmp_path / "voice.wav"
    soundfile.write(voice, 0.3 * np.sin(2 * np.pi * 140 * t) * (np.sin(2 * np.pi * 3 * t) > 0), rate)
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, str(ROOT / "addon/scripts/demo_scene.py"), "--out", str(out),
                          "--audio", str(voice), "--fps", "25", "--size", "64"],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    installed = out / "blender-user" / "extensions" / "user_default" / "talking_head"
    assert (installed / "blender_manifest.toml").exists() and any((installed / "wheels").glob("scipy-*.whl"))
    check = subprocess.run([sys.executable, "-c", CHECK_BLEND, str(out / "demo.blend")],
                           capture_output=True, text=True, timeout=300)
    info = json.loads(check.stdout.strip().splitlines()[-1])
    assert info["frame_range"] == [1, 30]
    strips = sorted(info["strips"], key=lambda s: s[3])  # the shipped looks: the first one's frames above the voice
    assert [s[:3] for s in strips] == [["SOUND", 1, "voice"], ["IMAGE", 1, "frames"]]
    assert strips[1][3] == strips[0][3] + 1
    assert info["images"][0][0] == 30 and info["images"][0][1].startswith("//")
    assert info["shape_action"].startswith("TalkingHead") and info["rig_action"].startswith("TalkingHead")
    assert info["jaw_w_at_20"] < 1.0  # the jaw is keyed open somewhere in the clip
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width",
                            "-of", "json", str(out / "demo.mp4")], capture_output=True, text=True, check=True)
    streams = json.loads(probe.stdout)["streams"]
    assert {s["codec_type"] for s in streams} == {"video", "audio"}
    for look in ("clay", "toon"):  # every shipped look gets a video with the voice
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width", "-of", "json",
                                str(out / f"demo_{look}.mp4")], capture_output=True, text=True, check=True)
        assert {s["codec_type"] for s in json.loads(probe.stdout)["streams"]} == {"video", "audio"}
    from engine.preview import read_png

    picture = read_png(out / "demo.png")
    assert picture.shape[0] > 600 and picture.shape[1] > 600 and picture.std() > 20
