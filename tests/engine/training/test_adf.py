"""ADF: config checks, a two-iteration training smoke test, ONNX export parity and sidecar checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

torch = pytest.importorskip("torch")

from engine.drivers.adf.channels import OUTPUT_CHANNELS, STYLE_NAMES, style_code, style_from_code  # noqa: E402
from engine.drivers.adf.runtime import load_model, run_network  # noqa: E402
from engine.audio import audio_from_array  # noqa: E402
from engine.errors import InputError, ModelError  # noqa: E402
from engine.style import SpeakingStyle  # noqa: E402
from engine.training.adf.config import ADFConfig  # noqa: E402
from engine.training.adf.export import export  # noqa: E402
from engine.training.adf.train import load_checkpoint, train  # noqa: E402
from engine.training.corpus import CorpusConfig, build_corpus  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="the corpus needs espeak-ng")
TINY = dict(width=32, layers=1, heads=2, style_hidden=16, steps=2, batch=4, window_s=1.0, log_every=1,
            warmup_steps=1, phone_weight=0.3, closure_weight=0.5, time_masks=1, freq_masks=1, checkpoint_every=1,
            freq_warp=0.1)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny corpus, two training steps and an export."""
    root = tmp_path_factory.mktemp("adf")
    build_corpus(CorpusConfig(minutes=8 / 60, shard_seconds=4.0), root / "corpus", workers=1)
    config = ADFConfig(corpora=[str(root / "corpus")], corpus_weights=[2.0], **TINY)
    checkpoint = train(config, root / "run")
    onnx_path, _ = export(checkpoint, root / "model" / "adf", recipe="pytest")
    return root, checkpoint, onnx_path


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(InputError, match="Unknown ADF config key"):
        ADFConfig.from_dict({"widht": 64})
    with pytest.raises(InputError, match="multiple of 'heads'"):
        ADFConfig(width=30, heads=4)
    with pytest.raises(InputError, match="window_s"):
        ADFConfig(window_s=0.1)


def test_style_codes_round_trip():
    style = SpeakingStyle(articulation=1.4, smile=-0.5, blink_rate=30.0)
    assert len(style_code(style)) == len(STYLE_NAMES) and np.all(np.abs(style_code(style)) <= 1.0)
    back = style_from_code(style_code(style))
    assert back.to_dict() == pytest.approx(style.to_dict(), rel=1e-5)


def test_two_training_steps_write_config_log_and_checkpoint(run):
    root, checkpoint, _ = run
    saved = json.loads((root / "run" / "config.json").read_text())
    assert saved["steps"] == 2 and saved["width"] == 32
    lines = (root / "run" / "log.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(np.isfinite(json.loads(line)["total"]) for line in lines)
    logged = json.loads(lines[-1])
    assert np.isfinite(logged["phones"]) and np.isfinite(logged["closure_mm"]) and "held_closure_mm" in logged
    assert not (root / "run" / "checkpoint.pt.partial").exists()
    config, net, style_net = load_checkpoint(checkpoint)
    assert config.width == 32


def test_onnx_matches_torch_and_windows_join_seamlessly(run):
    _, checkpoint, onnx_path = run
    _, net, _ = load_checkpoint(checkpoint)
    model = load_model(onnx_path)
    rng = np.random.default_rng(0)
    mel = rng.standard_normal((1, 301, net.front[0].in_channels)).astype(np.float32)
    code = style_code(SpeakingStyle(smile=0.4))
    with torch.no_grad():
        expected = net(torch.from_numpy(mel), torch.from_numpy(code[None])).numpy()[0]
    got = model.session.run(["channels"], {"mel": mel, "style": code[None]})[0][0]
    assert got.shape == (151, len(OUTPUT_CHANNELS))
    np.testing.assert_allclose(got, expected, atol=1e-4)
    long = rng.standard_normal((4001, mel.shape[2])).astype(np.float32)  # 40 s: 14 windows, a short last one
    windowed = run_network(model, long, code)
    assert windowed.shape == (2001, len(OUTPUT_CHANNELS)) and np.all(np.isfinite(windowed))
    with torch.no_grad():
        whole = net(torch.from_numpy(long[None]), torch.from_numpy(code[None])).numpy()[0]
    assert np.abs(windowed - whole).max() < 0.05 * np.abs(whole).max()    # a local network: windows join
    from engine.drivers.adf import runtime
    one_by_one = run_network(replace_batching(model, runtime), long, code)
    np.testing.assert_allclose(one_by_one, windowed, atol=1e-5)         # batches change nothing


def replace_batching(model, runtime):
    """The same model run one window per call."""
    class Single(runtime.ADFModel):
        batched = False
    return Single(model.session, model.sidecar, model.path)


def test_mismatched_or_missing_sidecars_are_refused(run, tmp_path):
    _, _, onnx_path = run
    copy = tmp_path / "adf.onnx"
    shutil.copy(onnx_path, copy)
    with pytest.raises(ModelError, match="has no sidecar"):
        load_model(copy)
    sidecar = json.loads(onnx_path.with_suffix(".json").read_text())
    copy.with_suffix(".json").write_text(json.dumps(sidecar | {"sha256": "0" * 64}))
    with pytest.raises(ModelError, match="does not match its sidecar"):
        load_model(copy)
    copy.with_suffix(".json").write_text(json.dumps(sidecar | {"kind": "nldf"}))
    with pytest.raises(ModelError, match="not 'adf'"):
        load_model(copy)
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "missing.onnx")


