"""Export: the latest MotionClip as a motion file, and the keyed head through Blender's glTF and FBX exporters."""

from __future__ import annotations

import os
from contextlib import contextmanager

import bpy
from bpy.props import EnumProperty, StringProperty
from bpy_extras.io_utils import ExportHelper

from ..blender import mapping_store, target_rig
from ..engine_link import results
from ..engine_link import engine

CLIP_FORMATS = {"NPZ": ".npz", "JSON": ".json", "CSV": ".csv"}
GLTF_FORMATS = {"GLB": ".glb", "GLTF_SEPARATE": ".gltf"}


def export_target(context):
    """The head to export: the Talking Head target, else the active object."""
    settings = getattr(context.scene, "talking_head", None)
    return getattr(settings, "target", None) or context.active_object


def export_objects(obj) -> list:
    """The head (mesh first), the character's other meshes keyed with it (teeth, eyes: ticked in the
    Mapping panel, with shape-key Actions; see `target_rig.companion_meshes`) and its armature."""
    if obj is None:
        return []
    armature = target_rig.find_armature(obj)
    skipped = mapping_store.skipped_meshes(obj)
    others = [o for o in target_rig.character_meshes(obj) if o.name not in skipped and _has_action(o.data.shape_keys)]
    return [obj] + others + ([armature] if armature is not None and armature is not obj else [])


def is_keyed(objects) -> bool:
    """Whether any of the objects (or a mesh's shape keys) has an Action."""
    return any(_has_action(o) or (o.type == 'MESH' and _has_action(o.data.shape_keys)) for o in objects)


def _has_action(id_block) -> bool:
    ad = getattr(id_block, "animation_data", None)
    return ad is not None and ad.action is not None


def with_extension(path: str, ext: str) -> str:
    """`path` ending in `ext` (another known extension replaced)."""
    stem, old = os.path.splitext(path)
    known = set(CLIP_FORMATS.values()) | set(GLTF_FORMATS.values()) | {".fbx"}
    return (stem if old.lower() in known else path) + ext


class _FileExport(ExportHelper):
    """ExportHelper whose extension follows a format enum and whose default name is the head's."""

    check_extension = True

    def extension(self) -> str:
        return self.filename_ext

    def check(self, _context):
        path = with_extension(self.filepath, self.extension()) if os.path.basename(self.filepath) else self.filepath
        changed, self.filepath = path != self.filepath, path
        return changed

    def invoke(self, context, _event):
        if not self.filepath:
            folder = os.path.dirname(bpy.data.filepath) if bpy.data.filepath else ""
            name = bpy.path.clean_name(getattr(export_target(context), "name", "TalkingHead"))
            self.filepath = os.path.join(folder, name + self.extension())
        context.window_manager.fileselect_add(self)
        return {'RUNNING_MODAL'}


class TALKINGHEAD_OT_export_clip(_FileExport, bpy.types.Operator):
    """Export the head's latest animation as a motion file: .npz or .json (lossless) or ARKit CSV (Live Link Face)"""

    bl_idname = "talking_head.export_clip"
    bl_label = "Export Motion"
    bl_options = {'REGISTER'}

    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz;*.json;*.csv", options={'HIDDEN'})
    file_format: EnumProperty(name="Format", default="NPZ", items=(
        ("NPZ", "NumPy (.npz)", "Every channel, lossless; numpy reads it"),
        ("JSON", "JSON (.json)", "Every channel, lossless, readable text"),
        ("CSV", "ARKit CSV (.csv)", "Live Link Face layout: 52 blendshapes in [0, 1] and head/eye rotations"),
    ))

    def extension(self) -> str:
        return CLIP_FORMATS[self.file_format]

    @classmethod
    def poll(cls, context):
        if results.latest(export_target(context)) is None:
            cls.poll_message_set("Animate the head first: there is no animation of it in this session to export.")
            return False
        return True

    def execute(self, context):
        clip = results.latest(export_target(context))
        path = with_extension(bpy.path.abspath(self.filepath), self.extension())
        try:
            written = clip.to_arkit_csv(path) if self.file_format == "CSV" else clip.save(path)
        except engine.EngineError as error:
            self.report({'ERROR'}, str(error))
            return {'CANCELLED'}
        self.report({'INFO'}, f"Wrote {clip.num_frames} frames of {len(clip.names)} channels to {written}.")
        return {'FINISHED'}


