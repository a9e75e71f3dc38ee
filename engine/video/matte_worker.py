"""Person mattes of every frame, run as a script by a Python that has MediaPipe 0.10.14.

Self-contained (numpy, mediapipe and `mediapipe_worker.py` beside it, whose frame loop it
shares; no engine imports), so the same `.venv-video` Python runs it. It
uses MediaPipe's legacy Selfie Segmentation (the general model: a 256x256
input, resized inside MediaPipe, one float mask in [0, 1] per frame), which
ships in the same wheel as Face Mesh. Started by `engine.video.matte` with one
JSON argument:

    {"command": [ffmpeg ... rawvideo rgb24 to stdout], "width": w, "height": h}

and writes one record per frame to stdout, uint8 [h, w, 4]: the frame's RGB
and the person's mask (0..255) as the fourth channel. Errors go to stderr as
one line "error: <sentence>", exit status 3 when MediaPipe cannot start.
"""

import json
import sys

import numpy as np
from mediapipe_worker import serve_frames  # beside this script: its folder is on the path


def selfie_segmentation():
    """MediaPipe's legacy Selfie Segmentation, general model (model_selection=0)."""
    from mediapipe.python.solutions import selfie_segmentation as module

    return module.SelfieSegmentation(model_selection=0)


def record(image: np.ndarray, mask: np.ndarray) -> bytes:
    """RGB [h, w, 3] uint8 and mask [h, w] float in [0, 1] -> one RGBA record (bytes of [h, w, 4] uint8)."""
    alpha = np.clip(np.rint(np.asarray(mask, np.float32) * 255.0), 0, 255).astype(np.uint8)
    return np.concatenate([image, alpha[..., None]], axis=-1).tobytes()


def main(argv) -> int:
    job = json.loads(argv[1])
    try:
        segmenter = selfie_segmentation()
    except Exception as error:  # noqa: BLE001 - any import/model failure is one sentence for the parent
        print(f"error: MediaPipe Selfie Segmentation could not start ({type(error).__name__}: {error}).",
              file=sys.stderr, flush=True)
        return 3
    return serve_frames(job, lambda image: record(image, segmenter.process(image).segmentation_mask))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
