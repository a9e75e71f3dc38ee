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
Started with `--wait` instead (`engine/early_tracker.py`, before the job is known), it loads
MediaPipe first and reads the same JSON as one line on stdin.
"""

import json
import subprocess
import sys

import numpy as np

NUM_POINTS = 478
RECORD = 2 + 3 * NUM_POINTS


CHECK_EVERY = 25      # frames between looks for a second face (tracking one face is ~20% faster)


def face_mesh(max_faces: int):
    """MediaPipe's legacy Face Mesh with irises (478 points) in tracking mode."""
    return solution("face_mesh").FaceMesh(static_image_mode=False, max_num_faces=max_faces, refine_landmarks=True,
                                          min_detection_confidence=0.5, min_tracking_confidence=0.5)


def face_detector():
    """MediaPipe's short-range face detector, the one Face Mesh itself finds faces with."""
    return solution("face_detection").FaceDetection(min_detection_confidence=0.5, model_selection=0)


def solution(name: str):
    """mediapipe.python.solutions.<name> without the package's __init__ files, which import every
    solution, the drawing helpers (matplotlib.pyplot, cv2) and the tasks API: about 1.5 CPU s of a
    short video's start-up for nothing. Falls back to the plain import if that ever fails."""
    import importlib
    import importlib.util
    import types

    loaded = sys.modules.get(f"mediapipe.python.solutions.{name}")
    if loaded is not None:
        return loaded
    if "mediapipe" not in sys.modules:
        try:
            for package_name in ("mediapipe", "mediapipe.python.solutions"):
                if package_name == "mediapipe.python.solutions":
                    importlib.import_module("mediapipe.python")      # the framework bindings themselves
                spec = importlib.util.find_spec(package_name)
                package = types.ModuleType(package_name)
                package.__spec__, package.__file__ = spec, spec.origin
                package.__path__ = list(spec.submodule_search_locations)
                sys.modules[package_name] = package
        except Exception:  # noqa: BLE001 - a changed package layout: import it the ordinary way
            for loaded in [m for m in sys.modules if m == "mediapipe" or m.startswith("mediapipe.")]:
                del sys.modules[loaded]
            import mediapipe  # noqa: F401
    return importlib.import_module(f"mediapipe.python.solutions.{name}")


class LargestFace:
    """Tracks one face until a look every CHECK_EVERY frames (the face detector alone, ~1 ms) sees two;
    from then on tracks two (the record keeps the larger), so the usual one-face video pays for one
    face only. `faces(image)` gives the faces of a frame as [478, 3] arrays of normalised x, y and z."""

    def __init__(self, max_faces: int) -> None:
        self.max_faces, self.frame, self.looker = max_faces, 0, None
        self.mesh = face_mesh(1)

    def faces(self, image) -> list:
        if self.max_faces > 1 and self.frame % CHECK_EVERY == 0:
            self.looker = self.looker or face_detector()
            if len(graph_outputs(self.looker, image, "detections")) > 1:
                self.mesh.close()
                self.mesh, self.max_faces = face_mesh(self.max_faces), 1
                self.looker.close()
        self.frame += 1
        return [parse_landmarks(data) for data in graph_outputs(self.mesh, image, "multi_face_landmarks")]


def graph_outputs(solution, image, name: str) -> list:
    """The serialised protos (bytes each) a legacy solution's output stream `name` gives for one image
    [h, w, 3] uint8: one landmark list or detection per face.

    Runs the solution's graph directly rather than through `SolutionBase.process`, which makes a new
    namedtuple class for every frame and a Python protobuf object for every point (~1.5 ms a frame
    of Face Mesh); the landmarks are then read from their bytes (`parse_landmarks`). Falls back to
    `process` (and serialises its messages) if this MediaPipe lacks the pieces."""
    try:
        from mediapipe.python import packet_creator, packet_getter
        from mediapipe.python._framework_bindings import image_frame

        graph, outputs = solution._graph, solution._graph_outputs
        stream = next(iter(solution._input_stream_type_info))
        serialized = packet_getter._packet_getter._get_serialized_proto_list
    except (AttributeError, ImportError):
        return [m.SerializeToString() for m in getattr(solution.process(image), name) or []]
    outputs.clear()
    solution._simulated_timestamp += 33333              # what `process` does: a 30 fps clock of its own
    packet = packet_creator.create_image_frame(image, image_format=image_frame.ImageFormat.SRGB)
    graph.add_packet_to_input_stream(stream=stream, packet=packet.at(solution._simulated_timestamp))
    graph.wait_until_idle()
    found = outputs.get(name)
    return [] if found is None or found.is_empty() else list(serialized(found))


