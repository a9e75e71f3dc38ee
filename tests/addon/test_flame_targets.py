"""FLAME targets: a head from the user's FLAME file, and a head made by the FLAME Blender add-on.

Both carry expression keys that are principal components (`exp000`.., `Exp1`..) and mean nothing to
an ARKit-named clip, so Animate fits them to the built-in head's expressions (signed weights) and keys
them through that stored mapping; the jaw, neck and eyes go to their bones by name.

The FLAME-like files here are the built-in head's own mesh, joints, skinning and correctives with 100
expression components that are signed mixtures of its 40 named expressions (as principal components
are), so what a keyed FLAME head does can be checked against the built-in head's own motion.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from addon_fixtures import write_voice
from test_retarget import drawn_labels

bpy = pytest.importorskip("bpy")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine" / "head"))
import flame_fixture  # noqa: E402  (tests/engine/head: synthetic FLAME-format files)

START = 5
UPPER_LIP, LOWER_LIP = 62, 66  # iBUG-68 inner lip centres
FLAME_ADDON_BONES = {"neck": "neck", "jaw": "jaw", "eye_left": "left_eye", "eye_right": "right_eye"}


@pytest.fixture(scope="module")
def builtin():
    from engine import load_head

    return load_head()


@pytest.fixture(scope="module")
def mixing(builtin):
    """[E, 100]: FLAME component k is sum_e mixing[e, k] * expression e, times a PCA-like scale."""
    rng = np.random.default_rng(3)
    rows = np.linalg.qr(rng.normal(size=(flame_fixture.N_EXPR, builtin.exprdirs.shape[2])))[0].T
    return rows * np.linspace(2.0, 0.5, flame_fixture.N_EXPR)


def flame_expressions(builtin, mixing) -> np.ndarray:
    """The FLAME-like head's expression basis [V, 3, 100]."""
    return np.einsum("vce,ek->vck", builtin.exprdirs.astype(np.float64), mixing)


def flame_like_file(folder, builtin, mixing) -> Path:
    """A FLAME 2020-style pickle of the built-in head with principal-component expressions."""
    V = builtin.num_vertices
    shapedirs = np.concatenate([np.zeros((V, 3, flame_fixture.N_SHAPE)), flame_expressions(builtin, mixing)], 2)
    arrays = {"v_template": builtin.v_template.astype(np.float64), "f": builtin.faces.astype(np.uint32),
              "shapedirs": shapedirs, "posedirs": builtin.posedirs.astype(np.float64),
              "J_regressor": sp.csc_matrix(builtin.j_regressor.astype(np.float64)),
              "weights": builtin.weights.astype(np.float64),
              "kintree_table": np.array([[flame_fixture.ROOT_PARENT, 0, 1, 1, 1], [0, 1, 2, 3, 4]], np.int64)}
    path = folder / "generic_model.pkl"
    flame_fixture.write_flame2020(path, arrays)
    return path


def speaking_clip(T=10):
    """Lips part by expressions alone over frames 0-4, then the jaw opens too; the head turns a little."""
    from engine.motion import MotionClip

    lips = np.clip(np.linspace(0.0, 1.25, T), 0.0, 1.0)
    jaw = np.clip(np.linspace(-0.2, 0.25, T), 0.0, None)
    channels = {"mouthLowerDownLeft": lips, "mouthLowerDownRight": lips, "mouthUpperUpLeft": 0.5 * lips,
                "mouthUpperUpRight": 0.5 * lips, "browInnerUp": 0.6 * lips, "jaw_rx": jaw,
                "neck_ry": 0.1 * lips, "eye_left_ry": 0.2 * lips, "eye_right_ry": 0.2 * lips}
    return MotionClip(names=list(channels), values=np.stack(list(channels.values()), 1).astype(np.float32),
                      fps=24.0, start_frame=START)


