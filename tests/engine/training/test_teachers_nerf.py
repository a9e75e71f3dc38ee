"""The NeRF teacher: config, volume rendering against analytic answers, fitting, resuming, rendering, the CLI."""

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.errors import InputError  # noqa: E402
from engine.head import load_head  # noqa: E402
from engine.head.model import JOINT_NAMES  # noqa: E402
from engine.render import rays as ref  # noqa: E402
from engine.render.camera import default_framing, look_at  # noqa: E402
from engine.training import rays as torch_rays  # noqa: E402
from engine.training.teachers import teacher  # noqa: E402
from engine.training.teachers.__main__ import main as teachers_main  # noqa: E402
from engine.training.teachers.nerf import (HeadField, NeRFConfig, NeRFTeacher, code_size, condition_code,  # noqa: E402
                                           fit_nerf, frame_rays, make_teacher_set, nerf_teacher, premultiplied,
                                           rgba_psnr)
from engine.training.teachers.nerf import volume  # noqa: E402
from engine.training.teachers.nerf.occupancy import OccupancyGrid  # noqa: E402
from engine.training.teachers.nerf.quality import compare  # noqa: E402
from engine.training.teachers.nerf.teacher_set import PITCH_RANGE, YAW_RANGE, speech_motion  # noqa: E402
from tests.torch_fixtures import one_thread  # noqa: E402,F401  (autouse: torch on one thread)

TINY = dict(plane_resolutions=[32, 64], plane_channels=8, hidden=32, samples=32, importance_samples=0,
            rays_per_step=256, occupancy_resolution=16, occupancy_start=50, occupancy_every=25, render_chunk=512)


@pytest.fixture(scope="module")
def head():
    return load_head()


@pytest.fixture(scope="module")
def tiny_set(head):
    """Four toon frames at 32 x 32 from energy-driven speech motion."""
    return make_teacher_set("toon", 4, 32, seed=3, head=head, motion=speech_motion(head, "energy"))


def rays_down_z(offsets, z=1.0):
    """Rays from (x, 0, z) straight down -z, clipped to the head box: origins, directions, near, far."""
    origins = torch.tensor([[x, 0.0, z] for x in offsets], dtype=torch.float64)
    directions = torch.tensor([[0.0, 0.0, -1.0]] * len(offsets), dtype=torch.float64)
    near, far, hit = torch_rays.light_segments(origins, directions)
    assert bool(hit.all())
    return origins, directions, near, far


def sphere_field(radius, density, colour=(0.2, 0.5, 0.9)):
    rgb = torch.tensor(colour, dtype=torch.float64)

    def field(points, directions, codes):
        inside = points.pow(2).sum(-1) < radius ** 2
        return torch.where(inside, density, 0.0).to(points), rgb.expand(points.shape[0], 3)

    return field


# config

def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(InputError, match="sampels"):
        NeRFConfig.from_dict({"sampels": 32})
    with pytest.raises(InputError):
        NeRFConfig(samples=0)
    with pytest.raises(InputError):
        NeRFConfig(plane_resolutions=[])
    with pytest.raises(InputError):
        NeRFConfig(occupancy_opacity=1.5)
    config = NeRFConfig.from_dict({"samples": 8, "hidden": 16})
    assert NeRFConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.differences(NeRFConfig(samples=8, hidden=16, steps=7, threads=2)) == []
    assert config.differences(NeRFConfig(samples=8, hidden=32)) == ["hidden"]


# volume rendering

def test_constant_density_gives_the_analytic_opacity_and_colour():
    origins, directions, near, far = rays_down_z([0.0, 0.05, -0.1])
    codes = torch.zeros(3, 1)
    colour, opacity = volume.render_rays(sphere_field(10.0, 12.0), origins, directions, near, far, codes, samples=16)
    expected = 1.0 - torch.exp(-12.0 * (far - near))
    assert torch.allclose(opacity, expected, atol=1e-6)
    assert torch.allclose(colour / opacity[:, None], torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64), atol=1e-6)


