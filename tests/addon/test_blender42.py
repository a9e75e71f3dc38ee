"""On Blender 4.2 LTS the add-on registers, and the Animate operator's keying path writes legacy Actions.

The test runs this very file with `.venv-blender42/bin/python` (bpy 4.2 over .venv's
packages, made by `python3 build.py setup`). There, `blender42_facts()` enables the
repository's `addon` folder as a legacy add-on (symlinked into a fresh user scripts
folder, as developers do) twice, keys an energy-driver clip with `operators.write_clip`,
then runs the Animate operator itself (engine in a child process, then `write_clip`),
exports glTF and FBX, keys the artist's new takes over twice in Replace mode, and prints
what it finds as JSON; the assertions are made here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BLENDER42_PYTHON = ROOT / ".venv-blender42" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
ADDON = "talking_head"  # the add-on's module name in the user's scripts/addons folder
FPS, START_FRAME, VOICE_S = 24, 3, 2.0
FRAME_END_BEFORE = 10  # the scene's range before the run: shorter than the clip
SHAPES, POSE = "TalkingHead_TalkingHead_Shapes", "TalkingHead_TalkingHead_Rig_Pose"  # the Actions we make
TOLERANCE = 1e-5


# ----------------------------------------------------------------------------- pytest side

@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    return run_in_blender42(tmp_path_factory.mktemp("blender42"))


def test_registers_and_unregisters_twice(facts):
    assert facts["version"][:2] == [4, 2]
    assert facts["cycles"] == [{"on": True, "off": False}] * 2


def test_one_legacy_action_per_run_and_target(facts):
    assert facts["slotted"] is False
    for run in facts["runs"]:  # each run: one new Action per keyed ID, tagged ours; the previous run's gone
        assert sorted(run["made"]) == sorted(run["ours"]) == [POSE, SHAPES]
    assert facts["actions"] == {SHAPES: {"legacy": True, "assigned": True, "id_root": "KEY"},
                                POSE: {"legacy": True, "assigned": True, "id_root": "OBJECT"}}
    assert facts["all_actions"] == sorted(["ArtistPose", "ArtistShapes", POSE, SHAPES])


def test_keys_match_the_clip(facts):
    assert facts["same_clip"]  # the Animate operator's engine child made the clip keyed in-process first
    assert facts["shape_channels"] >= 8 and facts["bone_channels"] == 4 and facts["corrective_keyed"]
    assert facts["frame_error"] == 0.0
    assert facts["shape_error"] < TOLERANCE and facts["bone_error"] < TOLERANCE
    assert facts["evaluated_error"] < TOLERANCE  # what Blender 4.2 plays


def test_artist_actions_survive_on_muted_tracks(facts):
    assert facts["artist"] == {"ArtistShapes": [["Previous: ArtistShapes", True]],
                               "ArtistPose": [["Previous: ArtistPose", True]]}


def test_replace_mode_keeps_the_artists_takes_off_the_nla(facts):
    assert facts["replace"]["ours"] == sorted([POSE, SHAPES]) and facts["replace"]["assigned"] == [SHAPES, POSE]
    kept = {"fake_user": True, "users": 1, "same_keys": True, "on_nla": False}  # the fake user its only user
    assert facts["replace"]["takes"] == {"ArtistShapesRetake": kept, "ArtistPoseRetake": kept}


def test_scene_range_voice_and_status(facts):
    end = START_FRAME + round(VOICE_S * FPS) - 1
    assert facts["frames"] == [1, end]  # extended to the clip's end, the earlier start kept
    voice = [facts["voice"], START_FRAME]
    assert facts["voice_strips"] == ([voice] if facts["audaspace"] else [voice, voice])
    assert facts["keyed"] == facts["clip_channels"]  # the built-in head takes every channel
    assert facts["status"] == f"Keyed {facts['keyed']} channels over frames {START_FRAME}-{end} from voice.wav."


def test_gltf_and_fbx_exports(facts):
    assert facts["exports"] == {"gltf": ["FINISHED"], "fbx": ["FINISHED"], "kinds": ["glTF", "Kaydara FBX Binary"],
                                "gltf_paths": ["rotation", "scale", "translation", "weights"]}


def run_in_blender42(tmp_path) -> dict:
    """Run `blender42_facts` in the 4.2 environment on a 2 s synthetic voice; its JSON facts."""
    if not BLENDER42_PYTHON.exists():
        pytest.fail(f"{BLENDER42_PYTHON.parent.parent.name} is missing: run `python3 build.py setup` "
                    "(it downloads bpy 4.2 once; its warning says why it could not).")
    import soundfile

    addons = tmp_path / "user" / "scripts" / "addons"
    addons.mkdir(parents=True)
    (addons / ADDON).symlink_to(ROOT / "addon", target_is_directory=True)
    voice = tmp_path / "voice.wav"
    t = np.arange(int(VOICE_S * 16000)) / 16000
    soundfile.write(voice, 0.3 * np.sin(2 * np.pi * 150 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)), 16000)
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"))
    env.pop("PYTHONPATH", None)  # the add-on finds the checkout's engine itself (engine_link)
    run = subprocess.run([str(BLENDER42_PYTHON), __file__, str(voice)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-1500:] + run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- Blender 4.2 side

def blender42_facts(voice: str) -> dict:
    """Enable/disable twice, then key a clip twice through `write_clip` and export; what Blender holds."""
    import bpy  # first: it puts Blender's own modules (addon_utils) on the path
    import addon_utils

    assert bpy.app.version[:2] == (4, 2), bpy.app.version_string
    bpy.ops.wm.read_factory_settings(use_empty=True)
    facts = {"version": list(bpy.app.version), "cycles": [register_cycle() for _ in range(2)]}
    enable_addon()
    facts.update(keying_facts(voice))
    facts["exports"] = export_files(Path(voice).parent)
    facts["all_actions"] = sorted(a.name for a in bpy.data.actions)
    facts["replace"] = replace_facts(voice)
    addon_utils.disable(ADDON, default_set=True, handle_error=_raise)
    return facts


def register_cycle() -> dict:
    """Enable then disable the add-on: whether its settings and panel were there, and are left behind."""
    import addon_utils
    import bpy

    enable_addon()
    on = hasattr(bpy.types.Scene, ADDON) and hasattr(bpy.types, "TALKINGHEAD_PT_main")
    addon_utils.disable(ADDON, default_set=True, handle_error=_raise)
    return {"on": on, "off": hasattr(bpy.types.Scene, ADDON) or hasattr(bpy.types, "TALKINGHEAD_PT_main")}


def keying_facts(voice: str) -> dict:
    """Built-in head with the artist's Actions, an energy-driver clip written twice as Animate does."""
    import bpy
    from talking_head.blender import action_compat, sequencer
    from talking_head.ops import operators
    from talking_head.engine_link import results
    from talking_head.engine_link import engine

    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = FPS, 1.0
    scene.frame_start, scene.frame_end = 1, FRAME_END_BEFORE
    assert bpy.ops.talking_head.add_builtin_head() == {'FINISHED'}
    mesh = scene.talking_head.target
    rig, key = mesh.parent, mesh.data.shape_keys
    key_artist_actions(key, rig)
    clip = engine.animate(voice, fps=FPS, driver="energy", start_frame=START_FRAME)
    facts = {"audaspace": bpy.app.build_options.audaspace, "runs": [], "voice": voice}
    sounds = []
    if not facts["audaspace"]:  # PyPI's bpy 4.2 has no sound: sound strips cannot exist, note the call
        sequencer.place_sound = lambda scene, filepath, frame_start: sounds.append([filepath, frame_start])
    result = operators.write_clip(bpy.context, scene, mesh, clip, voice, START_FRAME)  # what Animate calls
    facts["runs"].append(run_facts([a.name for a in result.actions]))
    settings = scene.talking_head  # then the operator itself: the engine in a child process, then write_clip
    settings.audio_path, settings.driver, settings.start_frame = voice, "energy", START_FRAME
    before = set(bpy.data.actions)
    assert bpy.ops.talking_head.animate() == {'FINISHED'}
    facts["runs"].append(run_facts([a.name for a in bpy.data.actions if a not in before]))
    facts["same_clip"] = results.latest(mesh) == clip  # the child's clip is the one made here
    clip = results.latest(mesh)  # the clip the operator keyed
    shapes, pose = key.animation_data.action, rig.animation_data.action
    facts.update(compare_keys(clip, key, shapes, pose), evaluated_error=evaluated_error(scene, clip, key, rig),
                 slotted=action_compat.slotted_actions(), keyed=len(result.keyed), clip_channels=len(clip.names),
                 frames=[scene.frame_start, scene.frame_end], status=scene.talking_head.status,
                 corrective_keyed=shapes.fcurves.find('key_blocks["pose:jaw:21"].value') is not None,
                 actions={a.name: describe_action(a, owner) for a, owner in ((shapes, key), (pose, rig))},
                 artist={name: artist_tracks(owner, name) for name, owner in
                         (("ArtistShapes", key), ("ArtistPose", rig))})
    editor = scene.sequence_editor
    facts["voice_strips"] = [[s.sound.filepath, s.frame_start] for s in getattr(editor, "sequences_all", ())
                             if s.get(action_compat.OWNER_TAG)] or list(sounds)  # Replace mode's runs add more
    return facts


