"""Run in a Blender release's Python by tests/addon/test_extension_blenders.py (standard library, numpy, bpy).

    python extension_facts.py isolate FOLDER   # a venv of this Python with only bpy and what bpy needs
    python extension_facts.py facts ZIP VOICE  # install, enable, Animate, Preview there; JSON facts on stdout
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np

RUNTIME_MODULES = ("scipy", "soundfile", "soxr", "audioread", "onnxruntime", "pocketsphinx")
PACKAGE = "bl_ext.user_default.talking_head"
FPS = 24


def isolate(folder: str) -> None:
    """A venv of this interpreter's Python holding links to bpy and its own requirements, nothing else."""
    import importlib.metadata
    import sysconfig
    import venv

    venv.create(folder, with_pip=False, symlinks=os.name != "nt")
    site = Path(sysconfig.get_path("purelib", vars={"base": folder, "platbase": folder}))
    for name in bpy_closure():
        distribution = importlib.metadata.distribution(name)
        for top in sorted({f.parts[0] for f in distribution.files or () if f.parts[0] not in ("..", "__pycache__")}):
            source, target = Path(distribution.locate_file(top)), site / top
            if source.exists() and not target.exists():
                target.symlink_to(source, target_is_directory=source.is_dir())


def bpy_closure() -> set:
    """Names of bpy and the distributions it requires, recursively (extras left out)."""
    import importlib.metadata

    names, todo = set(), ["bpy"]
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in names:
            continue
        names.add(name)
        for line in importlib.metadata.requires(name) or ():
            if "extra ==" not in line and "python_version < '3.1" not in line:
                todo.append(re.match(r"[A-Za-z0-9._-]+", line).group(0))
    return names


def blender_facts(zip_path: str, voice: str) -> dict:
    """Install and enable the zip, add the built-in head, Animate, Preview: what Blender then holds."""
    import importlib
    import importlib.util

    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    os.environ.pop("TALKING_HEAD_CACHE", None)  # as a user's Blender starts: the add-on chooses the cache
    before = [m for m in RUNTIME_MODULES if importlib.util.find_spec(m) is not None]
    bpy.ops.extensions.package_install_files(filepath=zip_path, repo='user_default', enable_on_install=True)
    sequencer = importlib.import_module(PACKAGE + ".blender.sequencer")
    image_editor = importlib.import_module(PACKAGE + ".blender.image_editor")
    results = importlib.import_module(PACKAGE + ".engine_link.results")
    sounds = []
    if not bpy.app.build_options.audaspace:  # PyPI's bpy 4.2 has no sound: strips cannot exist, note the call
        sequencer.place_sound = lambda scene, filepath, frame_start: sounds.append([filepath, frame_start])
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = FPS, 1.0
    assert bpy.ops.talking_head.add_builtin_head() == {'FINISHED'}
    settings = scene.talking_head
    settings.audio_path = voice  # the default driver: the ADF network on onnxruntime
    assert bpy.ops.talking_head.animate() == {'FINISHED'}
    mesh = settings.target
    clip = results.latest(mesh)
    facts = {"version": list(bpy.app.version), "python": [str(v) for v in sys.version_info[:2]],
             "numpy": importlib.import_module("numpy").__version__, "importable_before": before,
             "addons": list(bpy.context.preferences.addons.keys()), "status": settings.status,
             "engines": sorted(m for m in sys.modules if m == "engine" or m.endswith("talking_head.engine")),
             "extensions": bpy.utils.user_resource('EXTENSIONS'),
             "located": {m: importlib.import_module(m).__file__ for m in RUNTIME_MODULES},
             "compiled_wheels": compiled_wheel_tags(), "voice": voice_strip(scene) or (sounds[0] if sounds else None)}
    facts.update(keyed_curves(mesh), evaluated_error=evaluated_error(scene, clip, mesh))
    facts["preview"] = preview_facts(scene, image_editor)
    cache = os.environ.get("TALKING_HEAD_CACHE")
    facts["cache"] = {"folder": cache, "extension_user": bpy.utils.extension_path_user(PACKAGE),
                      "files": sorted(p.name for p in Path(cache).iterdir()) if cache else []}
    return facts


def compiled_wheel_tags() -> list:
    """The Python tags (cp311, ...) of the compiled packages Blender installed from the zip's wheels."""
    import bpy

    site = Path(bpy.utils.user_resource('EXTENSIONS')) / ".local"
    return sorted({"cp" + p.name.split(".")[-2].split("-")[1] for p in site.rglob("*.cpython-*.so")} |
                  {"cp" + p.name.split("-")[0] for p in site.rglob("*.cp3*-win_amd64.pyd")})


def keyed_curves(mesh) -> dict:
    """How many F-Curves our Actions hold on the shape keys and on the rig's bones."""
    import importlib

    compat = importlib.import_module(PACKAGE + ".blender.action_compat")
    shapes, pose = mesh.data.shape_keys.animation_data.action, mesh.parent.animation_data.action
    return {"shape_curves": len(list(compat.fcurves_of(shapes))), "bone_curves": len(list(compat.fcurves_of(pose)))}


def evaluated_error(scene, clip, mesh) -> float:
    """What Blender plays (the Actions evaluated) against the clip, on the shape key that moves most,
    at the frame where it is furthest from its rest value."""
    keys = mesh.data.shape_keys.key_blocks
    moving = {name: clip.channel(name) for name in clip.names if name in keys}
    name = max(moving, key=lambda n: np.ptp(moving[n]))
    t = int(np.argmax(np.abs(moving[name] - moving[name][0])))
    assert np.ptp(moving[name]) > 0.01, name  # not a still clip
    scene.frame_set(clip.start_frame + t)
    return abs(keys[name].value - float(moving[name][t]))


def voice_strip(scene):
    """[file, start frame] of the sound strip Animate placed, or None."""
    editor = scene.sequence_editor
    strips = getattr(editor, "strips_all", None) or getattr(editor, "sequences_all", ()) if editor else ()
    return next(([s.sound.filepath, s.frame_start] for s in strips if s.type == 'SOUND'), None)


def preview_facts(scene, image_editor) -> dict:
    """Preview frame 12 at 256 in the first shipped look: the operator's result, status and image."""
    import bpy

    scene.frame_set(12)
    scene.talking_head.render.size = '256'
    result = sorted(bpy.ops.talking_head.render_preview())
    image = bpy.data.images.get(image_editor.PREVIEW_IMAGE)
    facts = {"result": result, "status": scene.talking_head.render.status}
    if image is not None:
        pixels = np.empty(len(image.pixels), np.float32)
        image.pixels.foreach_get(pixels)
        facts.update(size=list(image.size), alpha_max=float(pixels[3::4].max()))
    return facts


if __name__ == "__main__":
    if sys.argv[1] == "isolate":
        isolate(sys.argv[2])
    else:
        print(json.dumps(blender_facts(sys.argv[2], sys.argv[3])), flush=True)
        os._exit(0)  # PyPI's bpy 4.2 can crash in the interpreter's teardown; errors above still exit non-zero
