"""The NLDF runtime (numpy + onnxruntime): sidecar refusals, rendering a clip, and the render command."""

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # to make the tiny looks; the runtime itself never imports it

from engine.cli.main import main  # noqa: E402
from engine.errors import Cancelled, ModelError  # noqa: E402
from engine.motion import MotionClip  # noqa: E402
from engine.nldf import condition_vectors, default_camera, load_look, render_clip, render_frame  # noqa: E402
from engine.nldf.render import EXTENT_BATCH, clip_workers, native_camera, resample  # noqa: E402
from engine.preview.png import read_png  # noqa: E402
from engine.progress import CancelToken, Reporter  # noqa: E402
from engine.render.rays import head_rays, head_transform, light_segments  # noqa: E402
from engine.training.nldf.distill import load_checkpoint  # noqa: E402
from engine.training.nldf.model import render_rays  # noqa: E402
from engine.training.nldf.trainers import segment_inputs  # noqa: E402
from tests.nldf_looks import tiny_look  # noqa: E402
from tests.torch_fixtures import one_thread  # noqa: E402,F401  (autouse: torch on one thread)


@pytest.fixture(scope="module")
def looks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("looks")
    return {"rays": tiny_look(folder, "tiny"), "superres": tiny_look(folder, "tinysr", mode="superres", sr_stride=4)}


def clip(frames=3):
    t = np.linspace(0, 1, frames)[:, None]
    values = np.concatenate([0.3 * t, t, 0.2 * t], axis=1).astype(np.float32)
    return MotionClip(names=["jaw_rx", "mouthFunnel", "neck_ry"], values=values, fps=25.0, start_frame=1)


def copy_look(source, folder, name="nldf_copy"):
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, folder / f"{name}.onnx")
    shutil.copy(source.with_suffix(".json"), folder / f"{name}.json")
    return folder / f"{name}.onnx"


def edit_sidecar(path, **changes):
    sidecar = json.loads(path.with_suffix(".json").read_text())
    for key, value in changes.items():
        if value is None:
            sidecar.pop(key)
        else:
            sidecar[key] = value
    path.with_suffix(".json").write_text(json.dumps(sidecar))


def refusal(path) -> str:
    with pytest.raises(ModelError) as info:
        load_look(path)
    message = str(info.value)
    assert "\n" not in message and message.endswith(".") and message.count(". ") == 0
    return message


def test_loads_by_path_and_by_name(looks):
    look = load_look(looks["rays"])
    assert look.mode == "rays" and look.name == "toon" and look.num_points == 4
    by_name = load_look("tiny", models_dir=looks["rays"].parent)
    assert by_name.path == looks["rays"]


def test_a_look_that_is_not_installed_says_how_to_make_one(tmp_path):
    message = refusal("watercolour")
    assert "distil one with 'python -m engine.training.nldf distill --look watercolour" in message
    assert "export runs/nldf_watercolour/checkpoint.pt --out engine/models/nldf_watercolour" in message


def test_refuses_a_model_without_sidecar(looks, tmp_path):
    path = copy_look(looks["rays"], tmp_path)
    path.with_suffix(".json").unlink()
    assert "has no sidecar 'nldf_copy.json'" in refusal(path)


def test_refuses_a_model_that_does_not_match_its_sidecar(looks, tmp_path):
    path = copy_look(looks["rays"], tmp_path)
    other = copy_look(looks["superres"], tmp_path / "other")
    shutil.copy(other, path)  # another export's graph beside this sidecar
    assert "sha256 differs" in refusal(path)


def test_refuses_a_model_of_another_kind(looks, tmp_path):
    path = copy_look(looks["rays"], tmp_path)
    edit_sidecar(path, kind="adf")
    assert "is a 'adf' model, not a look" in refusal(path)


