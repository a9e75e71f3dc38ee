"""The "Track Video" panel of the Talking Head tab: the video's source, Track Video with its progress, and
what the last tracking said about its fit."""

from __future__ import annotations

import bpy

from ..ops import operators
from .panel import SidebarPanel
from ..ops.track_ops import last_failure, tracking


class TALKINGHEAD_PT_track(SidebarPanel, bpy.types.Panel):
    bl_label = "Track Video"
    bl_idname = "TALKINGHEAD_PT_track"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context):
        track, layout = context.scene.talking_head_track, self.layout
        col = layout.column(align=True)
        col.row(align=True).prop(track, "video_source", expand=True)
        if track.video_source == 'STRIP':
            col.prop(track, "movie_strip")
        else:
            col.prop(track, "video_path")
            col.prop(track, "start_frame")
            col.prop(track, "match_frame_rate")
        run = tracking(context.scene)
        if run is None:
            layout.operator("talking_head.track_video", icon='TRACKER')
        else:
            row = layout.row(align=True)
            row.progress(factor=run.job.fraction, type='BAR', text=operators.progress_text(run.job))
            row.operator("talking_head.cancel_track", text="", icon='CANCEL')
        failure = last_failure(context.scene)
        if failure:
            layout.label(text=failure, icon='ERROR')
            return
        for text in (track.status, track.quality, track.worst, track.bridged):
            if text:
                layout.label(text=text)


CLASSES = (TALKINGHEAD_PT_track,)
