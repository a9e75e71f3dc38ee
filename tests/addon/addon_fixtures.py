"""Small Blender-free fixtures shared by the add-on tests."""

from __future__ import annotations

import numpy as np


def tiny_head():
    """A 5-joint FLAME-structured head of 8 vertices: 2 expressions, a jaw corrective, known weights."""
    from engine.head.model import HeadModel

    v = np.array([[0, 0.10, 0.05], [0.02, 0.10, 0.05], [0, 0.12, 0.05],        # head: 0-2
                  [0, 0.0, 0.06], [0.02, 0.0, 0.06], [0, -0.02, 0.05],         # jaw: 3-5
                  [0.03, 0.05, 0.06], [0.035, 0.05, 0.06]], dtype=np.float32)  # left eye: 6-7
    faces = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 2]], dtype=np.int32)
    weights = np.zeros((8, 5), np.float32)
    weights[0:3, 1] = 1.0
    weights[3:6, 2] = 1.0
    weights[6:8, 3] = 1.0
    weights[2] = [0.0, 0.5, 0.5, 0.0, 0.0]
    exprdirs = np.zeros((8, 3, 2), np.float32)
    # Expressions leave the regressor's vertices (0, 2, 3, 4, 6, 7) alone: Blender bones are fixed
    # at rest, so Blender matches FLAME only when expressions do not move the joints.
    exprdirs[5, 1, 0] = 0.01        # "mouthClose": the chin vertex up 1 cm
    exprdirs[1, 2, 1] = -0.005      # "browDownLeft"
    posedirs = np.zeros((8, 3, 36), np.float32)
    posedirs[3:6, 2, 9 + 7] = 0.01  # jaw corrective on (R - I)[2, 1]
    regressor = np.zeros((5, 8), np.float32)
    regressor[0, [0, 2]] = 0.5
    regressor[1, [0, 2]] = 0.5
    regressor[2, [3, 4]] = 0.5
    regressor[3, [6, 7]] = 0.5
    regressor[4, [6, 7]] = 0.5
    return HeadModel(name="tiny", v_template=v, faces=faces, shapedirs=np.zeros((8, 3, 1), np.float32),
                     shape_names=["width"], exprdirs=exprdirs, expression_names=["mouthClose", "browDownLeft"],
                     posedirs=posedirs, j_regressor=regressor, weights=weights)


def write_voice(folder, seconds=1.0, rate=16000, name="voice.wav"):
    """A synthetic 'voice' (a 150 Hz tone, pulsing 3 times a second) as a WAV file."""
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    path = folder / name
    soundfile.write(path, 0.3 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0), rate)
    return path


def write_tiny_adf(folder):
    """A tiny but valid ADF network and style encoder (adf.onnx, adf_style.onnx, sidecars) in `folder`.

    The network: every other mel frame [T/2, M] times a constant matrix, so the
    mouth follows loudness. The encoder: the mean of the reference [1, T, F]
    times ones [S], so an all-zero reference gives code 0 (each style
    parameter at the middle of its range).
    """
    import hashlib
    import json

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from engine.drivers.adf.channels import OUTPUT_CHANNELS, STYLE_INPUTS, STYLE_NAMES
    from engine.audio.features import FeatureConfig

    features = FeatureConfig().to_dict()
    M, C, S = features["n_mels"], len(OUTPUT_CHANNELS), len(STYLE_NAMES)
    weight = numpy_helper.from_array(np.full((M, C), 0.02, np.float32), "weight")
    mixing = numpy_helper.from_array(np.full((S, C), 0.01, np.float32), "mixing")
    slice_args = [numpy_helper.from_array(np.array([v], np.int64), n)
                  for n, v in (("start", 0), ("end", 2 ** 31), ("axis", 1), ("step", 2))]
    network = helper.make_graph(
        [helper.make_node("Slice", ["mel", "start", "end", "axis", "step"], ["halved"]),
         helper.make_node("MatMul", ["halved", "weight"], ["mouth"]),
         helper.make_node("MatMul", ["style", "mixing"], ["bias"]),
         helper.make_node("Add", ["mouth", "bias"], ["channels"])],
        "tiny_adf",
        [helper.make_tensor_value_info("mel", TensorProto.FLOAT, [1, "T", M]),
         helper.make_tensor_value_info("style", TensorProto.FLOAT, [1, S])],
        [helper.make_tensor_value_info("channels", TensorProto.FLOAT, [1, "T2", C])],
        [weight, mixing, *slice_args])
    ones = numpy_helper.from_array(np.ones((1, S), np.float32), "ones")
    encoder = helper.make_graph(
        [helper.make_node("ReduceMean", ["reference"], ["mean"], axes=[1, 2], keepdims=0),
         helper.make_node("Unsqueeze", ["mean", "axis1"], ["mean2"]),
         helper.make_node("Mul", ["mean2", "ones"], ["style"])],
        "tiny_adf_style",
        [helper.make_tensor_value_info("reference", TensorProto.FLOAT, [1, "T", len(STYLE_INPUTS)])],
        [helper.make_tensor_value_info("style", TensorProto.FLOAT, [1, S])],
        [ones, numpy_helper.from_array(np.array([1], np.int64), "axis1")])
    for graph, name, kind in ((network, "adf", "adf"), (encoder, "adf_style", "adf_style")):
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        path = folder / f"{name}.onnx"
        onnx.save(model, path)
        sidecar = {"kind": kind, "format_version": 1, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                   "channels": list(OUTPUT_CHANNELS), "style_names": list(STYLE_NAMES), "features": features}
        path.with_suffix(".json").write_text(json.dumps(sidecar))
    return folder / "adf.onnx"
