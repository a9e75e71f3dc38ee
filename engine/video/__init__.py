"""Video in: track a talking video into a FLAME-structured performance (a MotionClip).

    from engine.video import track_video, save_take
    take = track_video("talk.mp4")        # decode -> MediaPipe landmarks -> fit the head
    save_take(take, "take.npz")           # the clip, and take.track.npz beside it

`decode` streams frames through ffmpeg, `landmarks` runs MediaPipe Face Mesh in a
child process, `fit` / `solve` fit identity, camera, pose and expression,
`track` builds the clip, `overlay` draws the fit over the video. Nothing here
is imported by `import engine`; scipy is not needed.
"""

from .errors import NoFaceError, TrackerMissingError, VideoError
from .track import Take, save_take, track_video

__all__ = ["NoFaceError", "Take", "TrackerMissingError", "VideoError", "save_take", "track_video"]