def test_the_adf_driver_gives_every_frame_at_any_length(run):
    from engine.drivers.adf.driver import PROCEDURAL, adf_channels, style_of_clip
    from engine.audio import audio_from_array
    from engine.motion import MotionClip

    _, _, onnx_path = run
    rng = np.random.default_rng(1)
    for seconds in (0.2, 3.0):
        for samples in (np.zeros(int(seconds * 16000)), 0.1 * rng.standard_normal(int(seconds * 16000))):
            channels = adf_channels(audio_from_array(samples, 16000), 24.0, model_path=onnx_path)
            assert set(OUTPUT_CHANNELS) | set(PROCEDURAL) <= set(channels)
            assert all(v.shape == (int(np.ceil(seconds * 24)),) and np.all(np.isfinite(v)) for v in channels.values())
    reference = MotionClip(list(OUTPUT_CHANNELS), rng.uniform(0, 0.5, (90, len(OUTPUT_CHANNELS))), 30.0)
    assert isinstance(style_of_clip(reference, model_path=onnx_path), SpeakingStyle)


def test_style_clip_on_the_command_line(run, tmp_path, monkeypatch, capsys):
    import engine.drivers.adf.driver as driver
    from engine.cli.main import main
    from engine.motion import MotionClip

    _, _, onnx_path = run
    voice = driver.Path(__file__).resolve().parents[3] / "engine" / "data" / "voices" / "sample_en.wav"
    reference = tmp_path / "ref.npz"
    rng = np.random.default_rng(2)
    MotionClip(list(OUTPUT_CHANNELS), rng.uniform(0, 0.4, (60, len(OUTPUT_CHANNELS))), 30.0).save(reference)
    out = tmp_path / "clip.npz"
    argv = ["animate", str(voice), "-o", str(out), "--driver", "adf", "--style-clip", str(reference)]
    monkeypatch.setattr(driver, "DEFAULT_MODEL", tmp_path / "missing" / "adf.onnx")
    assert main(argv) == 1 and "does not exist" in capsys.readouterr().err
    monkeypatch.setattr(driver, "DEFAULT_MODEL", onnx_path)
    assert main(argv + ["--style", "smile=0.25"]) == 0
    style = MotionClip.load(out).metadata["style"]
    assert style["smile"] == 0.25 and set(style) == set(STYLE_NAMES)


def test_phone_labels_follow_the_phones_at_50_hz():
    from engine.drivers.phonetic.phones import PHONE_SET, Phone
    from engine.training.adf.data import phone_labels
    labels = phone_labels([Phone("M", 0.1, 0.2), Phone("aa1", 0.2, 0.5)], 30)
    names = [PHONE_SET[k] for k in labels]
    assert names[:5] == ["SIL"] * 5 and names[5:10] == ["M"] * 5 and names[10:25] == ["AA"] * 15
    assert names[25:] == ["SIL"] * 5


def test_closure_term_costs_only_open_lips_where_the_target_is_closed():
    from engine.training.adf.losses import closure_l1, lip_gap_model
    gap0, grad, base = lip_gap_model()
    jaw = OUTPUT_CHANNELS.index("jaw_rx")
    assert gap0 > 1.5 and grad[jaw] > 0            # the jaw opens the lips
    gap = tuple(torch.as_tensor(v) for v in (gap0, grad, base))
    closed = torch.zeros(1, 4, len(OUTPUT_CHANNELS))
    closed[..., jaw] = base[jaw] - gap0 / grad[jaw] - 0.01    # jaw just shut enough to close the lips
    mask = torch.ones(1, 4)
    opened = closed.clone()
    opened[..., jaw] += 0.1
    assert float(closure_l1(closed, closed, mask, gap)) == 0.0
    assert float(closure_l1(opened, closed, mask, gap)) == pytest.approx(0.1 * grad[jaw], rel=1e-4)
    assert float(closure_l1(closed, opened, mask, gap)) == 0.0   # an open target is not a closure


