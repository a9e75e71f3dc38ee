"""MotionClip: named float channels over frames, with exact resampling and file formats."""

from .arkit import ARKIT_BLENDSHAPES, CSV_HEADER
from .clip import MotionClip, load_clip, read_arkit_csv, read_clip_file, save_clip, write_arkit_csv
from .resample import rational_fps, resampled_frame_count

__all__ = ["ARKIT_BLENDSHAPES", "CSV_HEADER", "MotionClip", "load_clip", "rational_fps",
           "read_arkit_csv", "read_clip_file", "resampled_frame_count", "save_clip", "write_arkit_csv"]