class _ActionExport(_FileExport):
    """Export the keyed head and its armature (selected alone for the exporter, selection restored after)."""

    bl_options = {'REGISTER'}

    @classmethod
    def poll(cls, context):
        if context.mode != 'OBJECT':
            cls.poll_message_set("Switch to Object Mode to export.")
            return False
        if not is_keyed(export_objects(export_target(context))):
            cls.poll_message_set("Animate the head first: it has no keyed Action to export.")
            return False
        return True

    def execute(self, context):
        objects = export_objects(export_target(context))
        path = with_extension(bpy.path.abspath(self.filepath), self.extension())
        try:
            with selected_only(context, objects):
                self.export(path)
        except RuntimeError as error:  # an exporter's own failure, reported in its words
            self.report({'ERROR'}, f"The export failed: {str(error).strip().splitlines()[-1]}")
            return {'CANCELLED'}
        self.report({'INFO'}, f"Exported {', '.join(o.name for o in objects)} with animation to {path}.")
        return {'FINISHED'}


class TALKINGHEAD_OT_export_gltf(_ActionExport, bpy.types.Operator):
    """Export the head with its keyed Action as glTF (shape keys become morph-target weights)"""

    bl_idname = "talking_head.export_gltf"
    bl_label = "Export glTF"

    filename_ext = ".glb"
    filter_glob: StringProperty(default="*.glb;*.gltf", options={'HIDDEN'})
    gltf_format: EnumProperty(name="Format", default="GLB", items=(
        ("GLB", "glTF Binary (.glb)", "One file"),
        ("GLTF_SEPARATE", "glTF Separate (.gltf + .bin)", "JSON, binary buffer and textures side by side"),
    ))

    def extension(self) -> str:
        return GLTF_FORMATS[self.gltf_format]

    def export(self, path: str) -> None:
        bpy.ops.export_scene.gltf(filepath=path, export_format=self.gltf_format, use_selection=True,
                                  export_animations=True, export_animation_mode='ACTIVE_ACTIONS',
                                  export_morph=True, export_morph_animation=True, export_skins=True)


class TALKINGHEAD_OT_export_fbx(_ActionExport, bpy.types.Operator):
    """Export the head with its keyed Action as FBX (baked animation, shape keys included)"""

    bl_idname = "talking_head.export_fbx"
    bl_label = "Export FBX"

    filename_ext = ".fbx"
    filter_glob: StringProperty(default="*.fbx", options={'HIDDEN'})

    def export(self, path: str) -> None:
        bpy.ops.export_scene.fbx(filepath=path, use_selection=True, object_types={'MESH', 'ARMATURE'},
                                 bake_anim=True, bake_anim_use_all_actions=False, bake_anim_use_nla_strips=False,
                                 add_leaf_bones=False)


@contextmanager
def selected_only(context, objects):
    """Select exactly `objects` (the first active) for an exporter; restore selection and active after."""
    view_layer = context.view_layer
    before = [o for o in view_layer.objects if o.select_get()]
    active = view_layer.objects.active
    for obj in before:
        obj.select_set(False)
    for obj in objects:
        obj.select_set(True)
    view_layer.objects.active = objects[0]
    try:
        yield
    finally:
        for obj in objects:
            obj.select_set(False)
        for obj in before:
            obj.select_set(True)
        view_layer.objects.active = active


CLASSES = (TALKINGHEAD_OT_export_clip, TALKINGHEAD_OT_export_gltf, TALKINGHEAD_OT_export_fbx)
