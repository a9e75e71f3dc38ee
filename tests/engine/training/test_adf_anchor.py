"""ADF fine-tune anchored to a teacher: the distillation terms, frozen layers, kept checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.drivers.adf.channels import LIP_OUTPUTS, OUTPUT_CHANNELS  # noqa: E402
from engine.errors import InputError  # noqa: E402
from engine.training.adf.config import ADFConfig  # noqa: E402
from engine.training.adf.losses import distillation, lip_gap_model  # noqa: E402
from engine.training.adf.model import ADFNet, StyleEncoder  # noqa: E402
from engine.training.adf.train import load_teacher, save_checkpoint, train, trainable_parameters  # noqa: E402

TINY = dict(width=16, layers=2, heads=2, style_hidden=8, steps=3, batch=2, window_s=1.0, log_every=1,
            warmup_steps=1, checkpoint_every=2, gap_weight=0.5)


def _gap():
    return tuple(torch.as_tensor(v) for v in lip_gap_model())


def test_the_teacher_terms_see_lip_size_on_tracked_rows_and_every_channel_on_performed_rows():
    T, C = 30, len(OUTPUT_CHANNELS)
    jaw, brow = OUTPUT_CHANNELS.index("jaw_rx"), OUTPUT_CHANNELS.index("browInnerUp")
    teacher = torch.zeros(2, T, C)
    teacher[:, :, jaw] = 0.1 + 0.08 * torch.sin(torch.arange(T) / 3.0)     # a mouth opening and closing
    mask, tracked = torch.ones(2, T), torch.tensor([0.0, 1.0])            # row 0 performed, row 1 tracked

    def terms(pred):
        return {k: float(v) for k, v in distillation(pred, teacher, mask, tracked, _gap(), 8.0).items()}

    assert terms(teacher.clone()) == pytest.approx({"teacher_l1": 0.0, "gap_scale_mm": 0.0}, abs=1e-3)
    smaller = teacher.clone()
    smaller[1, :, jaw] = 0.1 + 0.04 * torch.sin(torch.arange(T) / 3.0)     # same timing, half the range
    half = terms(smaller)
    assert half["gap_scale_mm"] > 1.0 and half["teacher_l1"] == pytest.approx(0.0, abs=1e-6)
    late = teacher.clone()
    late[1, 3:, jaw] = teacher[1, :-3, jaw]                                # the tracked row's timing: free
    assert terms(late)["teacher_l1"] == pytest.approx(0.0, abs=1e-6)
    assert terms(late)["gap_scale_mm"] < 0.5 * half["gap_scale_mm"]
    off_brow = teacher.clone()
    off_brow[1, :, brow] = 0.5                                             # a pose channel of the tracked row
    assert terms(off_brow)["teacher_l1"] > 0.0
    performed_late = teacher.clone()
    performed_late[0, 3:, jaw] = teacher[0, :-3, jaw]                       # a performed row's lips: anchored
    assert terms(performed_late)["teacher_l1"] > 0.0
    assert "jaw_rx" in LIP_OUTPUTS and "browInnerUp" not in LIP_OUTPUTS


def test_only_the_named_layers_learn_and_a_bad_prefix_is_refused():
    config = ADFConfig(**TINY)
    net, style_net = ADFNet(config, 20), StyleEncoder(config)
    chosen = trainable_parameters(net, style_net, ["encoder.1", "lip_head"])
    assert len(chosen) == sum(1 for p in net.parameters() if p.requires_grad)
    assert all(p.requires_grad for p in net.lip_head.parameters())
    assert not any(p.requires_grad for p in net.encoder[0].parameters())
    assert not any(p.requires_grad for p in style_net.parameters())
    assert len(trainable_parameters(ADFNet(config, 20), style_net, [])) == len(list(net.parameters())) + \
        len(list(style_net.parameters()))
    with pytest.raises(InputError, match="name no parameter"):
        trainable_parameters(net, style_net, ["decoder"])
    with pytest.raises(InputError, match="names no 'teacher'"):
        load_teacher(ADFConfig(teacher_weight=1.0), 20, "cpu")


def test_an_anchored_fine_tune_on_a_tracked_clip_moves_only_its_trainable_layers(tmp_path):
    from engine.animate import animate
    from engine.audio import load_audio
    from engine.training.adf.real_data import tracked_examples

    voice = Path(__file__).resolve().parents[3] / "engine" / "data" / "voices" / "sample_en.wav"
    audio = load_audio(voice)
    clip = animate(audio, fps=25.0, driver="energy")
    weight = np.ones(clip.num_frames, np.float32)
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    np.savez(pairs / "take.pair.npz", audio=audio.samples, rate=audio.rate, names=np.array(clip.names),
             values=clip.values, fps=clip.fps, confidence=weight, weight=weight, speaker=np.array("x"),
             source_video=np.array("take.mp4"))
    examples = tracked_examples([pairs], ADFConfig().feature_config)
    base = ADFConfig(**TINY)
    torch.manual_seed(1)
    start = save_checkpoint(tmp_path / "start.pt", base, ADFNet(base, examples[0].mel.shape[1]), StyleEncoder(base),
                            examples[0].mel.shape[1])
    config = ADFConfig(init_from=str(start), teacher=str(start), teacher_weight=1.0, gap_scale_weight=0.1,
                       trainable=["encoder.1", "lip_head"], keep_checkpoints=True, learning_rate=1e-2, **TINY)
    checkpoint = train(config, tmp_path / "run", examples=examples)
    before, after = torch.load(start)["net"], torch.load(checkpoint)["net"]
    assert all(torch.equal(before[k], after[k]) for k in before if not k.startswith(("encoder.1.", "lip_head.")))
    assert not torch.equal(before["lip_head.2.weight"], after["lip_head.2.weight"])
    assert (tmp_path / "run" / "checkpoint_2.pt").exists()
    logged = (tmp_path / "run" / "log.jsonl").read_text()
    assert "gap_scale_mm" in logged and "teacher_l1" in logged
