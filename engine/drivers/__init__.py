"""The drivers: speech -> head-motion channels {name: float32 [T]} at a clip's frame rate.

    interface.py   DriveRequest (what a driver may read, checked) and Driver (what it declares)
    registry.py    the drivers, best first; available_drivers, default_driver, drive(name, request)
    models.py      model files: the user's models folder first, then engine/models
    procedural.py  what every driver shares: blinks, gaze, head sway, accents -> brows and nods
    energy.py      "energy": a loudness/brightness envelope (no phones, no network)
    phonetic/      "phonetic": recognised or aligned phones -> coarticulated visemes
    adf/           "adf": the ADF network (onnxruntime) and its style encoder

Imports point one way: the drivers use interface, models and procedural (adf
also the mouth channels of phonetic/visemes.py, which it learnt from), the
registry uses the drivers (inside the functions that run them), and nothing
here imports the registry. `engine.animate` runs one and wraps its channels
in a MotionClip.
"""
