"""The MediaPipe child's own pieces, without MediaPipe: reading landmark lists from their protobuf
bytes, the record of the largest face, and the decoder read ahead of the analysis."""

from __future__ import annotations

import importlib.util
import struct
import sys

import numpy as np
from engine.video import landmarks

spec = importlib.util.spec_from_file_location("mediapipe_worker", landmarks.WORKER)
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)


def _landmark(x, y, z, visibility=None) -> bytes:
    """One NormalizedLandmark as MediaPipe serialises it (fields 1-3 float32, 4 visibility)."""
    body = b"\x0d" + struct.pack("<f", x) + b"\x15" + struct.pack("<f", y) + b"\x1d" + struct.pack("<f", z)
    if visibility is not None:
        body += b"\x25" + struct.pack("<f", visibility)
    return b"\x0a" + bytes([len(body)]) + body


def test_landmark_bytes_read_as_one_array_and_by_the_general_reader():
    points = np.random.default_rng(0).uniform(-1, 1, (478, 3)).astype(np.float32)
    data = b"".join(_landmark(*p) for p in points)
    assert len(data) == 478 * worker.POINT_BYTES
    np.testing.assert_array_equal(worker.parse_landmarks(data), points)
    np.testing.assert_array_equal(worker._parse_any(data), points)


def test_an_unusual_encoding_goes_through_the_general_reader():
    points = np.array([[0.25, 0.5, -0.125], [0.75, 0.0, 0.0625]], np.float32)
    data = _landmark(*points[0], visibility=0.9) + _landmark(*points[1])   # 22 + 17 bytes
    np.testing.assert_array_equal(worker.parse_landmarks(data), points)
    shuffled = b"\x0a\x0f" + b"\x1d" + struct.pack("<f", 3.0) + b"\x0d" + struct.pack("<f", 1.0) \
        + b"\x15" + struct.pack("<f", 2.0)                                   # z, x, y: any order is valid
    np.testing.assert_array_equal(worker.parse_landmarks(shuffled), [[1.0, 2.0, 3.0]])


def test_the_record_keeps_the_larger_face_in_full_size_pixels():
    small = np.tile([[0.5, 0.5, 0.0]], (478, 1)).astype(np.float32)
    small[:2, :2] = [[0.45, 0.45], [0.55, 0.55]]                    # 0.1 x 0.1 of the picture
    large = small.copy()
    large[:2, :2] = [[0.2, 0.2], [0.6, 0.6]]                         # 0.4 x 0.4
    out = worker.record([small, large], 200, 100)
    assert out[0] == 2 and abs(out[1] - 1 / 16) < 1e-6
    np.testing.assert_allclose(out[2:].reshape(478, 3)[:2], [[40, 20, 0], [120, 60, 0]], atol=1e-4)
    empty = worker.record([], 200, 100)
    assert empty[0] == 0 and np.isnan(empty[2:]).all()


def test_the_decoder_is_read_ahead_in_whole_frames_then_ends():
    import subprocess

    size = 1000
    writer = subprocess.Popen([sys.executable, "-c", f"import sys; sys.stdout.buffer.write(bytes(range(250)) * {10 * size // 250 + 1})"],
                              stdout=subprocess.PIPE)
    frames, stop = worker.ahead(writer.stdout, size, count=2)
    got = []
    while (data := frames.get(timeout=10)) is not None:
        got.append(data)
    stop.set()
    writer.wait()
    assert len(got) == 10 and all(len(d) == size for d in got)       # the last, partial frame is dropped
    assert got[1][:3] == bytes([0, 1, 2])
