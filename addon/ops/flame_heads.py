"""Add FLAME Head: a head from the user's own FLAME model file, built and fitted for our clips.

The file is read in a child Python (`engine.head.isolated`: FLAME 2020 / 2023
pickles, head `.npz`, through the engine's data-only loaders, with memory and
time limits), so a damaged or hostile file is a report, never a crash of
Blender; Blender's process reads only the child's checked `.npz`. The head is built exactly as the built-in one
(`head_object.add_head`), and, since a FLAME head's expression keys are
principal components with no ARKit meaning, its Mapping is fitted at once
(`fitting.ensure_mapping`) and stored, to be seen and edited in the Mapping
panel. The fit needs the head's 68 landmarks: from a landmark embedding file
when the user gives one (FLAME's `flame_static_embedding.pkl`, DECA's
`landmark_embedding.npy`), else by laying the built-in head over the FLAME
head, aligned on the neck, jaw and eye joints both share.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ImportHelper

from ..blender import fitting, head_object
from ..engine_link import jobs
from ..engine_link import engine
from ..settings.properties import PATH_OPTIONS

isolated = importlib.import_module(engine.__name__ + ".head.isolated")


class TALKINGHEAD_OT_add_flame_head(bpy.types.Operator, ImportHelper):
    """Add a head from your FLAME model file (generic_model.pkl, flame2023.pkl, a head .npz), fitted to our expressions"""

    bl_idname = "talking_head.add_flame_head"
    bl_label = "Add FLAME Head"
    bl_options = {'REGISTER', 'UNDO'}

    filename_ext = ".pkl"
    filter_glob: StringProperty(default="*.pkl;*.npz", options={'HIDDEN'})
    landmarks: StringProperty(
        name="Landmarks", subtype='FILE_PATH', options=PATH_OPTIONS,
        description="Optional landmark embedding of the FLAME mesh (flame_static_embedding.pkl, DECA's "
                    "landmark_embedding.npy) for an exact fit; without it, the built-in head's landmarks are "
                    "laid over the FLAME head, aligned on the neck, jaw and eyes")

    def execute(self, context):
        landmarks = bpy.path.abspath(self.landmarks) if self.landmarks.strip() else None
        try:
            head = isolated.load_head_isolated(bpy.path.abspath(self.filepath), landmarks=landmarks,
                                               python=jobs.python_executable())
        except engine.EngineError as error:  # the scene is untouched until the head is read
            self.report({'ERROR'}, str(error))
            return {'CANCELLED'}
        mesh_obj, armature = head_object.add_head(context, head, "FLAME_" + Path(head.name).stem)
        head_object.make_target(context, mesh_obj, armature)
        added = f"Added the FLAME head '{mesh_obj.name}' ({len(head.expression_names)} expression shape keys)"
        try:
            if head.landmark_embedding is not None:
                mesh_obj[fitting.LANDMARKS_PROP] = [int(i) for i in fitting.landmarks_from_embedding(mesh_obj, head)]
            mapping = fitting.ensure_mapping(mesh_obj)
        except engine.EngineError as error:  # the head is fine; only its fit is not
            self.report({'WARNING'}, f"{added}, but not fitted: {error}")
            return {'FINISHED'}
        if mapping is not None:
            added += (f"; {len(mapping.targets)} of our expressions are fitted to them, "
                      f"{len(mapping.unmapped)} have no match")
        self.report({'INFO'}, added + ".")
        return {'FINISHED'}


CLASSES = (TALKINGHEAD_OT_add_flame_head,)