def test_refuses_another_encoding(looks, tmp_path):
    path = copy_look(looks["rays"], tmp_path)
    sidecar = json.loads(path.with_suffix(".json").read_text())
    edit_sidecar(path, encoding={**sidecar["encoding"], "num_points": 5})
    assert "other ray inputs than its sidecar says (12 values per ray, not 3 x 5)" in refusal(path)
    edit_sidecar(path, encoding={**sidecar["encoding"], "input": "sinusoids of world points"})
    assert "ray encoding this engine does not make" in refusal(path)


def test_refuses_another_channel_set(looks, tmp_path):
    path = copy_look(looks["rays"], tmp_path)
    channels = json.loads(path.with_suffix(".json").read_text())["condition_channels"]
    edit_sidecar(path, condition_channels=channels[:-3] + ["exp000", "exp001", "exp002"])
    assert "other condition channels than this head's" in refusal(path)


def test_render_clip_matches_the_torch_student(looks):
    look = load_look(looks["rays"], device="cpu")
    frames = list(render_clip(clip(3), look, size=24))
    assert len(frames) == 3 and all(f.shape == (24, 24, 4) and f.dtype == np.uint8 for f in frames)
    camera = default_camera(look, 24)
    params = clip(3).head_params(look.head)
    transform = head_transform(look.head, params["pose"], params["translation"], params["expression"])[2]
    condition = condition_vectors(params, look.head)[2]
    got = render_frame(look, camera, transform, condition)
    origins, directions = (torch.from_numpy(a.reshape(-1, 3)) for a in head_rays(camera, transform))
    points, hit = segment_inputs(origins, directions, look.num_points)
    _, model, _ = load_checkpoint(looks["rays"].parent / "run_tiny" / "checkpoint.pt")
    with torch.no_grad():
        expected = render_rays(model, points, torch.from_numpy(condition[None]), hit).numpy().reshape(24, 24, 4)
    np.testing.assert_allclose(got, expected, atol=1e-3)
    miss = ~light_segments(*head_rays(camera, transform))[2]
    assert miss.any() and np.all(frames[2][miss] == 0) and np.all(frames[2][~miss, 3] > 0)


def test_superres_look_matches_the_torch_student_at_its_size_and_resamples_to_others(looks):
    look = load_look(looks["superres"], device="cpu")  # distilled at 16 x 16, stride 4
    frames = list(render_clip(clip(2), look, size=16))
    assert len(frames) == 2 and frames[0].shape == (16, 16, 4)
    params = clip(3).head_params(look.head)
    transform = head_transform(look.head, params["pose"], params["translation"], params["expression"])[2]
    condition = condition_vectors(params, look.head)[2]
    _, model, _ = load_checkpoint(looks["superres"].parent / "run_tinysr" / "checkpoint.pt")
    camera = default_camera(look, 16)
    native = render_frame(look, camera, transform, condition)
    origins, directions = (torch.from_numpy(a.reshape(-1, 3)) for a in head_rays(camera, transform, 4))
    points, hit = segment_inputs(origins, directions, look.num_points)
    with torch.no_grad():
        rgba = model(points[hit], torch.nonzero(hit)[:, 0], torch.from_numpy(condition[None]), 1,
                     4, 4)[0].permute(1, 2, 0).numpy()
    full_hit = light_segments(*head_rays(camera, transform))[2]
    np.testing.assert_allclose(native, rgba * full_hit[..., None], atol=1e-3)
    assert native_camera(look, camera) is camera
    for size in (32, 18):  # any other size: the native frame, resampled, under that size's silhouette
        big = default_camera(look, size)
        assert (native_camera(look, big).width, native_camera(look, big).height) == (16, 16)
        got = render_frame(look, big, transform, condition)
        mask = light_segments(*head_rays(big, transform))[2]
        expected = resample(rgba, size, size) * mask[..., None]
        np.testing.assert_allclose(got, expected, atol=1e-3)
    by_path = list(render_clip(clip(2), looks["superres"], size=16))  # a path is loaded on the way
    assert np.array_equal(by_path[1], frames[1])