def replace_facts(voice: str) -> dict:
    """The artist deletes our Actions and keys new takes (…Retake); two runs in Replace mode follow."""
    import bpy
    from talking_head.blender import existing_action
    from talking_head.ops import operators
    from talking_head.engine_link import results
    from talking_head.blender.action_compat import OWNER_TAG

    scene = bpy.context.scene
    mesh = scene.talking_head.target
    rig, key = mesh.parent, mesh.data.shape_keys
    for action in [a for a in bpy.data.actions if a.get(OWNER_TAG)]:
        bpy.data.actions.remove(action)
    key_artist_actions(key, rig, take="Retake")
    takes = {name: bpy.data.actions[name] for name in ("ArtistShapesRetake", "ArtistPoseRetake")}
    before = {name: legacy_curves(action) for name, action in takes.items()}
    for _ in range(2):
        operators.write_clip(bpy.context, scene, mesh, results.latest(mesh), voice, START_FRAME,
                             existing=existing_action.REPLACE)
    on_nla = {s.action.name for owner in (key, rig) for t in owner.animation_data.nla_tracks for s in t.strips}
    return {"ours": sorted(a.name for a in bpy.data.actions if a.get(OWNER_TAG)),
            "assigned": [key.animation_data.action.name, rig.animation_data.action.name],
            "takes": {name: {"fake_user": a.use_fake_user, "users": a.users, "on_nla": name in on_nla,
                             "same_keys": legacy_curves(a) == before[name]} for name, a in takes.items()}}