@pytest.mark.parametrize("importance", [0, 64])
def test_a_sphere_of_constant_density_gives_alpha_of_its_chord(importance):
    radius, density = 0.08, 20.0
    offsets = [0.0, 0.03, 0.06, 0.079, 0.1]
    origins, directions, near, far = rays_down_z(offsets)
    _, opacity = volume.render_rays(sphere_field(radius, density), origins, directions, near, far,
                                    torch.zeros(len(offsets), 1), samples=2048, importance=importance)
    chord = [2.0 * math.sqrt(max(radius ** 2 - x ** 2, 0.0)) for x in offsets]
    expected = torch.tensor([1.0 - math.exp(-density * c) for c in chord], dtype=torch.float64)
    assert torch.allclose(opacity, expected, atol=4e-3), (opacity, expected)
    assert float(opacity[-1]) == 0.0


def test_importance_draws_fall_in_the_heavy_cell_and_inside_the_segment():
    near, far = torch.tensor([0.0]), torch.tensor([1.0])
    depths = volume.stratified_depths(near, far, 10, jitter=False)
    weights = torch.zeros(1, 10)
    weights[0, 6] = 1.0
    drawn = volume.importance_depths(depths, weights, near, far, 20, jitter=False)
    assert torch.all((drawn >= 0.6) & (drawn <= 0.7))
    jittered = volume.importance_depths(depths, torch.rand(1, 10), near, far, 50, jitter=True)
    assert torch.all((jittered >= 0.0) & (jittered <= 1.0))


def test_an_all_occupied_grid_renders_as_no_grid_and_a_measured_grid_finds_the_sphere():
    origins, directions, near, far = rays_down_z([0.0, 0.04, 0.1])
    field, codes = sphere_field(0.06, 30.0), torch.zeros(3, 1)
    plain = volume.render_rays(field, origins, directions, near, far, codes, samples=64)
    grid = OccupancyGrid(16)
    masked = volume.render_rays(field, origins, directions, near, far, codes, samples=64, occupancy=grid)
    assert all(torch.allclose(a, b) for a, b in zip(plain, masked))
    grid.update(field, torch.zeros(4, 1), torch.Generator().manual_seed(0))
    centre, far_corner = torch.zeros(1, 3), torch.tensor([[0.13, 0.13, 0.12]])
    assert bool(grid(centre)) and not bool(grid(far_corner))
    assert 0.0 < grid.fraction < 0.5
    regridded = volume.render_rays(field, origins, directions, near, far, codes, samples=64, occupancy=grid)
    assert all(torch.allclose(a, b) for a, b in zip(plain, regridded))


# the field and its inputs

def test_condition_code_is_expression_then_jaw_and_eyes(head):
    E = len(head.expression_names)
    pose = np.zeros((5, 3), np.float32)
    pose[JOINT_NAMES.index("jaw")] = [0.3, 0.0, 0.0]
    pose[JOINT_NAMES.index("eye_right")] = [0.0, 0.1, 0.0]
    pose[JOINT_NAMES.index("neck")] = [0.5, 0.5, 0.5]  # moves rays, not the code
    code = condition_code({"expression": np.full(E, 0.25, np.float32), "pose": pose})
    assert code.shape == (code_size(E),) == (E + 9,) and code.dtype == np.float32
    assert np.all(code[:E] == 0.25)
    assert code[E:].tolist() == pytest.approx([0.3, 0, 0, 0, 0, 0, 0, 0.1, 0])


def test_frame_rays_match_the_numpy_reference(head):
    pose = np.zeros((5, 3), np.float32)
    pose[JOINT_NAMES.index("neck")] = [0.2, -0.3, 0.1]
    params = {"expression": np.zeros(len(head.expression_names), np.float32), "pose": pose,
              "translation": np.array([0.01, 0.0, 0.02], np.float32)}
    camera = default_framing(head.v_template, 12, yaw=20.0)
    rays = frame_rays(head, params, camera)
    transform = ref.head_transform(head, pose, params["translation"][None], params["expression"])[0]
    origins, directions = ref.head_rays(camera, transform)
    near, far, hit = ref.light_segments(origins, directions)
    assert np.allclose(rays.origins.numpy(), origins.reshape(-1, 3), atol=1e-5)
    assert np.allclose(rays.near.numpy(), near.ravel(), atol=1e-5)
    assert np.array_equal(rays.hit.numpy(), hit.ravel())