def keyed(id_block, path, index=0):
    """(frames [n], values [n]) keyed on `path[index]` in the ID's active Action, or None."""
    from addon.blender.action_compat import fcurves_of

    fcurve = next((fc for fc in fcurves_of(id_block.animation_data.action)
                   if fc.data_path == path and fc.array_index == index), None)
    if fcurve is None:
        return None
    keys = np.array([tuple(k.co) for k in fcurve.keyframe_points])
    return keys[:, 0], keys[:, 1]


def expected_vertices(builtin, clip, frame: int) -> np.ndarray:
    """The built-in head's own vertices [V, 3] (FLAME axes) at clip frame `frame`: FLAME's skinning with
    the joints kept at rest, as Blender's bones are (expressions do not move them)."""
    from engine.head import lbs
    from engine.motion.channels import head_params

    params = head_params(clip.names, clip.values[[frame]], builtin.expression_names)
    rotations = lbs.batch_rodrigues(params["pose"].reshape(-1, 3)).reshape(1, -1, 3, 3)
    _, transforms = lbs.batch_rigid_transform(rotations, builtin.rest_joints()[None], builtin.parents)
    shaped = (builtin.v_template + np.einsum("vce,e->vc", builtin.exprdirs, params["expression"][0])
              + np.einsum("vcp,p->vc", builtin.posedirs, lbs.pose_features(rotations)[0]))
    return lbs.skin(shaped[None], builtin.weights, transforms)[0]


def local_vertices(context, obj) -> np.ndarray:
    """The object's evaluated vertices [V, 3] in its own coordinates, FLAME axes."""
    from addon.blender.axes import to_flame

    evaluated = obj.evaluated_get(context.evaluated_depsgraph_get())
    mesh = evaluated.to_mesh()
    co = np.empty(len(mesh.vertices) * 3, np.float32)
    mesh.vertices.foreach_get("co", co)
    evaluated.to_mesh_clear()
    return to_flame(co.reshape(-1, 3).astype(np.float64))


def lip_gap(vertices, landmarks) -> float:
    """Distance between the inner lip centres (metres)."""
    return float(np.linalg.norm(vertices[landmarks[LOWER_LIP]] - vertices[landmarks[UPPER_LIP]]))


def check_keys_follow_the_mapping(mesh, clip, mapping) -> None:
    """Every Exp key the mapping drives is keyed on the clip's frames with the fit's prediction."""
    from engine.retarget import shape_channels

    names, values, _ = shape_channels(clip, skip_joints=("jaw", "neck", "eye_left", "eye_right"))
    targets, predicted = mapping.apply(names, values)
    assert len(targets) >= 10
    for k, target in enumerate(targets):
        frames, got = keyed(mesh.data.shape_keys, f'key_blocks["{target}"].value')
        np.testing.assert_array_equal(frames, START + np.arange(clip.num_frames))
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, predicted[:, k], atol=1e-5)
    assert np.abs(predicted[-1]).max() > 0.05  # the open mouth moves the keys


def check_mouth_opens_as_the_builtin_head(context, mesh, clip, builtin) -> None:
    """The keyed FLAME head's landmarks move as the built-in head's would (within 5% of their motion), and
    its lips part, by expressions alone and then with the jaw."""
    from addon.blender import fitting

    landmarks = fitting.landmark_indices(mesh)
    rest = builtin.v_template[landmarks]
    gaps = {}
    for frame in (0, 4, 9):
        context.scene.frame_set(START + frame)
        got, want = local_vertices(context, mesh), expected_vertices(builtin, clip, frame)
        error = np.linalg.norm(got[landmarks] - want[landmarks], axis=1).max()
        assert error <= 0.05 * np.linalg.norm(want[landmarks] - rest, axis=1).max() + 1e-6
        gaps[frame] = lip_gap(got, landmarks)
    assert gaps[4] > gaps[0] + 0.003   # expressions alone part the lips
    assert gaps[9] > gaps[4] + 0.02    # the jaw opens the mouth


# ---- (a) a head from the user's FLAME file ---------------------------------------------------------

