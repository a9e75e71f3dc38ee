"""The Mapping subpanel's operators: map by name, fit, find landmarks, choose a bone, tick a mesh, edit the
mapping as text, clear it; and the mapping of the head they work on. The panel is `mapping_panel`.

The mapping lives on the head's mesh as JSON (custom property `talking_head_mapping`,
see `mapping_store.MAPPING_PROP`), so the user can read and edit it; Animate uses it.
Without one, names are matched (`engine.retarget.map_by_name`) and the panel
shows that default. Fitting (`fitting`) needs the 68 iBUG landmark vertices of
the mesh, kept as the custom property `talking_head_landmarks`; a FLAME head
finds them from its joints.

The panel also lists the character's other meshes that carry shape keys the
mapping drives (teeth, tongue, eyes: `target_rig.mapped_meshes`); Animate keys
them with the same mapping, except those the user unticks (kept on the head
as the custom property `talking_head_skip_meshes`). A rig with Oculus visemes
and no ARKit mouth shapes maps the viseme channels (`viseme_PP`, ...) by name.
"""

from __future__ import annotations

import bpy
import numpy as np
from bpy.props import EnumProperty, StringProperty

from ..blender import fitting, mapping_store, target_rig
from ..settings import preferences
from ..engine_link import results
from ..blender.action_compat import OWNER_TAG
from ..engine_link import engine, retarget
from ..blender.fitting import LANDMARKS_PROP, builtin_channels, landmark_indices

BY_NAME = "__by_name__"                     # bone choice meaning "the bone named like the joint"
TEXT_PREFIX = "TalkingHead Mapping: "


# ---- the mapping of a head --------------------------------------------------------------------

def target_of(context):
    """The head the panel works on: the Talking Head target mesh, or None."""
    settings = getattr(context.scene, "talking_head", None)
    obj = getattr(settings, "target", None)
    return obj if obj is not None and obj.type == 'MESH' else None


def mapping_channels(obj) -> list:
    """The channels a mapping for `obj` should cover: ours, plus those of its latest clip."""
    names = list(builtin_channels())
    clip = results.latest(obj)
    if clip is not None:
        lowered = {n.lower() for n in names}
        names += [n for n in retarget.shape_channels(clip)[0] if n.lower() not in lowered]
    if retarget.wants_visemes(target_rig.shape_key_targets(obj)):
        names += [n for n in retarget.VISEME_NAMES if n not in names]
    return names


def current_mapping(obj):
    """(mapping, stored): the mapping on `obj`, else the by-name default (not stored), with the
    preferences' alias table; InputError when that table cannot be read."""
    stored = mapping_store.stored_mapping(obj)
    if stored is not None:
        return stored, True
    return by_name(obj), False


def by_name(obj):
    """The mapping of `obj` by name, with the aliases of the preferences' alias table."""
    return retarget.map_by_name(mapping_channels(obj), target_rig.shape_key_targets(obj),
                                aliases=preferences.retarget_aliases())


def overlay_head(context, obj):
    """A built-in head laid over `obj` (selected ones first), for finding its landmarks; or None."""
    candidates = list(context.selected_objects) + list(context.scene.objects)
    return next((o for o in candidates if o is not obj and o.type == 'MESH'
                 and o.get(OWNER_TAG + "_head") == "builtin"), None)


def _keep_bones(obj, mapping):
    previous = mapping_store.stored_mapping(obj)
    if previous is not None:
        mapping.bones = dict(previous.bones)
    return mapping


# ---- operators --------------------------------------------------------------------------------

class _OnTarget:
    """Operators on the Talking Head target mesh; poll explains what is missing."""

    bl_options = {'REGISTER', 'UNDO'}

    @classmethod
    def poll(cls, context):
        if target_of(context) is None:
            cls.poll_message_set("Choose a head mesh in the Talking Head panel first.")
            return False
        return True

    def run(self, action) -> set:
        """Call `action()`; an engine error becomes a report instead of a traceback."""
        try:
            message = action()
        except engine.EngineError as error:
            self.report({'ERROR'}, str(error))
            return {'CANCELLED'}
        self.report({'INFO'}, message)
        return {'FINISHED'}


