"""The Dialogue Lines panel: Lip-sync All Lines (`batch_ops`) for the sequencer's sound strips or a folder,
its progress while the lines run, and the last batch's failure."""

from __future__ import annotations

import bpy

from ..settings import audio_source
from ..blender import sequencer
from ..ops.batch_ops import RUNS, TALKINGHEAD_OT_lipsync_lines
from .panel import SidebarPanel


class TALKINGHEAD_PT_lines(SidebarPanel, bpy.types.Panel):
    """Every dialogue line at once: the sequencer's sound strips or a folder's files, one Action per line"""

    bl_label = "Dialogue Lines"
    bl_idname = "TALKINGHEAD_PT_lines"
    bl_parent_id = "TALKINGHEAD_PT_main"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context):
        layout = self.layout
        run = RUNS.running(context.scene)
        if run is not None:
            layout.label(text=run.progress_text(), icon='TIME')
            layout.label(text="Esc cancels; the lines already done are keyed.")
            return
        count = len(audio_source.sound_strips(sequencer.sequencer_scene(context)))
        strips = layout.operator(TALKINGHEAD_OT_lipsync_lines.bl_idname, icon='SPEAKER',
                                 text=f"Lip-sync {count} Sound Strip{'' if count == 1 else 's'}")
        strips.source = 'STRIPS'
        layout.operator(TALKINGHEAD_OT_lipsync_lines.bl_idname, icon='FILE_FOLDER',
                        text="Lip-sync a Folder...").source = 'FOLDER'
        failure = RUNS.last_failure(context.scene)
        if failure:
            layout.label(text=failure, icon='ERROR')


CLASSES = (TALKINGHEAD_PT_lines,)
