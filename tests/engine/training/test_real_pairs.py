"""Real (audio, motion) pairs: only training rows, the voice and the take frame-aligned, bad frames weigh 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from engine.motion import MotionClip
from engine.evaluation import real as er
from engine.training.real_pairs import MIN_CONFIDENCE, build_real_pairs, load_pair, main

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "engine" / "data" / "voices" / "sample_en.wav"


def cached_video(folder: Path, name: str, cache: Path, confidence: np.ndarray, fps: float = 25.0) -> Path:
    """A 'video' (a WAV under a video's name) whose tracked take is already in the cache."""
    from engine.video.track import sidecar_path

    samples, rate = sf.read(SAMPLE, dtype="float32")
    path = folder / name
    sf.write(path, samples[: 2 * rate], rate, format="WAV")
    T = confidence.size
    clip = MotionClip(["jaw_rx", "eyeBlinkLeft"], np.linspace(0, 0.2, 2 * T).reshape(T, 2).astype(np.float32), fps)
    saved = cache / f"{path.stem}-{er.take_key(path)}.npz"
    cache.mkdir(parents=True, exist_ok=True)
    clip.save(saved)
    np.savez(sidecar_path(saved), bridged=confidence == 0, confidence=confidence)
    return path


def test_pairs_come_from_training_rows_only_and_weigh_badly_tracked_frames_zero(tmp_path):
    cache, out = tmp_path / "takes", tmp_path / "pairs"
    confidence = np.full(50, 0.9)
    confidence[10:15] = 0.0                              # bridged
    confidence[20:25] = MIN_CONFIDENCE - 0.1             # tracked, badly
    cached_video(tmp_path, "retalking_5.mp4", cache, confidence)
    cached_video(tmp_path, "mead_M003_level_1_disgusted_015.mp4", cache, np.ones(50))   # held out: never a pair
    paths = build_real_pairs(tmp_path, out, cache)
    assert [p.name for p in paths] == ["retalking_5.pair.npz"]
    pair = load_pair(paths[0])
    assert pair.clip.num_frames == 50 and pair.clip.names == ["jaw_rx", "eyeBlinkLeft"]
    assert pair.audio.rate == 16000 and abs(pair.audio.duration - 2.0) < 0.01
    assert np.all(pair.weight[10:15] == 0) and np.all(pair.weight[20:25] == 0)
    assert np.allclose(pair.weight[:10], 0.9) and np.allclose(pair.confidence[20:25], MIN_CONFIDENCE - 0.1)
    stamp = paths[0].stat().st_mtime_ns
    assert build_real_pairs(tmp_path, out, cache) == paths and paths[0].stat().st_mtime_ns == stamp


def test_main_usage_line(capsys):
    assert main([]) == 2 and "usage" in capsys.readouterr().err