def test_add_flame_head_builds_the_mesh_keys_and_bones(blender, tmp_path):
    path = tmp_path / "generic_model.pkl"
    arrays = flame_fixture.make_flame_arrays()
    flame_fixture.write_flame2020(path, arrays)
    assert bpy.ops.talking_head.add_flame_head(filepath=str(path)) == {'FINISHED'}
    mesh = blender.scene.talking_head.target
    assert mesh.name == "FLAME_generic_model" and len(mesh.data.vertices) == flame_fixture.V
    names = [b.name for b in mesh.data.shape_keys.key_blocks]
    assert [n for n in names if n.startswith("exp")] == [f"exp{i:03d}" for i in range(flame_fixture.N_EXPR)]
    rig = mesh.parent
    assert {"neck", "jaw", "eye_left", "eye_right"} <= {b.name for b in rig.data.bones}
    co = np.empty(flame_fixture.V * 3, np.float32)
    mesh.data.vertices.foreach_get("co", co)  # Z up: FLAME's y is Blender's z
    np.testing.assert_allclose(co.reshape(-1, 3)[:, 2], arrays["v_template"][:, 1], atol=1e-6)


@pytest.mark.parametrize("make, words", [
    (lambda folder: folder / "missing.pkl", "does not exist"),
    (lambda folder: (folder / "notes.pkl").write_text("hello") and folder / "notes.pkl", "not a Python pickle"),
    (lambda folder: folder / "short.pkl", "'posedirs' of shape (5023, 3, 35)"),
])
def test_bad_flame_files_add_nothing(blender, tmp_path, make, words):
    from engine import load_head
    from engine.errors import HeadModelError

    arrays = flame_fixture.make_flame_arrays()
    arrays["posedirs"] = arrays["posedirs"][:, :, :35]
    flame_fixture.write_flame2023(tmp_path / "short.pkl", arrays)
    path = make(tmp_path)
    with pytest.raises(HeadModelError) as loader:
        load_head(path)
    sentence = str(loader.value)
    assert words in sentence and sentence.endswith(".") and "\n" not in sentence
    with pytest.raises(RuntimeError) as report:
        bpy.ops.talking_head.add_flame_head(filepath=str(path))
    assert sentence in str(report.value)
    assert len(bpy.data.objects) == 0 and len(bpy.data.meshes) == 0 and len(bpy.data.armatures) == 0
    assert blender.scene.talking_head.target is None


def test_animating_a_flame_head_keys_its_expressions_and_jaw(blender, tmp_path, builtin, mixing):
    from addon.blender import mapping_store
    from addon.ops import operators

    path = flame_like_file(tmp_path, builtin, mixing)
    assert bpy.ops.talking_head.add_flame_head(filepath=str(path)) == {'FINISHED'}
    mesh = blender.scene.talking_head.target
    mapping = mapping_store.stored_mapping(mesh)  # fitted when the head was added, before any Animate
    assert mapping.method == "fit" and mapping.signed
    assert any(w < 0 for pairs in mapping.targets.values() for _, w in pairs)  # components of either sign
    assert {"mouthLowerDownLeft", "mouthSmileLeft", "eyeBlinkLeft", "browInnerUp"} <= set(mapping.targets)
    labels = drawn_labels(blender)  # the Mapping panel shows it, largest weights first
    assert "Stored (fit)" in labels and any(t.endswith(" keys)") for t in labels)
    clip = speaking_clip()
    operators.write_clip(blender, blender.scene, mesh, clip, str(write_voice(tmp_path)), START)
    check_keys_follow_the_mapping(mesh, clip, mapping)
    frames, w = keyed(mesh.parent, 'pose.bones["jaw"].rotation_quaternion')
    np.testing.assert_array_equal(frames, START + np.arange(clip.num_frames))
    np.testing.assert_allclose(2 * np.arccos(np.clip(w, -1, 1)), clip.channel("jaw_rx"), atol=1e-5)
    check_mouth_opens_as_the_builtin_head(blender, mesh, clip, builtin)


# ---- (b) a head made by the FLAME Blender add-on ----------------------------------------------------

