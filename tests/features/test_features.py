"""Features: images through the media fetcher and the cache, texts, precomputed embeddings, and
another model's predictions read as probabilities."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from PIL import Image, ImageDraw

from ls_cleanlab.errors import ExtractorUnavailableError, InvalidOptionError, InvalidTasksError
from ls_cleanlab.features import (
    DescriptorEmbedder,
    FeatureCache,
    available_embedders,
    field_embeddings,
    find_embedder,
    image_features,
    load_embeddings,
    prediction_probs,
    standardize,
    task_features,
    text_features,
)
from ls_cleanlab.features.descriptors import SIDE, describe, descriptor_size, srgb_to_lab
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.studio import parse_label_config, read_tasks
from ls_cleanlab.testing.synthetic_images import encode, make_images


def data_uri(image: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(encode(image)).decode()


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, list[str], np.ndarray]:
    """Twelve generated images as local files, with their references and labels."""
    images, labels = make_images(12, seed=3)
    root = tmp_path / "media"
    root.mkdir()
    refs = []
    for i, image in enumerate(images):
        (root / f"img{i}.png").write_bytes(encode(image))
        refs.append(f"/data/local-files/?d=img{i}.png")
    return root, refs, labels


# -- descriptors ----------------------------------------------------------------------------------


def test_lab_of_white_black_and_grey() -> None:
    lab = srgb_to_lab(np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]))
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=1e-6)
    assert abs(lab[2, 1]) < 0.05 and abs(lab[2, 2]) < 0.05
    assert lab[2, 0] == pytest.approx(53.39, abs=0.05)  # sRGB mid-grey, CIE 1976


def test_descriptor_shape_and_finiteness() -> None:
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (3, SIDE, SIDE, 3)).astype(np.uint8)
    batch[1] = 0  # a black image has no gradients: no division by zero
    out = describe(batch)
    assert out.shape == (3, descriptor_size()) and out.dtype == np.float32
    assert np.isfinite(out).all()
    with pytest.raises(ValueError, match="shape"):
        describe(batch[:, :32])


def test_descriptor_of_a_batch_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(1)
    batch = rng.integers(0, 256, (4, SIDE, SIDE, 3)).astype(np.uint8)
    together = describe(batch)
    for i in range(4):
        np.testing.assert_array_equal(describe(batch[i : i + 1])[0], together[i])


def test_quadrant_pooling_does_not_depend_on_where_the_object_is() -> None:
    half = SIDE // 2
    drawing = Image.new("RGB", (half, half), (128, 128, 128))  # grey margin: no seam at edges
    ImageDraw.Draw(drawing).ellipse((4, 6, half - 5, half - 8), fill=(250, 200, 30))
    patch = np.asarray(drawing)
    grey = np.full((SIDE, SIDE, 3), 128, np.uint8)
    left, right = grey.copy(), grey.copy()
    left[: SIDE // 2, : SIDE // 2] = patch
    right[SIDE // 2 :, SIDE // 2 :] = patch
    a, b = describe(np.stack([left, right]))
    assert not np.array_equal(a, b)  # the layout parts differ...
    pooled = 2 * (9 + 36 + 64)
    start = descriptor_size() - 192 - pooled
    np.testing.assert_allclose(a[start : start + pooled], b[start : start + pooled], atol=1e-6)


# -- images ---------------------------------------------------------------------------------------


def test_local_files_and_data_uris_give_the_same_features(
    folder: tuple[Path, list[str], np.ndarray],
) -> None:
    root, refs, _ = folder
    fetcher = MediaFetcher(local_files_root=root)
    from_files = image_features(refs, fetcher, embedder="descriptors")
    uris = [data_uri(Image.open(root / f"img{i}.png")) for i in range(len(refs))]
    from_uris = image_features(uris, MediaFetcher(), embedder="descriptors")
    assert from_files.ok.all() and from_files.skipped == {}
    assert from_files.features.shape == (12, descriptor_size())
    np.testing.assert_array_equal(from_files.features, from_uris.features)
    # standardized over the tasks
    np.testing.assert_allclose(from_files.features.mean(axis=0), 0, atol=1e-5)


def test_a_bad_task_is_skipped_with_its_reason_and_the_rest_go_on(
    folder: tuple[Path, list[str], np.ndarray],
) -> None:
    root, refs, _ = folder
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    mixed = [
        refs[0],
        "/data/local-files/?d=broken.png",
        "http://example.com/cat.png",
        "/data/local-files/?d=../secret.png",
        "/data/local-files/?d=missing.png",
        None,
        refs[1],
    ]
    result = image_features(mixed, MediaFetcher(local_files_root=root))
    assert result.ok.tolist() == [True, False, False, False, False, False, True]
    assert set(result.skipped) == {1, 2, 3, 4, 5}
    assert "broken image" in result.skipped[1]
    assert "example.com" in result.skipped[2] and "not allowed" in result.skipped[2]
    assert "no image reference" in result.skipped[5]
    assert not result.features[~result.ok].any()


def test_a_decompression_bomb_is_skipped(tmp_path: Path) -> None:
    bomb = Image.new("1", (12_000, 12_000))  # 144 Mpx, a few kB as PNG
    (tmp_path / "bomb.png").write_bytes(encode(bomb))
    Image.new("RGB", (10, 10), "red").save(tmp_path / "ok.png")
    fetcher = MediaFetcher(local_files_root=tmp_path)
    result = image_features(
        ["/data/local-files/?d=bomb.png", "/data/local-files/?d=ok.png"], fetcher
    )
    assert result.ok.tolist() == [False, True]
    assert "pixels" in result.skipped[0]


def test_the_cache_skips_download_and_description_of_known_media(
    folder: tuple[Path, list[str], np.ndarray], tmp_path: Path
) -> None:
    root, refs, _ = folder
    fetcher = MediaFetcher(local_files_root=root)
    with FeatureCache(tmp_path / "cache" / "features.sqlite") as cache:
        first = image_features(refs, fetcher, cache=cache)
        assert (first.downloaded, first.computed, first.cached) == (12, 12, 0)
        for path in root.iterdir():  # the media are gone: a re-audit must not need them
            path.unlink()
        again = image_features(refs, fetcher, cache=cache)
        assert (again.downloaded, again.computed, again.cached) == (0, 0, 12)
        np.testing.assert_array_equal(first.features, again.features)
        assert cache.counts() == (12, 12)
        refreshed = image_features(refs, fetcher, cache=cache, refresh=True)
        assert not refreshed.ok.any()  # refresh really downloads again


def test_identical_media_under_new_references_reuse_the_vector(
    folder: tuple[Path, list[str], np.ndarray], tmp_path: Path
) -> None:
    root, refs, _ = folder
    copies = []
    for i in range(3):
        (root / f"copy{i}.png").write_bytes((root / f"img{i}.png").read_bytes())
        copies.append(f"/data/local-files/?d=copy{i}.png")
    fetcher = MediaFetcher(local_files_root=root)
    with FeatureCache(tmp_path / "features.sqlite") as cache:
        image_features(refs, fetcher, cache=cache)
        result = image_features(copies + refs[:3], fetcher, cache=cache)
        assert (result.downloaded, result.computed, result.cached) == (3, 0, 3)
        np.testing.assert_array_equal(result.features[:3], result.features[3:])


def test_a_different_embedder_does_not_read_another_embedders_vectors(
    folder: tuple[Path, list[str], np.ndarray], tmp_path: Path
) -> None:
    root, refs, _ = folder

    class MeanColour:
        name = "mean-colour-v1"

        def prepare(self, image: Image.Image) -> np.ndarray:
            return np.asarray(image, dtype=np.float32).mean(axis=(0, 1))

        def embed(self, batch: np.ndarray) -> np.ndarray:
            return batch

    fetcher = MediaFetcher(local_files_root=root)
    with FeatureCache(tmp_path / "features.sqlite") as cache:
        image_features(refs, fetcher, cache=cache)
        mine = image_features(refs, fetcher, cache=cache, embedder=MeanColour())
    assert mine.features.shape == (12, 3) and mine.computed == 12
    assert mine.source == "mean-colour-v1"


def test_an_embedder_returning_the_wrong_shape_is_named(
    folder: tuple[Path, list[str], np.ndarray],
) -> None:
    root, refs, _ = folder

    class Broken(DescriptorEmbedder):
        name = "broken"

        def embed(self, batch: np.ndarray) -> np.ndarray:
            return np.zeros((1, 3))

    with pytest.raises(InvalidOptionError, match="'broken' returned shape"):
        image_features(refs, MediaFetcher(local_files_root=root), embedder=Broken())


def test_progress_reaches_the_total(folder: tuple[Path, list[str], np.ndarray]) -> None:
    root, refs, _ = folder
    calls: list[tuple[int, int]] = []
    image_features(
        [*refs, None],
        MediaFetcher(local_files_root=root),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[-1] == (13, 13)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_embedder_choice() -> None:
    status = available_embedders()
    assert status["descriptors"].startswith("ready")
    assert isinstance(find_embedder("descriptors"), DescriptorEmbedder)
    with pytest.raises(InvalidOptionError, match="unknown image embedder 'resnet'"):
        find_embedder("resnet")
    if status["torchvision"].startswith("not installed"):
        with pytest.raises(InvalidOptionError, match="not installed"):
            find_embedder("torchvision")


def test_bad_options() -> None:
    with pytest.raises(InvalidOptionError, match="workers"):
        image_features([], MediaFetcher(), workers=0)
    empty = image_features([], MediaFetcher())
    assert empty.features.shape[0] == 0 and empty.n_skipped == 0


# -- texts ----------------------------------------------------------------------------------------

TOPICS = {
    "sports": "match goal team coach league season player score",
    "politics": "election vote minister parliament law party senate",
    "tech": "software chip startup cloud algorithm device network",
}


def texts(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    labels = (rng.random((n, 3)) < 0.4).astype(np.int8)
    out = []
    for row in labels:
        words = list(rng.choice("the a of and with in on today new big".split(), 6))
        for k in np.flatnonzero(row):
            words += list(rng.choice(TOPICS[names[k]].split(), 3))
        rng.shuffle(words)
        out.append(" ".join(words))
    return out, labels


def test_text_features_separate_topics() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import cross_val_predict

    corpus, labels = texts(300)
    result = text_features(corpus)
    assert sp.issparse(result.features) and result.ok.all() and result.source == "tfidf"
    for k in range(3):
        probs = cross_val_predict(
            LogisticRegression(), result.features, labels[:, k], cv=3, method="predict_proba"
        )[:, 1]
        assert roc_auc_score(labels[:, k], probs) > 0.95


def test_text_skips_empty_and_strips_html() -> None:
    result = text_features(["<b>goal</b> match", "", None, "<i>vote</i> law"], html=True)
    assert result.ok.tolist() == [True, False, False, True]
    assert set(result.skipped) == {1, 2}
    assert result.features.shape[0] == 4 and result.features[1].nnz == 0
    plain = text_features(["<b>goal</b> match", "vote law"])
    assert plain.features.shape[1] > result.features.shape[1]  # tags became n-grams


def test_encoded_texts_are_decoded_and_linked_ones_refused() -> None:
    config = (
        '<View><Text name="t" value="$body" encoding="{}"/><Choices name="c" toName="t">'
        '<Choice value="x"/><Choice value="y"/></Choices></View>'
    )
    table = read_tasks(
        [{"id": i + 1, "data": {"body": body}} for i, body in enumerate(
            [base64.b64encode("goal match café".encode()).decode(), "not base64!", None])],
        parse_label_config(config.format("base64unicode")),
    )  # fmt: skip
    schema = parse_label_config(config.format("base64unicode"))
    found = task_features(table, schema, text_embedder="none")
    assert found.ok.tolist() == [True, False, False]
    plain = text_features(["goal match café", "", ""])
    assert found.features[0].nnz == plain.features[0].nnz > 0
    linked = parse_label_config(config.replace('encoding="{}"', 'valueType="url"'))
    with pytest.raises(ExtractorUnavailableError, match="loads its text from a URL"):
        task_features(table, linked, text_embedder="none")


@pytest.mark.parametrize("hashing_above", [200_000, 10], ids=["vocabulary", "hashed"])
def test_a_fitted_encoder_on_tasks_without_text(hashing_above: int) -> None:
    corpus, _ = texts(30)
    fitted = text_features(corpus, hashing_above=hashing_above)
    empty = text_features(["", None], encoder=fitted.encoder)
    assert not empty.ok.any() and empty.features.shape == (2, fitted.features.shape[1])
    assert empty.features.nnz == 0


def test_text_hashing_for_large_corpora() -> None:
    corpus, _ = texts(50)
    hashed = text_features(corpus, hashing_above=10)
    assert hashed.source == "tfidf-hashed" and hashed.features.shape == (50, 2 * 2**20)
    norms = np.sqrt(np.asarray(hashed.features.multiply(hashed.features).sum(axis=1))).ravel()
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)


# -- precomputed ----------------------------------------------------------------------------------


def test_field_embeddings() -> None:
    data = [{"emb": [1.0, 2.0, 3.0]}, {"emb": [2.0, 0.0, 1.0]}, {"emb": [1, 2]}, {}, {"emb": "x"}]
    result = field_embeddings(data, "emb")
    assert result.ok.tolist() == [True, True, False, False, False]
    assert "has 2 numbers" in result.skipped[2] and "missing" in result.skipped[3]
    np.testing.assert_allclose(result.features[:2], [[-1, 1, 1], [1, -1, -1]], atol=1e-6)
    with pytest.raises(InvalidTasksError, match="no task has an embedding in data\\['vec'\\]"):
        field_embeddings(data, "vec")


def test_embeddings_file_npy_and_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(4, 5))
    np.save(tmp_path / "e.npy", vectors)
    by_order = load_embeddings(tmp_path / "e.npy", [10, 11, 12, 13])
    np.testing.assert_allclose(by_order.features, standardize(vectors, np.ones(4, bool)), atol=1e-6)

    np.savez(tmp_path / "e.npz", task_ids=np.array([13, 11, 10]), embeddings=vectors[[3, 1, 0]])
    by_id = load_embeddings(tmp_path / "e.npz", [10, 11, 12, 13])
    assert by_id.ok.tolist() == [True, True, False, True]
    assert by_id.skipped == {2: "task 12 is not in e.npz"}
    subset = standardize(vectors, np.array([True, True, False, True]))
    np.testing.assert_allclose(by_id.features, subset, atol=1e-6)

    np.savez(tmp_path / "off.npz", task_ids=np.array([1013, 1011]), embeddings=vectors[:2])
    with pytest.raises(InvalidOptionError, match=r"none of the 4 tasks \(ids 10\.\.13\) is "
                       r"among its task_ids \(ids 1011\.\.1013\)"):  # fmt: skip
        load_embeddings(tmp_path / "off.npz", [10, 11, 12, 13])
    with pytest.raises(InvalidOptionError, match="one row per task \\(3\\)"):
        load_embeddings(tmp_path / "e.npy", [1, 2, 3])
    np.savez(tmp_path / "bad.npz", vectors=vectors)
    with pytest.raises(InvalidOptionError, match="'task_ids' and 'embeddings'"):
        load_embeddings(tmp_path / "bad.npz", [1])
    with pytest.raises(InvalidOptionError, match="no embeddings file"):
        load_embeddings(tmp_path / "none.npy", [1])
    (tmp_path / "e.csv").write_text("1,2")
    with pytest.raises(InvalidOptionError, match=r"\.npy or \.npz"):
        load_embeddings(tmp_path / "e.csv", [1])


MULTI = (
    '<View><Image name="image" value="$image"/><Choices name="tags" toName="image" '
    'choice="multiple"><Choice value="cat"/><Choice value="dog"/><Choice value="bird"/>'
    "</Choices></View>"
)
SINGLE = MULTI.replace('choice="multiple"', 'choice="single"')


def prediction(version: str, *results: tuple[list[str], float | None], score: float = 0.8) -> dict:
    items = []
    for choices, item_score in results:
        item = {"from_name": "tags", "to_name": "image", "type": "choices"}
        item["value"] = {"choices": choices}
        if item_score is not None:
            item["score"] = item_score
        items.append(item)
    return {"model_version": version, "score": score, "result": items}


def test_prediction_probs_multi_label() -> None:
    schema = parse_label_config(MULTI)
    tasks = [
        {"predictions": [prediction("v1", (["cat"], 0.9), (["bird"], 0.6))]},
        {"predictions": [prediction("v1", (["dog", "cat"], None), score=0.7)]},
        {"predictions": [prediction("v2", (["dog"], 0.9))]},
        {"predictions": [prediction("v1", (["horse"], 0.9))]},
        {
            "predictions": [
                {**prediction("v1", (["cat"], 0.2)), "created_at": "2026-01-01T00:00:00Z"},
                {**prediction("v1", (["dog"], 0.4)), "created_at": "2026-02-01T00:00:00Z"},
            ]
        },
    ]
    result = prediction_probs(tasks, schema, "v1")
    assert result.ok.tolist() == [True, True, False, False, True]
    np.testing.assert_allclose(result.features[0], [0.9, 0, 0.6])
    np.testing.assert_allclose(result.features[1], [0.7, 0.7, 0])
    np.testing.assert_allclose(result.features[4], [0, 0.4, 0])  # the newest one
    assert "model_version 'v1'" in result.skipped[2]
    assert "['horse']" in result.skipped[3]
    with pytest.raises(InvalidOptionError, match="versions present: \\['v1', 'v2'\\]"):
        prediction_probs(tasks, schema, "v3")


def test_prediction_probs_single_label_rows_sum_to_one() -> None:
    schema = parse_label_config(SINGLE)
    tasks = [{"predictions": [prediction("m", (["dog"], 0.7))]}, {"predictions": []}]
    result = prediction_probs(tasks, schema, "m")
    np.testing.assert_allclose(result.features[0], [0.15, 0.7, 0.15])
    assert result.ok.tolist() == [True, False]
    bad = [{"predictions": [prediction("m", (["dog"], 1.5))]}]
    assert "bad score" in prediction_probs(bad, schema, "m").skipped[0]


def test_generated_images_are_learned_out_of_sample(tmp_path: Path) -> None:
    """The default pipeline (files -> descriptors -> out-of-sample logistic regression) learns
    drawn shapes and textures: macro AUROC >= 0.9 against the known truth."""
    from sklearn.metrics import roc_auc_score

    from ls_cleanlab.model import out_of_sample_probs

    images, labels = make_images(200, seed=11)
    refs = []
    for i, image in enumerate(images):
        image.save(tmp_path / f"{i}.jpg", quality=85)
        refs.append(f"/data/local-files/?d={i}.jpg")
    result = image_features(refs, MediaFetcher(local_files_root=tmp_path))
    probs = out_of_sample_probs(result.features, labels, seed=0)
    aurocs = [roc_auc_score(labels[:, k], probs[:, k]) for k in range(labels.shape[1])]
    assert np.mean(aurocs) >= 0.9, aurocs
    # and random features learn nothing: the test can fail
    noise = np.random.default_rng(0).normal(size=result.features.shape)
    chance = out_of_sample_probs(noise, labels, seed=0)
    assert np.mean([roc_auc_score(labels[:, k], chance[:, k]) for k in range(5)]) < 0.7


def test_new_tasks_are_encoded_like_the_training_set(
    folder: tuple[Path, list[str], np.ndarray],
) -> None:
    """One new image encoded with the training set's encoder gets exactly its row of the
    training matrix (standardizing the single image alone would give zeros)."""
    root, refs, _ = folder
    fetcher = MediaFetcher(local_files_root=root)
    training = image_features(refs, fetcher)
    alone = image_features(refs[3:4], fetcher, encoder=training.encoder)
    np.testing.assert_allclose(alone.features[0], training.features[3], atol=1e-6)
    assert not image_features(refs[3:4], fetcher).features.any()

    corpus, _ = texts(40)
    fitted = text_features(corpus)
    again = text_features(corpus[5:7], encoder=fitted.encoder)
    assert again.features.shape == (2, fitted.features.shape[1])
    np.testing.assert_allclose(again.features.toarray(), fitted.features[5:7].toarray(), atol=1e-6)

    data = [{"e": [float(i), float(i * i)]} for i in range(6)]
    whole = field_embeddings(data, "e")
    part = field_embeddings(data[4:], "e", encoder=whole.encoder)
    np.testing.assert_allclose(part.features, whole.features[4:], atol=1e-6)
    with pytest.raises(TypeError, match="TextEncoder"):
        text_features(corpus, encoder=whole.encoder)
