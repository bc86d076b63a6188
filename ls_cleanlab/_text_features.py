"""TF-IDF features of task texts; see :func:`text_features`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ls_cleanlab._feature_set import FeatureSet

__all__ = ["text_features"]


_TAG = re.compile(r"<[^>]+>")


def text_features(
    texts: Sequence[Any], *, html: bool = False, hashing_above: int = 200_000, min_df: int = 2
) -> FeatureSet:
    """TF-IDF features of task texts (sparse).

    Word 1-2-grams and character 2-4-grams within word boundaries, sublinear term frequency,
    rows L2-normalized per part. Above ``hashing_above`` texts both parts are hashed into
    2**20 columns instead of keeping a vocabulary, so memory stays bounded.

    Parameters
    ----------
    texts : sequence, length n
        Task texts; anything that is not a non-empty string is skipped with a reason.
    html : bool
        Strip HTML tags first (``HyperText`` tasks).
    hashing_above : int
    min_df : int
        With a vocabulary, ignore terms in fewer texts (lowered to 1 for tiny sets).
    """
    from sklearn.feature_extraction.text import (
        HashingVectorizer,
        TfidfTransformer,
        TfidfVectorizer,
    )

    n = len(texts)
    skipped: dict[int, str] = {}
    cleaned = []
    for row, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            skipped[row] = f"no text in the task data (got {text!r:.40})"
            cleaned.append("")
        else:
            cleaned.append(_TAG.sub(" ", text) if html else text)
    ok = np.array([row not in skipped for row in range(n)], dtype=bool)
    if not ok.any():
        return FeatureSet(sp.csr_matrix((n, 0), dtype=np.float32), ok, skipped, "tfidf")
    kept = [cleaned[i] for i in np.flatnonzero(ok)]
    parts = []
    hashed = len(kept) > hashing_above
    for analyzer, ngrams in (("word", (1, 2)), ("char_wb", (2, 4))):
        if hashed:
            counts = HashingVectorizer(
                analyzer=analyzer,
                ngram_range=ngrams,
                n_features=2**20,
                alternate_sign=False,
                norm=None,
                dtype=np.float32,
            ).transform(kept)
            parts.append(TfidfTransformer(sublinear_tf=True).fit_transform(counts))
        else:
            vectorizer = TfidfVectorizer(
                analyzer=analyzer,
                ngram_range=ngrams,
                sublinear_tf=True,
                min_df=min_df if len(kept) >= 10 * min_df else 1,
                dtype=np.float32,
            )
            try:
                parts.append(vectorizer.fit_transform(kept))
            except ValueError:  # nothing survived (e.g. only stop characters)
                parts.append(sp.csr_matrix((len(kept), 0), dtype=np.float32))
    block = sp.hstack(parts, format="csr", dtype=np.float32) / np.sqrt(len(parts))
    rows = np.flatnonzero(ok)
    placed = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, np.arange(len(rows)))), shape=(n, len(rows))
    )
    return FeatureSet((placed @ block).tocsr(), ok, skipped, "tfidf-hashed" if hashed else "tfidf")