def flame_addon_head(context, builtin, mixing):
    """What the FLAME Blender add-on adds: mesh 'FLAME-generic' (Z up) with keys Shape1.., Exp1..Exp100 and
    Pose1..Pose18 (neck, jaw), skinned to and parented under armature 'FLAME2020' (bones root, neck, jaw,
    left_eye, right_eye at the joints, pointing up); moved off the origin, turned and scaled."""
    from addon.blender.axes import to_blender

    data = bpy.data.armatures.new("FLAME2020")
    rig = bpy.data.objects.new("FLAME2020", data)
    context.collection.objects.link(rig)
    context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode='EDIT')
    bones = []
    for j, (name, joint) in enumerate(zip(("root", "neck", "jaw", "left_eye", "right_eye"),
                                          to_blender(builtin.rest_joints()))):
        bone = data.edit_bones.new(name)
        bone.head, bone.tail = joint, joint + np.array([0.0, 0.0, 0.01])
        bone.parent = bones[builtin.parents[j]] if j else None
        bones.append(bone)
    bpy.ops.object.mode_set(mode='OBJECT')
    mesh = bpy.data.meshes.new("FLAME-generic")
    mesh.from_pydata(to_blender(builtin.v_template).tolist(), [], builtin.faces.tolist())
    obj = bpy.data.objects.new("FLAME-generic", mesh)
    context.collection.objects.link(obj)
    rest = builtin.v_template.astype(np.float64)
    offsets = [(f"Shape{k + 1}", 0.01 * rest * (k + 1)) for k in range(3)]
    exp = flame_expressions(builtin, mixing)
    offsets += [(f"Exp{k + 1}", exp[:, :, k]) for k in range(exp.shape[2])]
    offsets += [(f"Pose{k + 1}", builtin.posedirs[:, :, k]) for k in range(18)]
    obj.shape_key_add(name="Basis", from_mix=False)
    for name, offset in offsets:
        block = obj.shape_key_add(name=name, from_mix=False)
        block.data.foreach_set("co", to_blender(rest + offset).astype(np.float32).ravel())
        block.value = 0.0
    for j, bone in enumerate(("root", "neck", "jaw", "left_eye", "right_eye")):
        group = obj.vertex_groups.new(name=bone)
        for value in np.unique(builtin.weights[:, j][builtin.weights[:, j] > 0]):
            group.add(np.nonzero(builtin.weights[:, j] == value)[0].tolist(), float(value), 'REPLACE')
    obj.modifiers.new("Armature", 'ARMATURE').object = rig
    obj.parent = rig
    rig.location, rig.rotation_euler, rig.scale = (0.4, -1.0, 1.2), (0.0, 0.0, 0.6), (1.5, 1.5, 1.5)
    context.view_layer.update()
    return obj, rig


def test_a_flame_addon_head_is_fitted_and_keyed_by_animate(blender, tmp_path, builtin, mixing):
    from addon.blender import fitting, mapping_store, target_rig
    from addon.ops import operators
    from engine.head.lbs import batch_rodrigues

    mesh, rig = flame_addon_head(blender, builtin, mixing)
    settings = blender.scene.talking_head
    settings.target, settings.audio_path = mesh, str(write_voice(tmp_path))
    assert fitting.is_flame_head(mesh) and mapping_store.stored_mapping(mesh) is None
    operators.AnimateRun(blender)  # what Animate does first: the fit, before the engine starts
    mapping = mapping_store.stored_mapping(mesh)
    assert mapping.method == "fit" and mapping.signed and mapping.bones == FLAME_ADDON_BONES
    assert set(mapping.target_names()) <= {f"Exp{k}" for k in range(1, 101)}  # never Shape* or Pose*
    assert len(fitting.landmark_indices(mesh)) == 68
    assert "Pose1" not in target_rig.shape_key_targets(mesh)

    clip = speaking_clip()
    result = operators.write_clip(blender, blender.scene, mesh, clip, settings.audio_path, START)
    check_keys_follow_the_mapping(mesh, clip, mapping)
    assert keyed(mesh.data.shape_keys, 'key_blocks["Shape1"].value') is None
    for joint, bone in FLAME_ADDON_BONES.items():
        channel = "jaw_rx" if joint == "jaw" else f"{joint}_ry"
        assert result.keyed[channel] == f'pose.bones["{bone}"].rotation_quaternion'
    jaw = batch_rodrigues(np.stack([clip.channel("jaw_rx"), 0 * clip.channel("jaw_rx"), 0 * clip.channel("jaw_rx")], 1))
    _, pose14 = keyed(mesh.data.shape_keys, 'key_blocks["Pose14"].value')  # jaw (R - I)[1, 1]
    np.testing.assert_allclose(pose14, jaw[:, 1, 1] - 1.0, atol=1e-6)
    check_mouth_opens_as_the_builtin_head(blender, mesh, clip, builtin)


