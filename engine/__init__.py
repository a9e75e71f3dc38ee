"""Talking Head engine: a voice clip to FLAME-structured head motion to stylized frames.

Pure Python on numpy, scipy, pocketsphinx and onnxruntime; never imports bpy (the
Blender add-on is a separate layer) and never imports torch outside
`engine.training`. The public API:

    from engine import load_head, load_audio, animate, MotionClip
    head = load_head()                      # the built-in head
    clip = animate("voice.wav", fps=30)     # -> MotionClip
    vertices, joints = head.forward(**clip.head_params(head))
"""

from .animate import animate, available_drivers, default_driver, style_of_reference
from .audio import Audio, load_audio
from .errors import AudioError, Cancelled, EngineError, HeadModelError, InputError, ModelError, MotionClipError
from .head import HeadModel, load_head
from .motion import MotionClip
from .progress import CancelToken, Progress, Reporter

__version__ = "0.1.0"