def test_frequency_warp_moves_a_formant_band_and_keeps_identity():
    from engine.training.adf.data import warp_frequency
    mel = np.zeros((1, 3, 40), np.float32)
    mel[:, :, 20] = 1.0
    same = warp_frequency(mel.copy(), np.random.default_rng(0), 0.0)
    assert np.array_equal(same, mel)
    rng = np.random.default_rng(1)
    factor = np.random.default_rng(1).uniform(0.8, 1.2)
    warped = warp_frequency(mel.copy(), rng, 0.2)
    assert abs(float(np.argmax(warped[0, 0])) - 20 / factor) <= 1.0


def test_corpus_weights_must_match_the_corpora(run):
    from engine.training.adf.data import load_examples
    root = run[0]
    with pytest.raises(InputError, match="one positive corpus weight"):
        load_examples([root / "corpus"], ADFConfig().feature_config, weights=[1.0, 2.0])


def test_a_second_stage_starts_from_a_checkpoint_and_a_run_can_stop_early(run, tmp_path):
    root, checkpoint, _ = run
    config = ADFConfig(corpora=[str(root / "corpus")], **(TINY | {"steps": 5, "stop_at_step": 1}),
                       init_from=str(checkpoint))
    second = train(config, tmp_path / "stage2")
    assert len((tmp_path / "stage2" / "log.jsonl").read_text().splitlines()) == 1   # stopped after step 1
    _, first_net, _ = load_checkpoint(checkpoint)
    _, second_net, _ = load_checkpoint(second)
    a, b = first_net.state_dict(), second_net.state_dict()
    moved = [k for k in a if not torch.equal(a[k], b[k])]
    assert moved and all(float((a[k] - b[k]).abs().max()) < 0.05 for k in a)   # one small step from the start


def test_training_on_voice_and_clip_pairs(tmp_path):
    from engine.animate import animate
    from engine.audio import load_audio
    from engine.training.adf.pairs import find_pairs

    voice = Path(__file__).resolve().parents[3] / "engine" / "data" / "voices" / "sample_en.wav"
    folder = tmp_path / "takes"
    folder.mkdir()
    audio = load_audio(voice)
    short = audio_from_array(audio.samples[: 3 * audio.rate], audio.rate)
    shutil.copy(voice, folder / "take1.wav")
    animate(audio, fps=30.0, driver="phonetic").save(folder / "take1.npz")
    soundfile.write(folder / "take2.wav", short.samples, short.rate)
    animate(short, fps=25.0, driver="phonetic").to_arkit_csv(folder / "take2.csv")
    assert [c.name for _, c in find_pairs(folder)] == ["take1.npz", "take2.csv"]
    config = ADFConfig(pairs=[str(folder)], **TINY)
    checkpoint = train(config, tmp_path / "run")
    logged = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert checkpoint.exists() and all(np.isfinite(d["total"]) and d["phones"] == 0.0 for d in logged)
    (folder / "take3.json").write_text("{}")
    with pytest.raises(InputError, match="take3.json.*no voice file"):
        find_pairs(folder)
    with pytest.raises(InputError, match="no corpora and no pairs"):
        train(ADFConfig(**TINY), tmp_path / "none")


SAMPLE_WORDS = ("Hello! I am a talking head. Give me a voice, and I will move my lips, my brows and my eyes "
                "to match it. Peter picked a bowl of blueberries.")


def test_a_tracked_clip_teaches_only_how_its_lip_gap_moves_weighted_by_confidence():
    from engine.training.adf.losses import adf_loss, lip_gap_model, lip_jacobian
    config = ADFConfig(gap_weight=1.0, closure_weight=0.1)
    gap = tuple(torch.as_tensor(v) for v in lip_gap_model())
    jacobian = torch.from_numpy(lip_jacobian())
    jaw, brow = OUTPUT_CHANNELS.index("jaw_rx"), OUTPUT_CHANNELS.index("browInnerUp")
    T, C = 20, len(OUTPUT_CHANNELS)
    target = torch.zeros(1, T, C)
    target[0, :, jaw] = 0.05 + 0.05 * torch.sin(torch.arange(T) / 3.0)      # the mouth opens and closes
    mask, learn, tracked = torch.ones(1, T), torch.zeros(1, C), torch.ones(1)

    def loss(pred, target, mask=mask):
        return float(adf_loss(pred, target, mask, jacobian, config, gap, learn, tracked)["total"])

    assert loss(target.clone(), target) == pytest.approx(0.0, abs=1e-4)
    noisy = target.clone()
    noisy[..., brow] = torch.rand(T)               # tracking noise on a channel the gap does not read
    noisy[..., jaw] = 0.03 + 2.0 * noisy[..., jaw]  # the person's resting opening and range: not learned
    assert loss(target.clone(), noisy) == pytest.approx(0.0, abs=1e-4)
    still = target.clone()
    still[..., jaw] = 0.05                         # a mouth that does not move costs
    assert loss(still, target) == pytest.approx(1.0, abs=1e-3)
    late = target.clone()
    late[0, 3:, jaw] = target[0, :-3, jaw]         # a mouth three frames late costs
    assert loss(late, target) > 0.3
    wrong = target.clone()
    wrong[0, 10:, jaw] = 0.05 - 0.05 * torch.sin(torch.arange(10, T) / 3.0)   # wrong only where frames weigh 0
    half = mask.clone()
    half[0, 10:] = 0.0
    assert loss(wrong, target) > 0.3 and loss(wrong, target, half) == pytest.approx(0.0, abs=1e-4)


