"""Preview pictures and videos: PNG files, contact sheets, channel plots, MP4s of a clip."""

from .clip import render_clip_frames, render_motion_clip, video_frames
from .plot import channel_plot, clip_plot
from .png import read_png, write_png
from .sheet import contact_sheet
from .video import write_video
