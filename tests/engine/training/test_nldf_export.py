"""NLDF export: the ONNX graphs match the torch students (1e-3) and the sidecar records the contract."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnxruntime = pytest.importorskip("onnxruntime")

from engine.nldf.sidecar import ENCODING_INPUT, FORMAT_VERSION  # noqa: E402
from engine.render.rays import HEAD_BOX  # noqa: E402
from engine.training.nldf.distill import load_checkpoint  # noqa: E402
from engine.training.nldf.export import export  # noqa: E402
from tests.nldf_looks import tiny_checkpoint  # noqa: E402
from tests.torch_fixtures import one_thread  # noqa: E402,F401  (autouse: torch on one thread)

TOL = 1e-3
WIDER = {"width": 32, "blocks": 3, "num_points": 8, "num_frequencies": 6}


def session(path):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def test_rays_graph_matches_torch_for_any_ray_count(tmp_path):
    checkpoint = tiny_checkpoint(tmp_path / "run", seed=1, **WIDER)
    onnx_path, sidecar_path = export(checkpoint, tmp_path / "nldf_toon", recipe="test recipe")
    _, model, _ = load_checkpoint(checkpoint)
    graph = session(onnx_path)
    rng = np.random.default_rng(0)
    condition = rng.uniform(0, 1, (1, 52)).astype(np.float32)
    for count in (1, 7, 300):
        points = rng.uniform(-1, 1, (count, 24)).astype(np.float32)
        got = graph.run(["rgba"], {"points": points, "condition": condition})[0]
        with torch.no_grad():
            expected = model(torch.from_numpy(points), torch.from_numpy(condition)).numpy()
        assert got.shape == (count, 4)
        np.testing.assert_allclose(got, expected, atol=TOL)
    assert [i.name for i in graph.get_inputs()] == ["points", "condition"]
    sidecar = json.loads(sidecar_path.read_text())
    assert sidecar["format_version"] == FORMAT_VERSION and sidecar["kind"] == "nldf" and sidecar["mode"] == "rays"
    assert sidecar["image_sizes"] == "any"
    assert sidecar["box"] == {"low": list(HEAD_BOX.low), "high": list(HEAD_BOX.high)}
    assert sidecar["encoding"] == {"input": ENCODING_INPUT, "num_points": 8, "num_frequencies": 6,
                                   "include_input": True}
    assert len(sidecar["condition_channels"]) == 52 and sidecar["condition_channels"][-1] == "neck_rz"
    assert sidecar["training"]["recipe"] == "test recipe" and sidecar["training"]["config"]["width"] == 32
    assert len(sidecar["sha256"]) == 64 and sidecar["onnx"] == "nldf_toon.onnx"


def test_superres_graph_matches_torch_on_any_grid(tmp_path):
    checkpoint = tiny_checkpoint(tmp_path / "run", seed=2, mode="superres", image_size=32, sr_stride=4,
                                 sr_channels=16, sr_min_channels=4, **WIDER)
    onnx_path, sidecar_path = export(checkpoint, tmp_path / "nldf_sr")
    _, model, _ = load_checkpoint(checkpoint)
    graph = session(onnx_path)
    rng = np.random.default_rng(1)
    condition = rng.uniform(0, 1, (1, 52)).astype(np.float32)
    for count, (h, w) in ((1, (8, 8)), (40, (8, 8)), (64, (8, 8)), (90, (16, 16)), (30, (6, 10))):
        index = np.sort(rng.choice(h * w, count, replace=False)).astype(np.int64)
        points = rng.uniform(-1, 1, (count, 24)).astype(np.float32)
        feeds = {"points": points, "index": index, "condition": condition, "grid": np.zeros((h, w), np.uint8)}
        got = graph.run(["rgba"], feeds)[0]
        with torch.no_grad():
            expected = model(torch.from_numpy(points), torch.from_numpy(index), torch.from_numpy(condition),
                             1, h, w).numpy()
        assert got.shape == (1, 4, 4 * h, 4 * w)
        np.testing.assert_allclose(got, expected, atol=TOL)
    sidecar = json.loads(sidecar_path.read_text())
    assert sidecar["mode"] == "superres" and sidecar["image_sizes"] == "any" and sidecar["ray_stride"] == 4
    assert sidecar["trained_size"] == 32 and sidecar["inputs"]["grid"] == ["grid_height", "grid_width"]


def test_the_super_resolution_head_halves_its_channels_at_each_stage_down_to_the_floor():
    from engine.training.nldf.model import SuperResolutionHead

    convs = [m for m in SuperResolutionHead(8, 64, 8, 16).layers if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 4 * 32, 32, 4 * 16, 16, 4 * 16, 16, 4]
    plain = [m for m in SuperResolutionHead(8, 32, 4).layers if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in plain] == [32, 128, 32, 128, 32, 4]


@pytest.mark.parametrize("mode", ["rays", "superres"])
def test_a_student_with_tri_planes_exports_them_into_the_graph(tmp_path, mode):
    checkpoint = tiny_checkpoint(tmp_path / "run", seed=4, mode=mode, image_size=32, sr_stride=4,
                                 plane_resolutions=[16, 8], plane_channels=4, **WIDER)
    saved = torch.load(checkpoint, weights_only=False)
    for name, value in saved["model"].items():
        if ".planes." in name:
            value.normal_()  # trained planes are far from their small initial values
    torch.save(saved, checkpoint)
    onnx_path, _ = export(checkpoint, tmp_path / "nldf_planes")
    _, model, _ = load_checkpoint(checkpoint)
    rng = np.random.default_rng(5)
    points = rng.uniform(-1, 1, (30, 24)).astype(np.float32)
    condition = rng.uniform(0, 1, (1, 52)).astype(np.float32)
    tensors = torch.from_numpy(points), torch.from_numpy(condition)
    if mode == "rays":
        got = session(onnx_path).run(["rgba"], {"points": points, "condition": condition})[0]
        with torch.no_grad():
            expected = model(*tensors).numpy()
    else:
        index = np.sort(rng.choice(64, 30, replace=False)).astype(np.int64)
        feeds = {"points": points, "index": index, "condition": condition, "grid": np.zeros((8, 8), np.uint8)}
        got = session(onnx_path).run(["rgba"], feeds)[0]
        with torch.no_grad():
            expected = model(tensors[0], torch.from_numpy(index), tensors[1], 1, 8, 8).numpy()
    np.testing.assert_allclose(got, expected, atol=TOL)
    assert model.body.ray_in.in_features == 8 * (3 * 13) + 8 * 4 * 2  # sinusoids + 4 channels x 2 levels a point