class TALKINGHEAD_OT_mapping_by_name(_OnTarget, bpy.types.Operator):
    """Match channels to the head's shape keys by name (any case or side spelling, ARKit/CC4/VRM aliases) and keep it"""

    bl_idname = "talking_head.mapping_by_name"
    bl_label = "Map by Name"

    def execute(self, context):
        obj = target_of(context)

        def build():
            mapping = _keep_bones(obj, by_name(obj))
            mapping_store.store_mapping(obj, mapping)
            return f"Mapped {len(mapping.targets)} channels by name; {len(mapping.unmapped)} have no shape key."
        return self.run(build)


class TALKINGHEAD_OT_mapping_fit(_OnTarget, bpy.types.Operator):
    """Fit the head's shape keys (a FLAME head's expression keys) to the built-in expressions on 68 landmarks"""

    bl_idname = "talking_head.mapping_fit"
    bl_label = "Fit Mapping"

    @classmethod
    def poll(cls, context):
        if not super().poll(context):
            return False
        obj = target_of(context)
        if not target_rig.shape_key_targets(obj):
            cls.poll_message_set(f"'{obj.name}' has no shape keys to fit.")
            return False
        if landmark_indices(obj) is None and not fitting.is_flame_head(obj):
            cls.poll_message_set(f"Fitting needs the 68 landmark vertices of '{obj.name}' (custom property "
                                 f"'{LANDMARKS_PROP}'): lay the built-in head over it and press Find Landmarks.")
            return False
        return True

    def execute(self, context):
        obj = target_of(context)

        def fit():
            landmarks = landmark_indices(obj)
            if landmarks is None:  # a FLAME head: from its joints
                landmarks = [int(i) for i in fitting.landmarks_from_joints(obj)]
                obj[LANDMARKS_PROP] = landmarks
            mapping = fitting.fit_mesh(obj, landmarks)
            mapping_store.store_mapping(obj, _keep_bones(obj, mapping))
            return (f"Fitted {len(mapping.targets)} expressions to the shape keys; "
                    f"{len(mapping.unmapped)} have no good match.")
        return self.run(fit)


class TALKINGHEAD_OT_find_landmarks(_OnTarget, bpy.types.Operator):
    """Find the head's 68 landmark vertices: the vertices nearest the landmarks of a built-in head laid over it"""

    bl_idname = "talking_head.find_landmarks"
    bl_label = "Find Landmarks"

    @classmethod
    def poll(cls, context):
        if not super().poll(context):
            return False
        if overlay_head(context, target_of(context)) is None:
            cls.poll_message_set("Add the built-in head, then move and scale it over this face.")
            return False
        return True

    def execute(self, context):
        obj = target_of(context)
        overlay = overlay_head(context, obj)

        def find():
            to_target = np.array(obj.matrix_world.inverted()) @ np.array(overlay.matrix_world)
            index = fitting.overlaid_landmarks(obj, to_target)
            obj[LANDMARKS_PROP] = [int(i) for i in index]
            return f"Stored {len(index)} landmark vertices on '{obj.name}' (from '{overlay.name}')."
        return self.run(find)


_BONE_ITEMS: list = []  # Blender needs enum item strings kept alive while the search popup is open


def _bone_items(_self, context):
    armature = target_rig.find_armature(target_of(context))
    _BONE_ITEMS[:] = [(BY_NAME, "(Bone named like the joint)", "Use the bone whose name is the joint's, if any")]
    if armature is not None:
        _BONE_ITEMS.extend((b.name, b.name, "") for b in armature.data.bones)
    return _BONE_ITEMS


class TALKINGHEAD_OT_mapping_choose_bone(_OnTarget, bpy.types.Operator):
    """Choose the bone of the head's armature that takes this joint's rotation"""

    bl_idname = "talking_head.mapping_choose_bone"
    bl_label = "Choose Bone"
    bl_property = "bone"

    joint: StringProperty(name="Joint", options={'HIDDEN'})
    bone: EnumProperty(name="Bone", items=_bone_items)

    @classmethod
    def poll(cls, context):
        if not super().poll(context):
            return False
        if target_rig.find_armature(target_of(context)) is None:
            cls.poll_message_set("The head has no armature (an Armature modifier or armature parent).")
            return False
        return True

    def invoke(self, context, _event):
        context.window_manager.invoke_search_popup(self)
        return {'RUNNING_MODAL'}

    def execute(self, context):
        obj = target_of(context)

        def choose():
            mapping, _ = current_mapping(obj)
            bones = dict(mapping.bones)
            if self.bone == BY_NAME:
                bones.pop(self.joint, None)
            else:
                bones[self.joint] = self.bone
            mapping.bones = retarget.Mapping(bones=bones).bones
            mapping_store.store_mapping(obj, mapping)
            return f"The {self.joint} joint now drives {bones.get(self.joint, 'the bone named like it')}."
        return self.run(choose)


