"""Sentence embeddings of task texts, cached by content hash, beside their TF-IDF.

TF-IDF sees the words a class is named by; a sentence embedder (all-MiniLM-L6-v2, :mod:`.pretrained.
minilm`) sees paraphrases and context. Side by side they beat either alone: on the CrowdTruth
relation items (5-fold logistic regression on the workers' majority vote, macro AUROC) TF-IDF
0.914, MiniLM 0.910, both 0.927 (``benchmarks/bench_model.py``). Both halves have unit-length
rows; each is weighted ``1 / sqrt(2)`` so a row still has norm 1, and the default classifier's
penalty (:mod:`ls_cleanlab.model.classifiers`) stays the one tuned for TF-IDF.

Vectors are cached in the :class:`~ls_cleanlab.features.cache.FeatureCache` under the SHA-256
of the text's UTF-8 bytes and the embedder's name, so a re-audit embeds only new or edited texts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ls_cleanlab.features.cache import FeatureCache
from ls_cleanlab.features.embedders import SentenceEmbedder
from ls_cleanlab.features.feature_set import FeatureSet
from ls_cleanlab.features.texts import TextEncoder, clean_texts, text_features

__all__ = ["sentence_vectors", "text_and_sentence_features"]

Progress = Callable[[int, int], None]

_BATCH = 256


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sentence_vectors(
    texts: Sequence[str],
    embedder: SentenceEmbedder,
    *,
    cache: FeatureCache | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int, int]:
    """Embeddings of ``texts``, from the cache where known.

    Parameters
    ----------
    texts : sequence of str, length n
    embedder : SentenceEmbedder
    cache : FeatureCache, optional
    progress : callable(done, n), optional
        Called after each batch of 256 texts embedded.

    Returns
    -------
    vectors : np.ndarray of float32, shape (n, D)
    computed, cached : int
        Distinct texts embedded now, and read from the cache.
    """
    digests = [_digest(text) for text in texts]
    first: dict[str, int] = {}
    for row, digest in enumerate(digests):
        first.setdefault(digest, row)
    known = cache.vectors(first, embedder.name) if cache is not None else {}
    todo = [d for d in first if d not in known]
    fresh: dict[str, np.ndarray] = {}
    done = len(texts) - len(todo)
    if progress is not None:
        progress(done, len(texts))
    for start in range(0, len(todo), _BATCH):
        chunk = todo[start : start + _BATCH]
        batch = np.asarray(embedder.embed([texts[first[d]] for d in chunk]), dtype=np.float32)
        fresh.update(zip(chunk, batch, strict=True))
        if cache is not None:
            cache.store({}, dict(zip(chunk, batch, strict=True)), embedder.name)
        done += len(chunk)
        if progress is not None:
            progress(done, len(texts))
    found = {**known, **fresh}
    width = next(iter(found.values())).shape[0] if found else 0
    vectors = np.zeros((len(texts), width), dtype=np.float32)
    for row, digest in enumerate(digests):
        vectors[row] = found[digest]
    return vectors, len(fresh), len(known)


def text_and_sentence_features(
    texts: Sequence[Any],
    embedder: SentenceEmbedder,
    *,
    html: bool = False,
    encoder: TextEncoder | None = None,
    cache: FeatureCache | None = None,
    progress: Progress | None = None,
) -> FeatureSet:
    """TF-IDF (:func:`~ls_cleanlab.features.texts.text_features`) and sentence embeddings side by
    side, each half weighted ``1 / sqrt(2)``: a sparse ``(n, V + D)`` matrix with unit rows.

    ``encoder`` is the TF-IDF's (the embeddings need none); the result's ``source`` is
    ``"tfidf+<embedder name>"`` and its ``computed``/``cached`` count the sentence vectors.
    """
    tfidf = text_features(texts, html=html, encoder=encoder)
    cleaned, _ = clean_texts(texts, html=html)
    rows = np.flatnonzero(tfidf.ok)
    found, computed, cached = sentence_vectors(
        [cleaned[i] for i in rows], embedder, cache=cache, progress=progress
    )
    vectors = np.zeros((len(texts), found.shape[1]), dtype=np.float32)
    vectors[rows] = found
    both = sp.hstack([tfidf.features, sp.csr_matrix(vectors)], format="csr", dtype=np.float32)
    return replace(
        tfidf,
        features=(both / np.sqrt(2)).astype(np.float32).tocsr(),
        source=f"{tfidf.source}+{embedder.name}",
        computed=computed,
        cached=cached,
    )
