"""EfficientNet-Lite0 as an ONNX graph, built from a state dict with batch norm folded in.

EfficientNet-Lite0 (Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks", ICML 2019; the Lite variants from the TensorFlow TPU repository, 2020) is EfficientNet-B0
without squeeze-and-excitation and with ReLU6 in place of Swish. Sixteen inverted-residual blocks
(MobileNetV2: 1x1 expansion, depthwise k x k, 1x1 projection, identity skip when the shape is
kept) in seven stages, between a 3x3 stem and a 1x1 head of 1280 channels.

Every convolution is followed by batch normalization, which at inference is an affine map per
channel, folded into the convolution:

    W' = W * gamma / sqrt(var + eps),    b' = beta - mean * gamma / sqrt(var + eps)

with ``eps = 1e-3`` (TensorFlow's). Convolutions pad like TensorFlow's ``SAME`` (``SAME_UPPER``):
the weights were trained that way.

The graph reads ``images``, ``(N, H, W, 3)`` uint8 RGB, scales them as ``(x - 127) / 128`` and
has up to three outputs (nodes that no requested output needs are left out: onnxruntime would
run them all):

* ``stages``, ``(N, 432)``: global average of the stage-5 (112 channels, stride 16) and stage-7
  (320 channels, stride 32) feature maps;
* ``head``, ``(N, 1280)``: global average of the head;
* ``logits``, ``(N, 1000)``: the ImageNet classifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidOptionError, WeightsError

__all__ = ["GRAPH_VERSION", "OUTPUTS", "build_efficientnet_lite0", "fold_batch_norm"]

#: Bump whenever the graph changes (it is part of the embedder's cache key).
GRAPH_VERSION = "lite0-onnx-v1"
#: The graph's outputs and their widths.
OUTPUTS = {"stages": 432, "head": 1280, "logits": 1000}

_EPS = 1e-3
_OPSET = 13
_IR_VERSION = 7
#: (repeats, kernel, first stride, expansion, output channels) of the seven stages.
_STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
#: Stages (0-based) whose pooled outputs make ``stages``.
_POOLED_STAGES = (4, 6)


def fold_batch_norm(
    weight: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float = _EPS,
) -> tuple[np.ndarray, np.ndarray]:
    """A convolution followed by batch normalization, as one convolution.

    Parameters
    ----------
    weight : np.ndarray, shape (C_out, C_in / groups, kh, kw)
    gamma, beta, mean, var : np.ndarray, shape (C_out,)
        The batch normalization's scale, shift, running mean and running variance.

    Returns
    -------
    (np.ndarray, np.ndarray)
        The folded weight (same shape, float32) and bias ``(C_out,)``.
    """
    scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    folded = weight.astype(np.float64) * scale[:, None, None, None]
    bias = beta.astype(np.float64) - mean.astype(np.float64) * scale
    return folded.astype(np.float32), bias.astype(np.float32)


class _Graph:
    """Nodes and initializers accumulated in order, then made into an ONNX model."""

    def __init__(self, state: Mapping[str, np.ndarray]) -> None:
        from onnx import helper, numpy_helper

        self._helper = helper
        self._numpy_helper = numpy_helper
        self._state = state
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def weight(self, key: str) -> np.ndarray:
        if key not in self._state:
            raise WeightsError(f"the state dict has no {key!r}: not EfficientNet-Lite0 weights.")
        return np.asarray(self._state[key], dtype=np.float32)

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self._numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], **attributes: Any) -> str:
        self._count += 1
        output = f"{op.lower()}_{self._count}"
        self.nodes.append(self._helper.make_node(op, inputs, [output], **attributes))
        return output

    def conv_bn(
        self, x: str, conv: str, bn: str, *, stride: int = 1, groups: int = 1, relu6: bool = True
    ) -> str:
        """``conv`` (a state-dict prefix) with the batch norm ``bn`` folded in, then ReLU6."""
        weight = self.weight(f"{conv}.weight")
        folded, bias = fold_batch_norm(
            weight,
            self.weight(f"{bn}.weight"),
            self.weight(f"{bn}.bias"),
            self.weight(f"{bn}.running_mean"),
            self.weight(f"{bn}.running_var"),
        )
        out = self.node(
            "Conv",
            [x, self.constant(f"{conv}.w", folded), self.constant(f"{conv}.b", bias)],
            kernel_shape=list(weight.shape[2:]),
            strides=[stride, stride],
            group=groups,
            auto_pad="SAME_UPPER",
        )
        if not relu6:
            return out
        return self.node("Clip", [out, "relu6.min", "relu6.max"])

    def pooled(self, x: str) -> str:
        return self.node("Flatten", [self.node("GlobalAveragePool", [x])], axis=1)


def _block(graph: _Graph, x: str, index: int, stride: int, expand: bool) -> str:
    prefix = f"_blocks.{index}"
    depthwise = graph.weight(f"{prefix}._depthwise_conv.weight")
    h = x
    if expand:
        h = graph.conv_bn(h, f"{prefix}._expand_conv", f"{prefix}._bn0")
    h = graph.conv_bn(
        h, f"{prefix}._depthwise_conv", f"{prefix}._bn1", stride=stride, groups=depthwise.shape[0]
    )
    return graph.conv_bn(h, f"{prefix}._project_conv", f"{prefix}._bn2", relu6=False)


def _check_block(graph: _Graph, index: int, wide: int, kernel: int, out: int) -> None:
    depthwise = graph.weight(f"_blocks.{index}._depthwise_conv.weight")
    project = graph.weight(f"_blocks.{index}._project_conv.weight")
    if depthwise.shape != (wide, 1, kernel, kernel) or project.shape[:2] != (out, wide):
        raise WeightsError(
            f"block {index} has depthwise {depthwise.shape} and projection {project.shape}; "
            f"EfficientNet-Lite0 has {kernel}x{kernel} kernels on {wide} channels into {out}: "
            "not EfficientNet-Lite0 weights."
        )


def _body(graph: _Graph, x: str) -> tuple[str, list[str]]:
    """The stem and the blocks: the last feature map and the pooled stage outputs."""
    h = graph.conv_bn(x, "_conv_stem", "_bn0", stride=2)
    channels = graph.weight("_conv_stem.weight").shape[0]
    index = 0
    pooled = []
    for stage, (repeats, kernel, first_stride, expansion, out) in enumerate(_STAGES):
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            _check_block(graph, index, channels * expansion, kernel, out)
            block = _block(graph, h, index, stride, expand=expansion != 1)
            h = graph.node("Add", [h, block]) if stride == 1 and channels == out else block
            channels = out
            index += 1
        if stage in _POOLED_STAGES:
            pooled.append(graph.pooled(h))
    return h, pooled


def _prune(nodes: list[Any], initializers: list[Any], outputs: Sequence[str]) -> tuple[list, list]:
    """The nodes (in order) and initializers that the given outputs depend on."""
    needed = set(outputs)
    kept = []
    for node in reversed(nodes):
        if needed.intersection(node.output):
            kept.append(node)
            needed.update(node.input)
    return kept[::-1], [init for init in initializers if init.name in needed]


def build_efficientnet_lite0(
    state: Mapping[str, np.ndarray], outputs: Sequence[str] = tuple(OUTPUTS)
) -> bytes:
    """The serialized ONNX model of EfficientNet-Lite0 with the given weights.

    Parameters
    ----------
    state : mapping of str to np.ndarray
        The state dict (names as in ``efficientnet_pytorch``: ``_conv_stem``, ``_blocks.i``,
        ``_conv_head``, ``_fc``).
    outputs : sequence of str
        Which of ``"stages"``, ``"head"`` and ``"logits"`` the graph computes (default all).

    Returns
    -------
    bytes
        The model, deterministic for given weights and ``onnx`` version (opset 13).

    Raises
    ------
    InvalidOptionError
        An unknown output name.
    WeightsError
        A tensor is missing or has the wrong shape.
    """
    from onnx import TensorProto, checker, helper

    unknown = [name for name in outputs if name not in OUTPUTS]
    if unknown or not outputs:
        raise InvalidOptionError(f"outputs must be some of {list(OUTPUTS)}, got {list(outputs)}.")
    graph = _Graph(state)
    graph.constant("relu6.min", np.array(0.0, dtype=np.float32))
    graph.constant("relu6.max", np.array(6.0, dtype=np.float32))
    pixels = graph.node("Cast", ["images"], to=TensorProto.FLOAT)
    pixels = graph.node("Transpose", [pixels], perm=[0, 3, 1, 2])
    shifted = graph.node("Sub", [pixels, graph.constant("input.mean", np.array(127.0, np.float32))])
    x = graph.node("Mul", [shifted, graph.constant("input.scale", np.array(1 / 128, np.float32))])

    h, pooled = _body(graph, x)
    head = graph.pooled(graph.conv_bn(h, "_conv_head", "_bn1"))
    fc_weight = graph.constant("fc.w", graph.weight("_fc.weight"))
    fc_bias = graph.constant("fc.b", graph.weight("_fc.bias"))
    logits = graph.node("Gemm", [head, fc_weight, fc_bias], transB=1)
    stages = graph.node("Concat", pooled, axis=1)
    for name, source in (("stages", stages), ("head", head), ("logits", logits)):
        graph.nodes.append(helper.make_node("Identity", [source], [name]))

    nodes, initializers = _prune(graph.nodes, graph.initializers, outputs)
    inputs = [helper.make_tensor_value_info("images", TensorProto.UINT8, ["N", "H", "W", 3])]
    results = [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", OUTPUTS[name]])
        for name in OUTPUTS
        if name in outputs
    ]
    model = helper.make_model(
        helper.make_graph(nodes, "efficientnet_lite0", inputs, results, initializers),
        opset_imports=[helper.make_opsetid("", _OPSET)],
        producer_name="ls-cleanlab",
        producer_version=GRAPH_VERSION,
    )
    model.ir_version = _IR_VERSION
    checker.check_model(model)
    return bytes(model.SerializeToString())