POINT_BYTES = 17      # one landmark as MediaPipe serialises it: 0x0a 15, then x, y, z as tagged float32s


def parse_landmarks(data: bytes) -> np.ndarray:
    """A serialised NormalizedLandmarkList -> [N, 3] float32 (x, y, z; NaN for a missing one).

    The usual layout (every landmark exactly x, y, z) is read as one array; anything else goes
    through `_parse_any`, a small reader of the protobuf wire format."""
    raw = np.frombuffer(data, np.uint8)
    if raw.size and raw.size % POINT_BYTES == 0:
        rows = raw.reshape(-1, POINT_BYTES)
        if (np.all(rows[:, :3] == (0x0A, 15, 0x0D)) and np.all(rows[:, 7] == 0x15)
                and np.all(rows[:, 12] == 0x1D)):
            columns = np.ascontiguousarray(rows[:, [3, 4, 5, 6, 8, 9, 10, 11, 13, 14, 15, 16]])
            return columns.view("<f4").astype(np.float32).reshape(-1, 3)
    return _parse_any(data)


def _parse_any(data: bytes) -> np.ndarray:
    """`parse_landmarks` for any valid encoding (fields in any order, visibility/presence present)."""
    points = []
    for field, value in _fields(data):
        if field == 1 and isinstance(value, bytes):
            xyz = [np.nan, np.nan, np.nan]
            for sub, number in _fields(value):
                if 1 <= sub <= 3 and isinstance(number, float):
                    xyz[sub - 1] = number
            points.append(xyz)
    return np.array(points, np.float32).reshape(-1, 3)


def _fields(data: bytes):
    """(field number, value) of a protobuf message: bytes for length-delimited, float for fixed32."""
    import struct

    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        field, kind = key >> 3, key & 7
        if kind == 0:
            value, at = _varint(data, at)
        elif kind == 1:
            value, at = struct.unpack_from("<d", data, at)[0], at + 8
        elif kind == 2:
            size, at = _varint(data, at)
            value, at = bytes(data[at:at + size]), at + size
        elif kind == 5:
            value, at = struct.unpack_from("<f", data, at)[0], at + 4
        else:
            raise ValueError(f"unexpected protobuf wire type {kind}")
        yield field, value


def _varint(data: bytes, at: int):
    value = shift = 0
    while True:
        byte = data[at]
        value, at, shift = value | ((byte & 0x7F) << shift), at + 1, shift + 7
        if byte < 0x80:
            return value, at


def record(faces: list, full_w: int, full_h: int) -> np.ndarray:
    """The largest of the faces ([478, 3] normalised x, y, z each) as one float32 record [RECORD]."""
    out = np.full(RECORD, np.nan, np.float32)
    out[0] = len(faces)
    if not faces:
        return out
    points = [np.asarray(f, np.float32) * np.float32([full_w, full_h, full_w]) for f in faces]
    areas = [float(np.ptp(p[:, 0]) * np.ptp(p[:, 1])) for p in points]
    order = np.argsort(areas)[::-1]
    out[1] = areas[order[1]] / max(areas[order[0]], 1e-6) if len(faces) > 1 else 0.0
    out[2:] = points[order[0]][:NUM_POINTS].reshape(-1)
    return out


WAIT = "--wait"       # the argument of a child started before its job is known (see `wait_for_job`)


def main(argv) -> int:
    if argv[1] == WAIT:
        return wait_for_job()
    job = json.loads(argv[1])
    decoding = start_decoder(job)            # ffmpeg starts decoding while MediaPipe loads (~0.3 s)
    try:
        mesh = LargestFace(int(job.get("max_faces", 2)))
    except Exception as error:  # noqa: BLE001 - any import/model failure is one sentence for the parent
        decoding[0].kill()
        print(f"error: MediaPipe Face Mesh could not start ({type(error).__name__}: {error}).",
              file=sys.stderr, flush=True)
        return 3
    return serve_frames(job, lambda image: record(mesh.faces(image), job["full_width"],
                                                  job["full_height"]).tobytes(), decoding)