def test_a_checkpoint_rebuilt_from_the_exported_onnx_is_the_same_network(run, tmp_path):
    from engine.training.adf.from_onnx import checkpoint_from_onnx
    _, checkpoint, onnx_path = run
    rebuilt = checkpoint_from_onnx(onnx_path, tmp_path / "from_onnx")
    _, net, style_net = load_checkpoint(checkpoint)
    _, net2, style_net2 = load_checkpoint(rebuilt)
    a, b = net.state_dict(), net2.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a if not k.startswith("phone_head."))
    assert all(torch.equal(v, style_net2.state_dict()[k]) for k, v in style_net.state_dict().items())
    shipped, _ = export(rebuilt, tmp_path / "ship" / "adf", recipe="pytest", quality={"real speech r": 0.5})
    assert json.loads(shipped.with_suffix(".json").read_text())["quality"] == {"real speech r": 0.5}
    assert load_model(shipped).sidecar["quality"]["real speech r"] == 0.5      # the runtime accepts it
    (onnx_path.parent / "adf.json").rename(onnx_path.parent / "moved.json")
    try:
        with pytest.raises(InputError, match="no sidecar"):
            checkpoint_from_onnx(onnx_path, tmp_path / "none")
    finally:
        (onnx_path.parent / "moved.json").rename(onnx_path.parent / "adf.json")


def test_training_on_tracked_videos_and_real_voices_with_known_words(tmp_path):
    from engine.animate import animate
    from engine.audio import load_audio
    from engine.training.adf.real_data import frame_weights, known_voice_examples, tracked_examples

    voice = Path(__file__).resolve().parents[3] / "engine" / "data" / "voices" / "sample_en.wav"
    audio = load_audio(voice)
    clip = animate(audio, fps=25.0, driver="energy")
    weight = np.ones(clip.num_frames, np.float32)
    weight[:25] = 0.0                                                     # the first second tracked badly
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    np.savez(pairs / "take.pair.npz", audio=audio.samples, rate=audio.rate, names=np.array(clip.names),
             values=clip.values, fps=clip.fps, confidence=weight, weight=weight, speaker=np.array("x"),
             source_video=np.array("take.mp4"))
    speech = tmp_path / "speech"
    (speech / "librivox").mkdir(parents=True)
    shutil.copy(voice, speech / "librivox" / "sample.wav")
    (speech / "librivox" / "sample.txt").write_text(SAMPLE_WORDS)
    tracked = tracked_examples([pairs], ADFConfig().feature_config)
    assert len(tracked) == 1 and tracked[0].tracked and tracked[0].frame_weight[:50].max() == 0.0
    assert tracked[0].frame_weight[60:].min() == 1.0
    voices = known_voice_examples(speech, ADFConfig().feature_config, copies=2)
    assert len(voices) == 2 and not voices[0].tracked
    from engine.drivers.phonetic.phones import PHONE_SET
    said = {PHONE_SET[k] for k in voices[0].phones}
    assert {"P", "B", "M"} <= said                                       # the words' bilabials, aligned
    assert np.array_equal(frame_weights(np.array([0.0, 1.0]), 25.0, 5), [0, 0, 1, 1, 0])
    config = ADFConfig(tracked=[str(pairs)], known_voices=str(speech), known_voice_copies=1, gap_weight=0.1,
                       **TINY)
    train(config, tmp_path / "run")
    logged = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(d["total"]) for d in logged) and any("gap_r" in d for d in logged)
    with pytest.raises(InputError, match="no .pair.npz"):
        tracked_examples([tmp_path], ADFConfig().feature_config)