def test_a_mapping_made_by_hand_is_kept(blender, builtin, mixing):
    from addon.blender import fitting, mapping_store
    from engine.retarget import Mapping

    mesh, _ = flame_addon_head(blender, builtin, mixing)
    mapping_store.store_mapping(mesh, Mapping(targets={"jawOpen": [("Exp1", 0.5)]}))
    assert not fitting.needs_automatic_fit(mesh) and fitting.ensure_mapping(mesh) is None
    assert mapping_store.stored_mapping(mesh).targets == {"jawOpen": [("Exp1", 0.5)]}


def test_a_landmark_embedding_file_places_the_landmarks(blender, tmp_path, builtin, mixing):
    from addon.blender import fitting, mapping_store

    path = flame_like_file(tmp_path, builtin, mixing)
    emb = builtin.landmark_embedding
    inner = emb.ids >= 17  # FLAME's static embedding: 51 points, no jaw line
    lmk = tmp_path / "static_embedding.npz"
    np.savez(lmk, faces=emb.faces[inner], bary=emb.bary[inner], ids=emb.ids[inner])
    assert bpy.ops.talking_head.add_flame_head(filepath=str(path), landmarks=str(lmk)) == {'FINISHED'}
    mesh = blender.scene.talking_head.target
    stored = np.array(fitting.landmark_indices(mesh))
    corners = builtin.faces[emb.faces]
    exact = corners[np.arange(len(corners)), np.argmax(emb.bary, axis=1)]
    np.testing.assert_array_equal(stored[emb.ids[inner]], exact[inner])
    from engine.head.landmarks import landmarks

    np.testing.assert_array_equal(stored[:17], fitting.landmarks_from_joints(mesh)[:17])  # the jaw line
    jaw_line = builtin.v_template[stored[:17]] - landmarks(builtin, builtin.v_template)[~inner]
    assert np.linalg.norm(jaw_line, axis=1).max() < 0.01  # the nearest vertices (the mesh is ~5 mm coarse)
    assert mapping_store.stored_mapping(mesh).signed

    broken = tmp_path / "broken.npz"
    np.savez(broken, faces=emb.faces, bary=emb.bary[:10], ids=emb.ids)
    with pytest.raises(RuntimeError, match="landmark triangles, 10 weight rows"):
        bpy.ops.talking_head.add_flame_head(filepath=str(path), landmarks=str(broken))
    assert len(bpy.data.meshes) == 1  # only the first head


def test_fit_mapping_button_finds_a_flame_heads_landmarks(blender, builtin, mixing):
    from addon.blender import fitting, mapping_store

    mesh, rig = flame_addon_head(blender, builtin, mixing)
    blender.scene.talking_head.target = mesh
    assert bpy.ops.talking_head.mapping_fit.poll()  # no landmarks yet: its joints give them
    assert bpy.ops.talking_head.mapping_fit() == {'FINISHED'}
    assert mapping_store.stored_mapping(mesh).signed and len(fitting.landmark_indices(mesh)) == 68
    del mesh[fitting.LANDMARKS_PROP]
    del mesh[mapping_store.MAPPING_PROP]
    bpy.data.objects.remove(rig)  # no armature: no joints to align on
    with pytest.raises(RuntimeError, match="has no neck or jaw or eye_left or eye_right bone"):
        bpy.ops.talking_head.mapping_fit()