def legacy_curves(action) -> list:
    """Every F-Curve of a legacy Action as (data path, index, keys), sorted."""
    return sorted((fc.data_path, fc.array_index, [tuple(k.co) for k in fc.keyframe_points]) for fc in action.fcurves)


def run_facts(made: list) -> dict:
    """The Actions one run made, and every Action tagged as ours afterwards."""
    import bpy

    from talking_head.blender.action_compat import OWNER_TAG

    return {"made": made, "ours": [a.name for a in bpy.data.actions if a.get(OWNER_TAG)]}


def export_files(folder: Path) -> dict:
    """The add-on's glTF and FBX exports of the keyed head: operator results, file kinds, glTF animation."""
    import bpy

    glb, fbx = folder / "head.glb", folder / "head.fbx"
    out = {"gltf": sorted(bpy.ops.talking_head.export_gltf(filepath=str(glb), gltf_format="GLB")),
           "fbx": sorted(bpy.ops.talking_head.export_fbx(filepath=str(fbx)))}
    data = glb.read_bytes()
    gltf = json.loads(data[20:20 + int.from_bytes(data[12:16], "little")])  # the GLB's JSON chunk
    out["gltf_paths"] = sorted({c["target"]["path"] for a in gltf.get("animations", []) for c in a["channels"]})
    out["kinds"] = [data[:4].decode("latin-1"), fbx.read_bytes()[:18].decode("latin-1")]
    return out


def enable_addon() -> None:
    import addon_utils

    addon_utils.enable(ADDON, default_set=True, handle_error=_raise)


def _raise(error: Exception) -> None:
    raise error


def key_artist_actions(key, rig, take: str = "") -> None:
    """The artist's own keys, made the ordinary way: Actions ArtistShapes<take>, ArtistPose<take>."""
    key.key_blocks["mouthFunnel"].value = 0.5
    key.key_blocks["mouthFunnel"].keyframe_insert("value", frame=1)
    key.animation_data.action.name = "ArtistShapes" + take
    rig.pose.bones["neck"].keyframe_insert("rotation_quaternion", frame=1)
    rig.animation_data.action.name = "ArtistPose" + take


