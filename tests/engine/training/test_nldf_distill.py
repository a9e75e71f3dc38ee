"""NLDF distillation: config, the student's two modes, the two-iteration smoke recipe, resuming, the CLI."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.errors import InputError  # noqa: E402
from engine.training.nldf.__main__ import main  # noqa: E402
from engine.training.nldf.config import NLDFConfig  # noqa: E402
from engine.training.nldf.distill import distill, load_checkpoint  # noqa: E402
from engine.training.nldf.model import NLDFSuperRes, build_model, render_rays  # noqa: E402
from engine.training.teachers import teacher as mesh_teacher  # noqa: E402
from tests.nldf_looks import TINY, tiny_config  # noqa: E402
from tests.torch_fixtures import one_thread  # noqa: E402,F401  (autouse: torch on one thread)


class CountingTeacher:
    def __init__(self):
        self.render, self.calls = mesh_teacher("toon"), 0

    def __call__(self, params, camera):
        self.calls += 1
        return self.render(params, camera)


def log_lines(folder):
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


def test_config_rejects_unknown_keys_and_bad_values(tmp_path):
    with pytest.raises(InputError, match="Unknown NLDF config key"):
        NLDFConfig.from_dict({"widht": 64})
    with pytest.raises(InputError, match="mode"):
        NLDFConfig(mode="nerf")
    with pytest.raises(InputError, match="sr_stride"):
        NLDFConfig(mode="superres", sr_stride=3)
    config = tiny_config(mode="superres", sr_stride=8)
    assert NLDFConfig.load(config.save(tmp_path / "config.json")) == config


def test_misses_never_reach_the_body():
    model = build_model(tiny_config(), 5)
    rows = []
    model.body.register_forward_hook(lambda module, inputs, output: rows.append(inputs[0].shape[0]))
    points = torch.rand(10, 12) * 2 - 1
    hit = torch.tensor([True, False] * 5)
    rgba = render_rays(model, points, torch.rand(1, 5), hit)
    assert rows == [5] and torch.all(rgba[~hit] == 0) and torch.all(rgba[hit, 3] > 0)


def test_condition_changes_the_output_and_superres_makes_full_frames():
    model = build_model(tiny_config(mode="superres", sr_stride=4), 5)
    assert isinstance(model, NLDFSuperRes)
    points, index = torch.rand(6, 12) * 2 - 1, torch.tensor([0, 1, 5, 16, 17, 31])
    a = model(points, index, torch.zeros(1, 5), 2, 4, 4)
    b = model(points, index, torch.ones(1, 5), 2, 4, 4)
    assert a.shape == (2, 4, 16, 16) and not torch.allclose(a, b)


@pytest.mark.parametrize("mode", ["rays", "superres"])
def test_two_iteration_smoke_distill(tmp_path, mode):
    out = tmp_path / mode
    path = distill(tiny_config(mode=mode, sr_stride=4), out)
    lines = log_lines(out)
    assert [line["step"] for line in lines] == [1, 2]
    assert all(np.isfinite(line["loss"]) and 3.0 < line["psnr"] < 60.0 and line["psnr_mouth"] is not None
               for line in lines)
    config, model, data = load_checkpoint(path)
    assert config.mode == mode and data["step"] == 2 and data["teacher"] == "toon"
    assert json.loads((out / "config.json").read_text())["mode"] == mode
    assert list((out / "teacher").glob("toon_16_*.npz"))


def test_a_tri_plane_student_distils_with_its_planes_learning_faster(tmp_path):
    path = distill(tiny_config(plane_resolutions=[8], plane_lr_scale=4.0), tmp_path)
    saved = torch.load(path, weights_only=False)
    groups = saved["optimizer"]["param_groups"]
    assert len(groups) == 2 and groups[1]["lr"] == pytest.approx(4.0 * groups[0]["lr"])
    assert any(".planes." in name for name in saved["model"])
    with pytest.raises(InputError, match="plane_resolutions"):
        tiny_config(plane_resolutions=[1])


def test_a_run_continues_from_its_checkpoint_without_rendering_again(tmp_path):
    teacher = CountingTeacher()
    distill(tiny_config(), tmp_path, teacher=teacher, teacher_name="toon")
    rendered = teacher.calls
    assert rendered == TINY["frames"] + TINY["eval_frames"]
    before = torch.load(tmp_path / "checkpoint.pt", weights_only=False)["model"]
    distill(tiny_config(steps=3), tmp_path, teacher=teacher, teacher_name="toon")
    assert teacher.calls == rendered  # the teacher frames came from the cache
    assert [line["step"] for line in log_lines(tmp_path)] == [1, 2, 3]
    after = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert after["step"] == 3 and not torch.equal(after["model"]["body.out.weight"], before["body.out.weight"])


def test_keep_checkpoints_keeps_one_per_checkpoint_step_each_with_its_weights(tmp_path):
    distill(tiny_config(steps=3, checkpoint_every=2, keep_checkpoints=True), tmp_path)
    assert sorted(p.name for p in tmp_path.glob("checkpoint*.pt")) == ["checkpoint.pt", "checkpoint_2.pt"]
    kept, last = (torch.load(tmp_path / name, weights_only=False) for name in ("checkpoint_2.pt", "checkpoint.pt"))
    assert kept["step"] == 2 and last["step"] == 3
    assert not torch.equal(kept["model"]["body.out.weight"], last["model"]["body.out.weight"])
    distill(tiny_config(steps=4, checkpoint_every=2), tmp_path)   # keeping is bookkeeping: the run continues
    assert not (tmp_path / "checkpoint_4.pt").exists()


def test_a_missing_nerf_teacher_is_one_sentence(tmp_path):
    with pytest.raises(InputError, match="NeRF teacher checkpoint .* does not exist; fit one with"):
        distill(tiny_config(teacher=str(tmp_path / "nerf" / "checkpoint.pt")), tmp_path / "run")


def test_a_run_with_other_settings_is_refused(tmp_path):
    distill(tiny_config(), tmp_path)
    with pytest.raises(InputError, match="other settings .*width"):
        distill(tiny_config(width=16), tmp_path)


def test_cli_distill_and_export(tmp_path, capsys):
    sets = [f"--set={k}={json.dumps(v)}" for k, v in TINY.items()]
    assert main(["distill", "--look", "clay", "--out", str(tmp_path / "run"), *sets]) == 0
    assert main(["export", str(tmp_path / "run" / "checkpoint.pt"), "--out", str(tmp_path / "nldf_clay")]) == 0
    sidecar = json.loads((tmp_path / "nldf_clay.json").read_text())
    recipe = sidecar["training"]["recipe"]
    assert sidecar["look"] == "clay" and "--set look=clay" in recipe and "--set width=8" in recipe
    assert "log_every" not in recipe and f"export {tmp_path / 'run' / 'checkpoint.pt'} --out " in recipe
    assert main(["distill", "--out", str(tmp_path / "bad"), "--set", "bogus=1"]) == 2
    assert "Unknown NLDF config key(s) bogus" in capsys.readouterr().err


def test_a_kept_checkpoints_recipe_keeps_checkpoints_so_it_remakes_the_one_exported(tmp_path):
    sets = [f"--set={k}={json.dumps(v)}" for k, v in TINY.items()]
    assert main(["distill", "--out", str(tmp_path / "run"), *sets, "--set", "keep_checkpoints=true"]) == 0
    assert main(["export", str(tmp_path / "run" / "checkpoint_1.pt"), "--out", str(tmp_path / "nldf_toon")]) == 0
    recipe = json.loads((tmp_path / "nldf_toon.json").read_text())["training"]["recipe"]
    assert "--set keep_checkpoints=true" in recipe and f"export {tmp_path / 'run' / 'checkpoint_1.pt'} " in recipe
    quality = json.loads((tmp_path / "nldf_toon.json").read_text())["training"]["quality"]
    assert quality["step"] == 1 == log_lines(tmp_path / "run")[0]["step"]   # its own step's, not the last line's
    assert quality["psnr"] == log_lines(tmp_path / "run")[0]["psnr"]


def test_frame_losses_default_to_the_weighted_squared_error_and_the_other_forms_measure_what_they_say():
    from engine.training.nldf.trainers import frame_losses

    torch.manual_seed(0)
    predicted, target = torch.rand(2, 6, 7, 4), torch.rand(2, 6, 7, 4)
    weights = 1.0 + 4.0 * (torch.rand(2, 6, 7) > 0.7)
    old = (((predicted - target) ** 2).mean(dim=-1) * weights).mean(dim=(1, 2))   # the loss before the options
    assert torch.allclose(frame_losses(predicted, target, weights, tiny_config()), old)
    l1 = (((predicted - target).abs()).mean(dim=-1) * weights).mean(dim=(1, 2))
    assert torch.allclose(frame_losses(predicted, target, weights, tiny_config(loss="l1")), l1)
    charbonnier = frame_losses(predicted, target, weights, tiny_config(loss="charbonnier", charbonnier_eps=1e-3))
    assert torch.all(charbonnier < l1) and torch.allclose(charbonnier, l1, atol=5e-3)   # within eps x the largest weight
    # the gradient term: blind to a constant offset, and it sees an edge moved by one pixel
    edged = tiny_config(gradient_weight=2.0)
    assert torch.allclose(frame_losses(target + 0.1, target, weights, edged),
                          frame_losses(target + 0.1, target, weights, tiny_config()))
    step = torch.zeros(1, 8, 8, 4)
    step[:, :, 4:] = 1.0
    moved = torch.roll(step, 1, dims=2)
    ones = torch.ones(1, 8, 8)
    assert frame_losses(moved, step, ones, edged) > frame_losses(moved, step, ones, tiny_config())
    with pytest.raises(InputError, match="'loss'"):
        tiny_config(loss="l3")
    with pytest.raises(InputError, match="gradient_weight"):
        tiny_config(gradient_weight=-1.0)


def test_a_sharpness_recipe_distils_and_logs_the_eye_boxes(tmp_path):
    distill(tiny_config(mode="superres", sr_stride=4, image_size=32, loss="charbonnier", gradient_weight=1.0,
                        eye_weight=4.0), tmp_path)
    lines = log_lines(tmp_path)
    assert [line["step"] for line in lines] == [1, 2]
    assert all(np.isfinite(line["loss"]) and line["psnr_eyes"] is not None and 3.0 < line["psnr_eyes"] < 60.0
               for line in lines)


def test_a_checkpoint_from_before_a_config_key_existed_continues_at_that_keys_default(tmp_path):
    distill(tiny_config(), tmp_path)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    for key in ("loss", "charbonnier_eps", "gradient_weight", "eye_weight"):
        del saved["config"][key]              # as a run written before these options were
    torch.save(saved, tmp_path / "checkpoint.pt")
    distill(tiny_config(steps=3), tmp_path)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=False)["step"] == 3
    with pytest.raises(InputError, match="other settings .*eye_weight"):
        distill(tiny_config(steps=4, eye_weight=1.0), tmp_path)