def test_resampling_keeps_flat_colour_and_lends_none_from_transparent_pixels():
    rgba = np.zeros((4, 4, 4), np.float32)
    rgba[:, :2] = (0.2, 0.4, 0.6, 1.0)  # left half opaque, right half transparent (with junk colour)
    rgba[:, 2:, :3] = 1.0
    up = resample(rgba, 8, 8)
    assert up.shape == (8, 8, 4)
    np.testing.assert_allclose(up[:, :4, :3][up[:, :4, 3] > 0], np.tile([0.2, 0.4, 0.6], (32, 1)), atol=1e-6)
    np.testing.assert_allclose(up[:, :3, 3], 1.0)
    np.testing.assert_allclose(up[:, 5:, 3], 0.0)
    assert 0.0 < up[0, 4, 3] < 1.0
    np.testing.assert_allclose(resample(up, 4, 4)[..., 3], rgba[..., 3], atol=0.2)


def test_rendering_stops_when_cancelled(looks):
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(render_clip(clip(3), load_look(looks["rays"]), size=16, reporter=Reporter(cancel=cancel)))


@pytest.mark.parametrize("mode", ["rays", "superres"])
def test_frames_rendered_several_at_once_are_the_same_and_come_in_order(looks, mode):
    look = load_look(looks[mode], device="cpu", threads=1)
    frames = EXTENT_BATCH + 3  # across a batch of skinned head extents
    one_by_one = list(render_clip(clip(frames), look, size=16))
    done = []
    at_once = list(render_clip(clip(frames), look, size=16, workers=3,
                               reporter=Reporter(lambda p: done.append(p.done))))
    assert len(at_once) == frames and all(np.array_equal(a, b) for a, b in zip(one_by_one, at_once))
    assert done[1:] == list(range(1, frames + 1))  # the stage's 0, then every frame once, in order
    assert at_once[0].flags.c_contiguous and at_once[0].dtype == np.uint8


def test_a_clip_rendered_several_frames_at_once_stops_when_cancelled(looks):
    cancel = CancelToken()

    def cancel_after_two(progress):
        if progress.done >= 2:
            cancel.cancel()
    frames = render_clip(clip(40), load_look(looks["rays"]), size=16, workers=2,
                         reporter=Reporter(cancel_after_two, cancel))
    taken = []
    with pytest.raises(Cancelled):
        for frame in frames:
            taken.append(frame)
    assert 1 <= len(taken) <= 3


def test_a_clip_renders_a_frame_per_core_and_shares_out_the_rest_as_threads():
    assert clip_workers(1) == (1, 1) and clip_workers(2) == (2, 1) and clip_workers(3) == (3, 1)
    assert clip_workers(16) == (4, 4) and clip_workers(6) == (4, 1)


def test_render_command_writes_one_png_per_frame(looks, tmp_path, capsys):
    clip_path = clip(4).save(tmp_path / "clip.npz")
    out = tmp_path / "frames"
    code = main(["render", str(clip_path), "-o", str(out), "--look", str(looks["rays"]), "--size", "20"])
    assert code == 0
    written = sorted(out.glob("*.png"))
    assert [p.name for p in written] == [f"frame_{k:04d}.png" for k in range(1, 5)]
    assert read_png(written[0]).shape == (20, 20, 4)
    if shutil.which("ffmpeg"):
        video = tmp_path / "clip.mp4"
        code = main(["render", str(clip_path), "-o", str(out), "--look", str(looks["rays"]), "--size", "20",
                     "--video", str(video)])
        assert code == 0 and video.stat().st_size > 0


def test_render_command_without_a_look_says_how_to_make_one(tmp_path, capsys):
    clip_path = clip(2).save(tmp_path / "clip.npz")
    code = main(["render", str(clip_path), "-o", str(tmp_path / "frames"), "--look", "nosuchlook",
                 "--models-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "No model is installed for the look 'nosuchlook'" in err and "Traceback" not in err
    assert not (tmp_path / "frames").exists()
