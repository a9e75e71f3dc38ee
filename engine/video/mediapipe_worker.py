"""Face landmarks of every frame, run as a script by a Python that has MediaPipe 0.10.14.

This file is self-contained (numpy and mediapipe only, no engine imports) so that
any Python 3.11/3.12 with `mediapipe==0.10.14` can run it, also for a Blender
whose own Python (3.13) has no MediaPipe wheel. It is started by
`engine.video.landmarks` with one JSON argument:

    {"command": [ffmpeg ... rawvideo rgb24 to stdout], "width": w, "height": h,
     "full_width": W, "full_height": H, "max_faces": 2}

and writes one record per frame to stdout, float32 [RECORD]:
[faces found, area of the second face / area of the first, 478 x (x, y, z)]
with x, y in full-size pixels (z in the same units as x; NaN where no face).
Errors go to stderr as one line "error: <sentence>", exit status 2.
"""

import json
import subprocess
import sys

import numpy as np

NUM_POINTS = 478
RECORD = 2 + 3 * NUM_POINTS


CHECK_EVERY = 25      # frames between looks for a second face (tracking one face is ~20% faster)


def face_mesh(max_faces: int, still: bool = False):
    """MediaPipe's legacy Face Mesh with irises (478 points): tracking mode, or one still image."""
    return face_mesh_module().FaceMesh(static_image_mode=still, max_num_faces=max_faces,
                                       refine_landmarks=not still, min_detection_confidence=0.5,
                                       min_tracking_confidence=0.5)


def face_mesh_module():
    """mediapipe.python.solutions.face_mesh without the package's __init__ files, which import every
    solution, the drawing helpers (matplotlib.pyplot, cv2) and the tasks API: about 1.5 CPU s of a
    short video's start-up for nothing. Falls back to the plain import if that ever fails."""
    import importlib
    import importlib.util
    import types

    loaded = sys.modules.get("mediapipe.python.solutions.face_mesh")
    if loaded is not None:
        return loaded
    if "mediapipe" not in sys.modules:
        try:
            for name in ("mediapipe", "mediapipe.python.solutions"):
                if name == "mediapipe.python.solutions":
                    importlib.import_module("mediapipe.python")      # the framework bindings themselves
                spec = importlib.util.find_spec(name)
                package = types.ModuleType(name)
                package.__spec__, package.__file__ = spec, spec.origin
                package.__path__ = list(spec.submodule_search_locations)
                sys.modules[name] = package
            return importlib.import_module("mediapipe.python.solutions.face_mesh")
        except Exception:  # noqa: BLE001 - a changed package layout: import it the ordinary way
            for name in [m for m in sys.modules if m == "mediapipe" or m.startswith("mediapipe.")]:
                del sys.modules[name]
    import mediapipe as mp

    return mp.solutions.face_mesh


class LargestFace:
    """Tracks one face until a look every CHECK_EVERY frames sees two; from then on tracks two
    (the record keeps the larger), so the usual one-face video pays for one face only."""

    def __init__(self, max_faces: int) -> None:
        self.max_faces, self.frame, self.looker = max_faces, 0, None
        self.mesh = face_mesh(1)

    def process(self, image):
        if self.max_faces > 1 and self.frame % CHECK_EVERY == 0:
            self.looker = self.looker or face_mesh(2, still=True)
            if len(self.looker.process(image).multi_face_landmarks or []) > 1:
                self.mesh.close()
                self.mesh, self.max_faces = face_mesh(self.max_faces), 1
                self.looker.close()
        self.frame += 1
        return self.mesh.process(image)


def record(result, full_w: int, full_h: int) -> np.ndarray:
    """The largest face of a Face Mesh result as one float32 record [RECORD]."""
    out = np.full(RECORD, np.nan, np.float32)
    faces = result.multi_face_landmarks or []
    out[0] = len(faces)
    if not faces:
        return out
    points = [np.array([(p.x * full_w, p.y * full_h, p.z * full_w) for p in f.landmark], np.float32)
              for f in faces]
    areas = [float(np.ptp(p[:, 0]) * np.ptp(p[:, 1])) for p in points]
    order = np.argsort(areas)[::-1]
    out[1] = areas[order[1]] / max(areas[order[0]], 1e-6) if len(faces) > 1 else 0.0
    out[2:] = points[order[0]][:NUM_POINTS].reshape(-1)
    return out


def main(argv) -> int:
    job = json.loads(argv[1])
    try:
        mesh = LargestFace(int(job.get("max_faces", 2)))
    except Exception as error:  # noqa: BLE001 - any import/model failure is one sentence for the parent
        print(f"error: MediaPipe Face Mesh could not start ({type(error).__name__}: {error}).",
              file=sys.stderr, flush=True)
        return 3
    return serve_frames(job, lambda image: record(mesh.process(image), job["full_width"],
                                                  job["full_height"]).tobytes())


def read_frame(stream, size: int):
    """Exactly `size` bytes from the decoder, or None at its end."""
    data = stream.read(size)
    while data and len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            break
        data += more
    return data if len(data) == size else None


def serve_frames(job: dict, frame_record) -> int:
    """Run the job's decoder (rawvideo rgb24 of job["width"] x job["height"] on its stdout) and write
    `frame_record(image [h, w, 3] uint8) -> bytes` of every frame to stdout; the decoder's last error
    line goes to stderr as "decoder: ...". Also the matte worker's loop (`matte_worker.py`)."""
    w, h = int(job["width"]), int(job["height"])
    size = w * h * 3
    decoder = subprocess.Popen(job["command"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=size)
    out = sys.stdout.buffer
    try:
        while True:
            data = read_frame(decoder.stdout, size)
            if data is None:
                break
            out.write(frame_record(np.frombuffer(data, np.uint8).reshape(h, w, 3)))
            out.flush()
    except BrokenPipeError:
        return 0
    finally:
        if decoder.poll() is None:
            decoder.kill()
        err = decoder.communicate()[1].decode(errors="replace").strip()
        if decoder.returncode not in (0, -9) and err:
            print(f"decoder: {err.splitlines()[-1]}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
