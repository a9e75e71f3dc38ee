"""The faster look graph (`engine.training.nldf.graph_rewrite`): the same pixels as the graph it rewrites,
no DepthToSpace left, the same bytes from the same input, and a rewrite that changes outputs is refused."""

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from engine.errors import ModelError  # noqa: E402
from engine.training.nldf import graph_rewrite  # noqa: E402
from engine.training.nldf.export import rewrite_look  # noqa: E402
from engine.training.nldf.graph_rewrite import faster_graph, run_graph  # noqa: E402


def pixel_shuffle_head(seed: int = 0):
    """A small super-resolution head as exported: Conv -> DepthToSpace(CRD, 2) -> Relu -> Conv -> Sigmoid,
    on an input [1, 3, H, W] of any H, W; output `rgba` [1, 4, 2H, 2W]."""
    random = np.random.default_rng(seed)
    weights = {"w0": random.normal(0, 0.5, (4 * 5, 3, 3, 3)), "b0": random.normal(0, 0.5, 4 * 5),
               "w1": random.normal(0, 0.5, (4, 5, 3, 3)), "b1": random.normal(0, 0.5, 4)}
    nodes = [helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], pads=[1, 1, 1, 1], name="conv0"),
             helper.make_node("DepthToSpace", ["c0"], ["d"], blocksize=2, mode="CRD", name="shuffle"),
             helper.make_node("Relu", ["d"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
             helper.make_node("Sigmoid", ["c1"], ["rgba"], name="sigmoid")]
    graph = helper.make_graph(nodes, "head", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])],
                              [helper.make_tensor_value_info("rgba", TensorProto.FLOAT, [1, 4, "H", "W"])],
                              [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


@pytest.mark.parametrize("h, w", [(1, 1), (4, 4), (3, 7), (16, 9)])
def test_the_rewritten_graph_gives_the_same_pixels_on_any_frame_shape(h, w):
    model = pixel_shuffle_head()
    faster = faster_graph(model)
    x = {"x": np.random.default_rng(h * w).normal(0, 1, (1, 3, h, w)).astype(np.float32)}
    expected = run_graph(model, x)
    got = run_graph(faster, x)
    assert got.shape == expected.shape == (1, 4, 2 * h, 2 * w)
    np.testing.assert_array_equal(got, expected)  # the rewrites move data only: bit for bit
    kinds = [n.op_type for n in faster.graph.node]
    assert "DepthToSpace" not in kinds and kinds.index("Relu") < kinds.index("Transpose")


def test_the_rewrite_is_deterministic_and_leaves_a_rewritten_graph_as_it_is():
    model = pixel_shuffle_head()
    once = faster_graph(model).SerializeToString()
    assert faster_graph(model).SerializeToString() == once
    assert faster_graph(onnx.ModelProto.FromString(once)).SerializeToString() == once


def test_a_depth_to_space_in_dcr_mode_is_left_alone():
    model = pixel_shuffle_head()
    model.graph.node[1].attribute[1].s = b"DCR"
    assert "DepthToSpace" in [n.op_type for n in faster_graph(model).graph.node]


def test_the_shipped_looks_carry_the_rewritten_graph():
    from engine.nldf import load_look

    for name in ("toon", "clay"):
        look = load_look(name, device="cpu")
        assert look.sidecar["graph_rewrites"] == graph_rewrite.REWRITES
        assert "DepthToSpace" not in [n.op_type for n in onnx.load(str(look.path)).graph.node]


def test_a_rewrite_that_changes_the_pixels_is_refused_and_the_look_left_as_it_was(tmp_path, monkeypatch):
    from engine.nldf import load_look

    source = load_look("toon", device="cpu").path
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes())
    path.with_suffix(".json").write_text(source.with_suffix(".json").read_text())

    real = graph_rewrite.faster_graph

    def off_by_a_little(model):
        model = real(model)
        last = next(i for i in model.graph.initializer if i.name.endswith("layers.17.bias"))
        last.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(last) + np.float32(0.01), last.name))
        return model
    monkeypatch.setattr(graph_rewrite, "faster_graph", off_by_a_little)
    before = path.read_bytes(), path.with_suffix(".json").read_text()
    with pytest.raises(ModelError, match="differs"):
        rewrite_look(path)
    assert (path.read_bytes(), path.with_suffix(".json").read_text()) == before
    assert json.loads(before[1])["sha256"]