class TALKINGHEAD_OT_mapping_toggle_mesh(_OnTarget, bpy.types.Operator):
    """Key this mesh of the character with the head (ticked), or leave it as it is (unticked)"""

    bl_idname = "talking_head.mapping_toggle_mesh"
    bl_label = "Key This Mesh"

    mesh: StringProperty(name="Mesh", description="The character's mesh to tick or untick", options={'HIDDEN'})

    def execute(self, context):
        obj = target_of(context)
        other = bpy.data.objects.get(self.mesh)

        def toggle():
            if other is None or other.type != 'MESH':
                raise engine.InputError(f"There is no mesh named '{self.mesh}'; choose one listed in the panel.")
            skip = other.name not in mapping_store.skipped_meshes(obj)
            mapping_store.set_skipped(obj, other, skip)
            return f"Animate {'leaves' if skip else 'keys'} '{other.name}' {'as it is' if skip else 'with the head'}."
        return self.run(toggle)


def _text_name(obj) -> str:
    return TEXT_PREFIX + obj.name


class TALKINGHEAD_OT_mapping_edit_text(_OnTarget, bpy.types.Operator):
    """Open the mapping as JSON in a text block to edit it; Apply Text stores it back"""

    bl_idname = "talking_head.mapping_edit_text"
    bl_label = "Edit as Text"

    def execute(self, context):
        obj = target_of(context)

        def open_text():
            mapping, _ = current_mapping(obj)
            text = bpy.data.texts.get(_text_name(obj)) or bpy.data.texts.new(_text_name(obj))
            text.from_string(mapping.to_json())
            for area in getattr(context.screen, "areas", []):
                if area.type == 'TEXT_EDITOR':
                    area.spaces.active.text = text
            return f"Edit the text '{text.name}' in a Text Editor, then press Apply Text."
        return self.run(open_text)


class TALKINGHEAD_OT_mapping_apply_text(_OnTarget, bpy.types.Operator):
    """Check the edited mapping text against the head's shape keys and bones, and store it"""

    bl_idname = "talking_head.mapping_apply_text"
    bl_label = "Apply Text"

    @classmethod
    def poll(cls, context):
        if not super().poll(context):
            return False
        if bpy.data.texts.get(_text_name(target_of(context))) is None:
            cls.poll_message_set("Press Edit as Text first.")
            return False
        return True

    def execute(self, context):
        obj = target_of(context)

        def apply():
            mapping = retarget.Mapping.from_json(bpy.data.texts[_text_name(obj)].as_string())
            check_on_rig(obj, mapping)
            current, _ = current_mapping(obj)
            if (mapping.targets, mapping.bones) != (current.targets, current.bones):
                mapping.method = "edited"
            mapping_store.store_mapping(obj, mapping)
            return f"Stored the edited mapping ({len(mapping.targets)} channels) on '{obj.name}'."
        return self.run(apply)


def check_on_rig(obj, mapping) -> None:
    """Raise MappingError when the mapping names shape keys or bones `obj` does not have."""
    armature = target_rig.find_armature(obj)
    bones = [b.name for b in armature.data.bones] if armature is not None else []
    mapping.validate(target_names=target_rig.shape_key_targets(obj), bone_names=bones)


class TALKINGHEAD_OT_mapping_clear(_OnTarget, bpy.types.Operator):
    """Forget the stored mapping: Animate matches names again"""

    bl_idname = "talking_head.mapping_clear"
    bl_label = "Clear Mapping"

    def execute(self, context):
        obj = target_of(context)
        if mapping_store.MAPPING_PROP in obj:
            del obj[mapping_store.MAPPING_PROP]
        self.report({'INFO'}, f"'{obj.name}' is mapped by name again.")
        return {'FINISHED'}


CLASSES = (TALKINGHEAD_OT_mapping_by_name, TALKINGHEAD_OT_mapping_fit, TALKINGHEAD_OT_find_landmarks,
           TALKINGHEAD_OT_mapping_choose_bone, TALKINGHEAD_OT_mapping_edit_text, TALKINGHEAD_OT_mapping_apply_text,
           TALKINGHEAD_OT_mapping_clear, TALKINGHEAD_OT_mapping_toggle_mesh)
