"""The style encoder learns from tracked clips: calibrated targets, window codes, a frozen network, the export."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tests.torch_fixtures import one_thread  # noqa: E402,F401
from engine.drivers.adf.channels import STYLE_INPUTS, STYLE_NAMES, style_from_code  # noqa: E402
from engine.drivers.adf.runtime import DEFAULT_MODEL, load_model  # noqa: E402
from engine.errors import InputError  # noqa: E402
from engine.motion import MotionClip  # noqa: E402
from engine.sidecar import file_sha256  # noqa: E402
from engine.style import NEUTRAL  # noqa: E402
from engine.training.adf.config import ADFConfig  # noqa: E402
from engine.training.adf.export import export_style  # noqa: E402
from engine.training.adf.model import ADFNet, StyleEncoder  # noqa: E402
from engine.training.adf.style_targets import LEARNED, invert, sweep_styles  # noqa: E402
from engine.training.adf.style_train import Reference, StyleConfig, augment, train_style, window_code  # noqa: E402
from engine.training.adf.train import load_checkpoint, save_checkpoint  # noqa: E402

FPS = 50.0
LEVELS = {name: np.array([getattr(s, name) for s in sweep_styles(4)]) for name in LEARNED}
# a sweep whose performances have 2 deg of head motion per unit of head_motion, 20 blinks/min per 20 of blink_rate
SWEEP = {"head_motion_deg": 2.0 * LEVELS["head_motion"], "brow_activity": 0.01 * LEVELS["brow_accent"],
         "blinks_per_min": LEVELS["blink_rate"]}


def nodding(seconds: float, degrees: float, blinks: int = 0) -> np.ndarray:
    """Reference frames [T, K]: the head nodding (head-motion statistic `degrees`: the RMS over the three
    neck angles), `blinks` evenly spaced blinks."""
    T = int(seconds * FPS)
    frames = np.zeros((T, len(STYLE_INPUTS)), np.float32)
    frames[:, STYLE_INPUTS.index("neck_rx")] = np.radians(degrees) * np.sqrt(6) * np.sin(np.arange(T) / FPS * 2 * np.pi)
    for start in (np.arange(blinks) + 0.5) * T // max(blinks, 1):
        frames[int(start):int(start) + 5, STYLE_INPUTS.index("eyeBlinkLeft")] = 1.0
    return frames


def test_a_statistic_is_inverted_through_the_sweep_and_clamped_to_the_range():
    levels, performed = np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.1, 2.0, 1.5, 6.0])   # dips: made monotone
    assert invert(levels, performed, 1.05) == pytest.approx(0.5)
    assert invert(levels, performed, 4.0) == pytest.approx(2.0)      # the flat step is skipped: 2 -> 6 over 1 -> 3
    assert invert(levels, performed, 0.0) == 0.0 and invert(levels, performed, 9.0) == 3.0


def test_a_tracked_window_is_coded_by_its_own_statistics_the_rest_neutral():
    reference = Reference("clip", nodding(6.0, 3.0, blinks=3), levels=LEVELS, sweep=SWEEP)
    style = style_from_code(window_code(reference, reference.frames))
    assert style.head_motion == pytest.approx(1.5, abs=0.02)          # 3 deg / 2 deg per unit
    assert style.blink_rate == pytest.approx(30.0, abs=0.5)           # 3 blinks in 6 s
    assert style.articulation == NEUTRAL.articulation and style.smile == NEUTRAL.smile
    still = style_from_code(window_code(reference, nodding(6.0, 0.0)))
    assert still.head_motion == pytest.approx(0.0, abs=0.01) and still.blink_rate == 0.0


def test_augmented_windows_scale_the_head_and_keep_the_shape():
    rng = np.random.default_rng(0)
    frames = nodding(6.0, 3.0, blinks=4)
    rms = [np.degrees(augment(frames, rng)[:, STYLE_INPUTS.index("neck_rx")].std() / np.sqrt(3)) for _ in range(40)]
    assert min(rms) < 2.0 and max(rms) > 5.0                           # 0.25-3x of 3 deg
    assert all(augment(frames, rng).shape[1] == len(STYLE_INPUTS) for _ in range(5))


@pytest.fixture
def start(tmp_path):
    """A tiny ADF checkpoint and a tracked folder of two clips (one still, one nodding), calibrated."""
    config = ADFConfig(width=16, layers=1, heads=2, style_hidden=16)
    torch.manual_seed(0)
    path = save_checkpoint(tmp_path / "start.pt", config, ADFNet(config, 40), StyleEncoder(config), 40)
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    names = list(STYLE_INPUTS)
    key = {"network": file_sha256(DEFAULT_MODEL), "points": 4, "seeds": [1]}
    for stem, degrees in (("still", 0.3), ("nodding", 5.0)):
        values = nodding(8.0, degrees, blinks=2)
        np.savez(pairs / f"{stem}.pair.npz", audio=np.zeros(8000, np.float32), rate=16000, names=np.array(names),
                 values=values, fps=FPS, confidence=np.ones(len(values), np.float32),
                 weight=np.ones(len(values), np.float32), speaker=np.array(stem), source_video=np.array(f"{stem}.mp4"))
        row = {"clip": stem, "video": {}, "style": {}, "performed": {},
               "sweep": {k: v.tolist() for k, v in SWEEP.items()}}
        (pairs / f"{stem}.style.json").write_text(json.dumps({"key": key, "row": row}))   # the calibration, kept
    return path, pairs


def test_training_moves_only_the_style_encoder_toward_the_tracked_styles(start, tmp_path):
    path, pairs = start
    config = StyleConfig(init_from=str(path), tracked=[str(pairs)], sweep_points=4, sweep_seeds=[1], steps=60,
                         batch=8, learning_rate=3e-3, min_window_s=4.0, max_window_s=6.0, augment=False, log_every=20)
    checkpoint = train_style(config, tmp_path / "run")
    _, net0, style0 = load_checkpoint(path)
    _, net1, style1 = load_checkpoint(checkpoint)
    assert all(torch.equal(v, net1.state_dict()[k]) for k, v in net0.state_dict().items())   # the network as it came
    with torch.no_grad():
        codes = {d: style1(torch.from_numpy(nodding(8.0, d, blinks=2)[None]))[0].numpy() for d in (0.3, 5.0)}
    head = STYLE_NAMES.index("head_motion")
    assert codes[5.0][head] - codes[0.3][head] > 0.5, codes          # targets 2.5 vs 0.15 of head_motion
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [20, 40, 60] and log[-1]["loss"] < log[0]["loss"]


def test_only_the_style_files_are_exported(start, tmp_path):
    path, _ = start
    style_sidecar = export_style(path, tmp_path / "model" / "adf", recipe="pytest", style_training={"steps": 1})
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["adf_style.json", "adf_style.onnx"]
    encoder = load_model(style_sidecar.with_suffix(".onnx"), kind="adf_style")
    assert encoder.sidecar["training"]["style_config"] == {"steps": 1}
    frames = nodding(3.0, 2.0)[None]
    with torch.no_grad():
        ours = load_checkpoint(path)[2](torch.from_numpy(frames))[0].numpy()
    assert np.allclose(encoder.session.run(["style"], {"reference": frames})[0][0], ours, atol=1e-5)


def test_an_exported_encoder_reads_how_the_head_moves_not_where_it_points(start, tmp_path):
    from engine.drivers.adf.driver import style_of_clip

    path, _ = start
    sidecar = export_style(path, tmp_path / "model" / "adf", recipe="pytest")
    assert json.loads(sidecar.read_text())["head_about_mean"] is True
    frames = nodding(3.0, 2.0, blinks=1)
    turned = frames.copy()
    turned[:, STYLE_INPUTS.index("neck_ry")] += np.radians(20.0)        # the same nods, looking 20 deg aside
    styles = [style_of_clip(MotionClip(list(STYLE_INPUTS), f, FPS), encoder_path=sidecar.with_suffix(".onnx"))
              for f in (frames, turned)]
    assert styles[0].to_dict() == pytest.approx(styles[1].to_dict(), abs=1e-4)
    with torch.no_grad():     # the raw encoder (no centring) does tell them apart: the test can fail
        raw = [load_checkpoint(path)[2](torch.from_numpy(f[None]))[0].numpy() for f in (frames, turned)]
    assert np.abs(raw[0] - raw[1]).max() > 1e-3


def test_a_style_config_without_a_start_is_a_sentence(tmp_path):
    with pytest.raises(InputError, match="init_from"):
        train_style(StyleConfig(), tmp_path / "run")
    with pytest.raises(InputError, match="tracked_fraction"):
        StyleConfig(tracked_fraction=2.0)