def test_rendered_frames_are_rgba_float32_and_transparent_where_rays_miss_the_box(head):
    config = NeRFConfig(**TINY)
    render = NeRFTeacher(config, HeadField(config, code_size(len(head.expression_names))), head)
    camera = look_at([0.0, 0.0, 0.9], [0.0, -0.02, 0.0], fov_y=40.0, width=24, height=16)
    image = render({}, camera)
    assert image.shape == (16, 24, 4) and image.dtype == np.float32
    assert np.all((image >= 0.0) & (image <= 1.0))
    neutral = {"expression": np.zeros(len(head.expression_names), np.float32),
               "pose": np.zeros((5, 3), np.float32), "translation": np.zeros(3, np.float32)}
    rays = frame_rays(head, neutral, camera)
    hit = rays.hit.numpy().reshape(16, 24)
    assert hit.any() and not hit.all()
    assert np.all(image[~hit] == 0.0)
    deep = (rays.far - rays.near).numpy().reshape(16, 24) > 0.1
    assert deep.any() and np.all(image[deep, 3] > 0.05)  # the untrained field is a faint fog inside the box


# fitting

def test_two_step_fit_writes_config_log_checkpoint_and_resumes(tiny_set, head, tmp_path):
    args = (tiny_set.frames, tiny_set.params, tiny_set.cameras)
    path = fit_nerf(*args, NeRFConfig(**TINY, steps=2, log_every=1), tmp_path, head=head)
    assert path == tmp_path / "checkpoint.pt" and path.exists()
    assert NeRFConfig.load(tmp_path / "config.json").steps == 2
    first = torch.load(path, weights_only=False)
    assert first["step"] == 2
    fit_nerf(*args, NeRFConfig(**TINY, steps=4, log_every=1), tmp_path, head=head)
    second = torch.load(path, weights_only=False)
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert second["step"] == 4 and [line["step"] for line in lines] == [1, 2, 3, 4]
    assert all(np.isfinite(line["loss"]) and np.isfinite(line["psnr"]) for line in lines)
    assert not torch.equal(first["field"]["density_net.0.weight"], second["field"]["density_net.0.weight"])
    with pytest.raises(InputError, match="hidden"):
        fit_nerf(*args, NeRFConfig(**{**TINY, "hidden": 16}, steps=4), tmp_path, head=head)
    assert not list(tmp_path.glob("*.partial"))


def test_fit_rejects_frames_that_do_not_pair_up(tiny_set, head, tmp_path):
    with pytest.raises(InputError):
        fit_nerf(tiny_set.frames[:3], tiny_set.params, tiny_set.cameras, NeRFConfig(**TINY, steps=1), tmp_path,
                 head=head)
    with pytest.raises(InputError):
        fit_nerf(tiny_set.frames[:, :16], tiny_set.params, tiny_set.cameras, NeRFConfig(**TINY, steps=1), tmp_path,
                 head=head)


def test_a_short_fit_raises_psnr_far_above_the_untrained_field(tiny_set, head, tmp_path):
    config = NeRFConfig(**TINY, steps=250, log_every=50)
    untrained = NeRFTeacher(config, HeadField(config, code_size(len(head.expression_names))), head)
    before = compare(untrained, tiny_set.frames, tiny_set.params, tiny_set.cameras)["psnr"]
    checkpoint = fit_nerf(tiny_set.frames, tiny_set.params, tiny_set.cameras, config, tmp_path, head=head)
    fitted = teacher("nerf", head, checkpoint=checkpoint)
    after = compare(fitted, tiny_set.frames, tiny_set.params, tiny_set.cameras)
    assert after["psnr"] > max(before + 10.0, 24.0), (before, after["psnr"])
    assert after["images"].shape == tiny_set.frames.shape and after["images"].dtype == np.float32
    again = nerf_teacher(checkpoint, head)(tiny_set.params[0], tiny_set.cameras[0])
    assert np.array_equal(again, after["images"][0])  # rendering is deterministic
    rays = frame_rays(head, tiny_set.params[0], tiny_set.cameras[0])
    ray_colours = fitted.canonical_rays(tiny_set.params[0], rays.origins.numpy(), rays.directions.numpy())
    assert ray_colours.shape == (32 * 32, 4) and ray_colours.dtype == np.float32
    assert np.allclose(ray_colours, premultiplied(again).reshape(-1, 4), atol=2e-4)


