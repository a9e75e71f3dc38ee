"""The loaders under fuzzing: for each, small valid seed files made here and the call that reads one.

Each loader is `Loader(name, suffix, seeds, load)`: `seeds(folder)` writes
valid files and returns their bytes, `load(path)` reads a file the way the
engine, CLI and add-on do (and returns what it made). A file must give an
EngineError with one sentence, or a valid result.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine" / "head"))
import flame_fixture  # noqa: E402  (synthetic FLAME-format files)

SMALL_V, SMALL_F = 20, 24


@dataclass(frozen=True)
class Loader:
    """A file loader and how to make valid seeds for it."""

    name: str
    suffix: str
    seeds: Callable[[Path], list]
    load: Callable[[Path], object]


def _small_flame() -> dict:
    return flame_fixture.make_flame_arrays(n_vertices=SMALL_V, n_faces=SMALL_F)


def flame_seeds(folder: Path) -> list:
    """A FLAME 2020-style (py2 strings, chumpy, sparse), a 2023-style and a protocol-0 pickle."""
    arrays = _small_flame()
    flame_fixture.write_flame2020(folder / "a.pkl", arrays)
    flame_fixture.write_flame2023(folder / "b.pkl", arrays)
    with flame_fixture.fake_chumpy() as Ch:
        data = flame_fixture.dense(arrays)
        data["shapedirs"] = Ch(data["shapedirs"])
        (folder / "c.pkl").write_bytes(pickle.dumps(data, protocol=0))
    return [(folder / n).read_bytes() for n in ("a.pkl", "b.pkl", "c.pkl")]


def head_npz_seeds(folder: Path) -> list:
    """Our head .npz of a small FLAME head (with regions, limits, colours), and FLAME keys as plain arrays."""
    from engine.head.loader import load_head, save_head_npz

    flame_fixture.write_flame2023(folder / "h.pkl", _small_flame())
    head = load_head(folder / "h.pkl")
    head.vertex_colors = np.full((SMALL_V, 3), 0.5, np.float32)
    head.regions = {"lips": np.arange(4)}
    save_head_npz(head, folder / "ours.npz")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **flame_fixture.dense(_small_flame()))
    return [(folder / "ours.npz").read_bytes(), buffer.getvalue()]


def landmark_seeds(folder: Path) -> list:
    """A FLAME static-embedding-style pickle and a DECA-style object .npy of a dict."""
    faces, bary = np.arange(51) % SMALL_F, np.full((51, 3), 1 / 3)
    flame_fixture.dump_py2({b"lmk_face_idx": faces.astype(np.uint32), b"lmk_b_coords": bary}, folder / "l.pkl")
    np.save(folder / "d.npy", np.array({"full_lmk_faces_idx": faces[None].repeat(68 // 51 + 1, 0).ravel()[:68],
                                        "full_lmk_bary_coords": np.full((68, 3), 1 / 3)}), allow_pickle=True)
    return [(folder / "l.pkl").read_bytes(), (folder / "d.npy").read_bytes()]


def _clip():
    from engine.motion import MotionClip

    rng = np.random.default_rng(0)
    names = ["jaw_rx", "eyeBlinkLeft", "mouthFunnel", "neck_ry", "eyeLookDownLeft"]
    return MotionClip(names=names, values=rng.random((12, len(names))).astype(np.float32), fps=30.0,
                      start_frame=3, metadata={"source_audio": "v.wav", "style": {"k": [1, 2]}})


def clip_seeds(suffix: str) -> Callable[[Path], list]:
    def make(folder: Path) -> list:
        return [_clip().save(folder / f"c{suffix}").read_bytes()]
    return make


def csv_seeds(folder: Path) -> list:
    """Our own ARKit CSV and a Live Link Face-like one with drifting sub-frames."""
    ours = _clip().to_arkit_csv(folder / "ours.csv").read_bytes()
    rows = ["Timecode,BlendShapeCount,EyeBlinkLeft,JawOpen,HeadYaw,HeadPitch,HeadRoll"]
    rows += [f"00:32:09:{7 + k:02d}.{867 + k:03d},5,0.0491091609,0.2114743441,0.01,0.02,0.03" for k in range(10)]
    return [ours, ("\n".join(rows) + "\n").encode()]


def audio_seeds(folder: Path) -> list:
    import soundfile

    t = np.arange(1600) / 16000.0
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    out = []
    for name, kwargs in (("a.wav", {"subtype": "PCM_16"}), ("b.wav", {"subtype": "FLOAT"}),
                         ("c.flac", {"format": "FLAC"})):
        soundfile.write(folder / name, tone, 16000, **kwargs)
        out.append((folder / name).read_bytes())
    return out


GRAPH = b"not really a graph"


def sidecar_seeds(folder: Path) -> list:
    sidecar = {"kind": "nldf", "format_version": 2, "mode": "rays", "condition_channels": ["a", "b"],
               "encoding": {"input": "box-normalised segment points", "num_points": 8}, "ray_stride": 1,
               "box": {"low": [-1, -1, -1], "high": [1, 1, 1]}, "sha256": hashlib.sha256(GRAPH).hexdigest(),
               "training": {"config": {"yaw_range": [-30, 30]}}}
    return [json.dumps(sidecar).encode()]


# ---- what each loader calls ----------------------------------------------------------------------

def load_head_file(path: Path):
    from engine.head import load_head

    return load_head(path)


def load_landmarks(path: Path):
    from engine.head.loader import load_landmark_embedding

    return load_landmark_embedding(path)


def load_clip_file(path: Path):
    from engine.motion import MotionClip

    return MotionClip.load(path)


def load_csv(path: Path):
    from engine.motion import MotionClip

    return MotionClip.from_arkit_csv(path)


def load_audio_file(path: Path):
    from engine.audio import load_audio

    return load_audio(path)


def load_sidecar(path: Path):
    """The sidecar at `path` beside its (stand-in) graph, read and content-checked as `load_look` does."""
    from engine.nldf.sidecar import check_contents, read_sidecar

    onnx = path.with_suffix(".onnx")
    onnx.write_bytes(GRAPH)
    sidecar = read_sidecar(onnx)
    check_contents(sidecar, onnx.name, ("a", "b"))
    return sidecar


LOADERS = [
    Loader("flame_pickle", ".pkl", flame_seeds, load_head_file),
    Loader("head_npz", ".npz", head_npz_seeds, load_head_file),
    Loader("landmark_pickle", ".pkl", lambda f: landmark_seeds(f)[:1], load_landmarks),
    Loader("landmark_npy", ".npy", lambda f: landmark_seeds(f)[1:], load_landmarks),
    Loader("clip_npz", ".npz", clip_seeds(".npz"), load_clip_file),
    Loader("clip_json", ".json", clip_seeds(".json"), load_clip_file),
    Loader("arkit_csv", ".csv", csv_seeds, load_csv),
    Loader("audio", ".wav", audio_seeds, load_audio_file),
    Loader("look_sidecar", ".json", sidecar_seeds, load_sidecar),
]
BY_NAME = {loader.name: loader for loader in LOADERS}