def wait_for_job() -> int:
    """The child started early (`engine/early_tracker.py`): load MediaPipe and build Face Mesh, while a
    thread waits for the job (one JSON line on stdin, the argument `main` otherwise takes) and starts its
    decoder the moment it comes; then serve the frames. stdin ending without a job: exit 0, quietly."""
    import threading

    got = {}

    def take_job() -> None:
        try:
            line = read_line(sys.stdin.fileno())
            if line.strip():
                got["job"] = json.loads(line)
                got["decoding"] = start_decoder(got["job"])
        except Exception as error:  # noqa: BLE001 - reported below, as one sentence
            got["error"] = error

    taker = threading.Thread(target=take_job, name="job", daemon=True)
    taker.start()
    try:
        mesh = LargestFace(2)
    except Exception as error:  # noqa: BLE001 - any import/model failure is one sentence for the parent
        print(f"error: MediaPipe Face Mesh could not start ({type(error).__name__}: {error}).",
              file=sys.stderr, flush=True)
        if "decoding" in got:
            got["decoding"][0].kill()
        return 3
    taker.join()
    if "error" in got:
        print(f"error: the job could not start ({type(got['error']).__name__}: {got['error']}).",
              file=sys.stderr, flush=True)
        return 2
    if "job" not in got:
        return 0
    job = got["job"]
    mesh.max_faces = int(job.get("max_faces", 2))     # LargestFace starts with one face's graph either way
    return serve_frames(job, lambda image: record(mesh.faces(image), job["full_width"],
                                                  job["full_height"]).tobytes(), got["decoding"])


def read_line(fd: int) -> bytes:
    """One line from the file descriptor (b"" at its end), read unbuffered: a thread blocked here does
    not hold the lock of sys.stdin's buffer, which would stop the interpreter's exit."""
    import os

    data = b""
    while not data.endswith(b"\n"):
        more = os.read(fd, 1 << 16)
        if not more:
            break
        data += more
    return data


def read_frame(stream, size: int):
    """Exactly `size` bytes from the decoder, or None at its end."""
    data = stream.read(size)
    while data and len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            break
        data += more
    return data if len(data) == size else None


def start_decoder(job: dict):
    """Start the job's decoder and the thread that reads it ahead: (process, frames queue, stop Event)."""
    size = int(job["width"]) * int(job["height"]) * 3
    decoder = subprocess.Popen(job["command"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=size)
    return (decoder, *ahead(decoder.stdout, size))


def serve_frames(job: dict, frame_record, decoding=None) -> int:
    """Run the job's decoder (rawvideo rgb24 of job["width"] x job["height"] on its stdout; `decoding`
    one already started by `start_decoder`) and write `frame_record(image [h, w, 3] uint8) -> bytes`
    of every frame to stdout; the decoder's last error line goes to stderr as "decoder: ...". Also
    the matte worker's loop (`matte_worker.py`).

    A thread reads the decoder a few frames ahead (`ahead`), so ffmpeg decodes the next frames
    while this one is analysed instead of waiting on a pipe that holds a tenth of a frame."""
    w, h = int(job["width"]), int(job["height"])
    decoder, frames, stop = decoding or start_decoder(job)
    out = sys.stdout.buffer
    try:
        while True:
            data = frames.get()
            if data is None:
                break
            out.write(frame_record(np.frombuffer(data, np.uint8).reshape(h, w, 3)))
            out.flush()
    except BrokenPipeError:
        return 0
    finally:
        stop.set()
        if decoder.poll() is None:
            decoder.kill()
        err = decoder.communicate()[1].decode(errors="replace").strip()
        if decoder.returncode not in (0, -9) and err:
            print(f"decoder: {err.splitlines()[-1]}", file=sys.stderr, flush=True)
    return 0


READ_AHEAD = 4        # decoded frames held ahead of the analysis (4 x 2.7 MB at most, 960 x 540 x 3)


def ahead(stream, size: int, count: int = READ_AHEAD):
    """(a queue of the next frames' bytes read from `stream` by a thread, None after the last; an Event
    that stops the thread). At most `count` frames wait in the queue."""
    import queue
    import threading

    frames, stop = queue.Queue(maxsize=count), threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            while not stop.is_set():
                data = read_frame(stream, size)
                if data is None or not put(data):
                    break
        except (OSError, ValueError):       # the pipe closed under us while stopping
            pass
        finally:
            put(None)

    threading.Thread(target=read, name="decoder ahead", daemon=True).start()
    return frames, stop


if __name__ == "__main__":
    sys.exit(main(sys.argv))