def test_the_nerf_teacher_needs_a_checkpoint_of_a_matching_head(head, tmp_path):
    with pytest.raises(InputError, match="checkpoint"):
        teacher("nerf")
    with pytest.raises(InputError):
        nerf_teacher(tmp_path / "missing.pt", head)


# data and scores

def test_teacher_set_draws_perturbed_speech_within_limits_and_cameras_within_range(head):
    motion = speech_motion(head, "energy")
    a = make_teacher_set("clay", 6, 16, seed=5, head=head, motion=motion)
    b = make_teacher_set("clay", 6, 16, seed=5, head=head, motion=motion)
    assert a.frames.shape == (6, 16, 16, 4) and a.frames.dtype == np.float32 and len(a) == 6
    assert np.array_equal(a.frames, b.frames)
    low, high = head.joint_limits["jaw"]
    centre = 0.5 * (head.v_template.min(0) + head.v_template.max(0))
    for params, camera in zip(a.params, a.cameras):
        assert np.all((params["expression"] >= 0) & (params["expression"] <= 1))
        jaw = params["pose"][JOINT_NAMES.index("jaw")]
        assert np.all((jaw >= low - 1e-6) & (jaw <= high + 1e-6))
        direction = camera.position - centre
        direction = direction / np.linalg.norm(direction)
        assert abs(math.degrees(math.asin(direction[1]))) <= PITCH_RANGE + 3.0
        assert abs(math.degrees(math.atan2(direction[0], direction[2]))) <= YAW_RANGE + 3.0


def test_rgba_psnr_known_answers():
    image = np.zeros((4, 4, 4), np.float32)
    image[..., 3] = 1.0
    reference = image.copy()
    reference[..., 3] = 0.9
    assert rgba_psnr(image, reference) == pytest.approx(10 * math.log10(4 / 0.01), abs=1e-3)
    hidden = reference.copy()
    hidden[..., 3] = 0.0
    recoloured = hidden.copy()
    recoloured[..., :3] = 1.0  # colour under zero alpha does not count
    assert rgba_psnr(recoloured, hidden) == pytest.approx(120.0)


def test_cli_fits_scores_and_writes_a_sheet(tmp_path):
    out, sheet = tmp_path / "run", tmp_path / "sheet.png"
    settings = [item for key, value in TINY.items() for item in ("--set", f"{key}={json.dumps(value)}")]
    code = teachers_main(["nerf-fit", "--frames", "2", "--size", "16", "--steps", "2", "--out", str(out),
                          "--heldout", "2", "--driver", "energy", "--sheet", str(sheet), *settings])
    assert code == 0
    result = json.loads((out / "eval.json").read_text())
    assert result["frames"] == 2 and np.isfinite(result["psnr_db"]) and set(result["ms_per_frame"]) == {"128", "256"}
    assert sheet.exists() and (out / "log.jsonl").exists()
    assert teachers_main(["nerf-fit", "--out", str(out), "--set", "sampels=3"]) == 2


def test_nerf_fit_can_take_the_very_frames_an_nldf_student_was_distilled_on(head, tmp_path):
    from engine.training.nldf.distill import distill, distillation_set
    from tests.nldf_looks import tiny_config

    nldf_run = tmp_path / "nldf"
    distill(tiny_config(steps=1), nldf_run)
    frames, params, cameras, config = distillation_set(nldf_run, head)
    cached = np.concatenate([np.load(p)["rgba"] for p in sorted((nldf_run / "teacher").glob("toon_16_*.npz"))])
    assert frames.shape == (3, 16, 16, 4) and len(params) == len(cameras) == 3 and config.image_size == 16
    assert all(any(np.array_equal(frame.astype(np.float16), c) for c in cached) for frame in frames)
    again = teacher("toon", head)(params[1], cameras[1])
    assert np.abs(again - frames[1]).max() < 2e-3  # float16 cache of the same render
    out = tmp_path / "nerf"
    settings = [item for key, value in TINY.items() for item in ("--set", f"{key}={json.dumps(value)}")]
    assert teachers_main(["nerf-fit", "--frames-from", str(nldf_run), "--steps", "2", "--out", str(out),
                          "--heldout", "1", *settings]) == 0
    assert json.loads((out / "eval.json").read_text())["size"] == 16
    with pytest.raises(InputError, match="is not an NLDF run folder"):
        distillation_set(tmp_path / "nowhere", head)