def describe_action(action, owner) -> dict:
    """Legacy (F-Curves on the Action itself, no slots or layers) and assigned to its owner."""
    legacy = ("slots" not in action.bl_rna.properties and "layers" not in action.bl_rna.properties
              and len(action.fcurves) > 0)
    return {"legacy": legacy, "assigned": owner.animation_data.action == action, "id_root": action.id_root}


def fcurve_keys(action, path: str, index: int = 0) -> np.ndarray:
    """(frame, value) [K, 2] of the legacy F-Curve `path[index]`."""
    points = action.fcurves.find(path, index=index).keyframe_points
    co = np.empty(2 * len(points), np.float32)
    points.foreach_get("co", co)
    return co.reshape(-1, 2)


def clip_quaternions(clip, joint: str) -> np.ndarray:
    """The clip's axis-angle rotation of `joint` as unit quaternions [T, 4] (w, x, y, z), via mathutils."""
    from mathutils import Quaternion

    cols = [clip.channel(f"{joint}_r{a}") if clip.has_channel(f"{joint}_r{a}") else np.zeros(clip.num_frames)
            for a in "xyz"]
    aa = np.stack(cols, axis=1).astype(np.float64)
    return np.array([tuple(Quaternion(v / max(np.linalg.norm(v), 1e-12), np.linalg.norm(v))) for v in aa])


def compare_keys(clip, key, shapes, pose) -> dict:
    """Largest frame and value errors of the keys against the clip: shape keys by name, bones by rotation."""
    frames = clip.start_frame + np.arange(clip.num_frames)
    frame_error, shape_error, bone_error, shape_channels, bone_channels = 0.0, 0.0, 0.0, 0, 0
    for name in clip.names:
        if name in key.key_blocks:
            keys = fcurve_keys(shapes, f'key_blocks["{name}"].value')
            frame_error = max(frame_error, float(np.abs(keys[:, 0] - frames).max()))
            shape_error = max(shape_error, float(np.abs(keys[:, 1] - clip.channel(name)).max()))
            shape_channels += 1
    for joint in ("jaw", "neck", "eye_left", "eye_right"):
        path = f'pose.bones["{joint}"].rotation_quaternion'
        keys = np.stack([fcurve_keys(pose, path, i) for i in range(4)], axis=1)  # [T, 4, 2]
        frame_error = max(frame_error, float(np.abs(keys[:, :, 0] - frames[:, None]).max()))
        bone_error = max(bone_error, sign_free_error(keys[:, :, 1], clip_quaternions(clip, joint)))
        bone_channels += 1
    return {"frame_error": frame_error, "shape_error": shape_error, "bone_error": bone_error,
            "shape_channels": shape_channels, "bone_channels": bone_channels}


def sign_free_error(q: np.ndarray, expected: np.ndarray) -> float:
    """Largest distance [T] between quaternions [T, 4], q and -q being the same rotation."""
    return float(np.minimum(np.linalg.norm(q - expected, axis=1), np.linalg.norm(q + expected, axis=1)).max())


def evaluated_error(scene, clip, key, rig) -> float:
    """What Blender 4.2 plays where the mouth opens most (the Actions evaluated) against the clip there."""
    lower_lip = clip.channel("mouthLowerDownLeft")
    t = int(np.argmax(lower_lip))
    assert lower_lip[t] > 0.1 and np.linalg.norm(clip_quaternions(clip, "jaw")[t, 1:]) > 0.01  # not the rest pose
    scene.frame_set(clip.start_frame + t)
    shape = abs(key.key_blocks["mouthLowerDownLeft"].value - float(lower_lip[t]))
    jaw = np.array(tuple(rig.pose.bones["jaw"].rotation_quaternion))[None]
    return max(shape, sign_free_error(jaw, clip_quaternions(clip, "jaw")[t:t + 1]))


def artist_tracks(owner, action_name: str) -> list:
    """[track name, muted] of the owner's NLA tracks holding the artist's Action (which must still exist)."""
    import bpy

    action = bpy.data.actions.get(action_name)
    if action is None:
        return []
    return [[t.name, t.mute] for t in owner.animation_data.nla_tracks
            if any(s.action == action for s in t.strips)]


if __name__ == "__main__":  # run by `run_in_blender42` with bpy 4.2
    print(json.dumps(blender42_facts(sys.argv[-1])), flush=True)
    # PyPI's bpy 4.2.23 crashes while Python exits after any glTF export (a plain script exporting
    # a cube does too): leave without the interpreter's teardown; errors above still exit non-zero.
    os._exit(0)
