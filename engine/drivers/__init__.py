"""The drivers: speech -> head-motion channels {name: values [T]} at a clip's frame rate.

- `energy`: a loudness/brightness envelope (no phones, no network);
- `phonetic/`: recognised or aligned phones -> coarticulated visemes, prosody -> brows, head, blinks;
- `adf/`: the ADF network (onnxruntime) and its style encoder.

`engine.animate` chooses one and wraps its channels in a MotionClip.
"""
