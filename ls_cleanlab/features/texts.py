"""TF-IDF features of task texts; see :func:`text_features`."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ls_cleanlab.errors import ExtractorUnavailableError
from ls_cleanlab.features.feature_set import FeatureSet

__all__ = ["TextEncoder", "clean_texts", "task_texts", "text_features"]


_TAG = re.compile(r"<[^>]+>")
_NGRAMS = (("word", (1, 2)), ("char_wb", (2, 4)))


class TextEncoder:
    """TF-IDF fitted on a set of texts, to encode more texts into the same columns.

    Word 1-2-grams and character 2-4-grams within word boundaries, sublinear term frequency,
    each part L2-normalized and weighted ``1 / sqrt(2)`` so every row has norm 1. With
    ``hashed``, terms are hashed into 2**20 columns per part instead of a vocabulary (memory
    stays bounded on very large corpora); only the IDF weights are fitted.
    """

    def __init__(self, *, hashed: bool = False, min_df: int = 2) -> None:
        self.hashed = hashed
        self.min_df = min_df
        self.parts_: list[Any] = []

    def _pipeline(self, analyzer: str, ngrams: tuple[int, int], n_texts: int) -> Any:
        from sklearn.feature_extraction.text import (
            HashingVectorizer,
            TfidfTransformer,
            TfidfVectorizer,
        )
        from sklearn.pipeline import make_pipeline

        if self.hashed:
            hashing = HashingVectorizer(
                analyzer=analyzer, ngram_range=ngrams, n_features=2**20, alternate_sign=False,
                norm=None, dtype=np.float32,
            )  # fmt: skip
            return make_pipeline(hashing, TfidfTransformer(sublinear_tf=True))
        min_df = self.min_df if n_texts >= 10 * self.min_df else 1
        return TfidfVectorizer(
            analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True, min_df=min_df,
            dtype=np.float32,
        )  # fmt: skip

    def fit(self, texts: Sequence[str]) -> TextEncoder:
        """Learn the vocabularies (or IDF weights) from ``texts``."""
        self.parts_ = []
        for analyzer, ngrams in _NGRAMS:
            part = self._pipeline(analyzer, ngrams, len(texts))
            try:
                part.fit(texts)
            except ValueError:  # nothing survived (e.g. only punctuation)
                part = None
            self.parts_.append(part)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows of ``texts`` in the fitted columns."""
        if not len(texts):  # scikit-learn refuses no rows; the columns are still the fitted ones
            return self.transform([""])[:0]
        blocks = [
            part.transform(texts) if part is not None else sp.csr_matrix((len(texts), 0))
            for part in self.parts_
        ]
        return sp.hstack(blocks, format="csr", dtype=np.float32) / np.sqrt(len(_NGRAMS))


def task_texts(data: Sequence[Mapping[str, Any]], key: str, encoding: str | None) -> list[Any]:
    """The text of each task's data field ``key``, decoded as the config's text object says
    (:attr:`~ls_cleanlab.studio.LabelSchema.text_encoding`); a value that does not decode is
    None, so it is skipped with the reason.

    Raises
    ------
    ExtractorUnavailableError
        For ``valueType="url"``: the texts live behind links, which are not fetched.
    """
    if encoding == "url":
        raise ExtractorUnavailableError(
            f'the text object loads its text from a URL in data[{key!r}] (valueType="url"), '
            "and ls-cleanlab reads text from the task data only; give features with "
            "--embedding-field or --embeddings-file, or probabilities (--pred-probs, "
            "--from-model-version)."
        )
    values = [task.get(key) for task in data]
    if encoding not in ("base64", "base64unicode"):
        return values
    return [_decoded(v, "utf-8" if encoding == "base64unicode" else "latin-1") for v in values]


def _decoded(value: Any, charset: str) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True).decode(charset)
    except (binascii.Error, UnicodeDecodeError):
        return None


def clean_texts(texts: Sequence[Any], *, html: bool = False) -> tuple[list[str], dict[int, str]]:
    """Task texts ready to encode, and the rows that have none.

    Returns
    -------
    cleaned : list of str, length n
        HTML tags replaced by spaces when ``html``; ``""`` for skipped rows.
    skipped : dict of int to str
        Row -> why (anything that is not a non-empty string).
    """
    skipped: dict[int, str] = {}
    cleaned = []
    for row, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            skipped[row] = f"no text in the task data (got {text!r:.40})"
            cleaned.append("")
        else:
            cleaned.append(_TAG.sub(" ", text) if html else text)
    return cleaned, skipped


def text_features(
    texts: Sequence[Any],
    *,
    html: bool = False,
    hashing_above: int = 200_000,
    min_df: int = 2,
    encoder: TextEncoder | None = None,
) -> FeatureSet:
    """TF-IDF features of task texts (sparse); see :class:`TextEncoder`.

    Parameters
    ----------
    texts : sequence, length n
        Task texts; anything that is not a non-empty string is skipped with a reason.
    html : bool
        Strip HTML tags first (``HyperText`` tasks).
    hashing_above : int
        Hash terms instead of keeping a vocabulary above this many texts.
    min_df : int
        With a vocabulary, ignore terms in fewer texts (lowered to 1 for tiny sets).
    encoder : TextEncoder, optional
        Encode with this (fitted) encoder, e.g. a trained model's, instead of fitting one.
    """
    if encoder is not None and not isinstance(encoder, TextEncoder):
        raise TypeError(f"text features need a TextEncoder, got {type(encoder).__name__}")
    n = len(texts)
    cleaned, skipped = clean_texts(texts, html=html)
    ok = np.array([row not in skipped for row in range(n)], dtype=bool)
    rows = np.flatnonzero(ok)
    kept = [cleaned[i] for i in rows]
    if encoder is None:
        if not kept:
            return FeatureSet(sp.csr_matrix((n, 0), dtype=np.float32), ok, skipped, "tfidf")
        encoder = TextEncoder(hashed=len(kept) > hashing_above, min_df=min_df)
        encoder.fit(kept)
    block = encoder.transform(kept)
    placed = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, np.arange(len(rows)))), shape=(n, len(rows))
    )
    source = "tfidf-hashed" if encoder.hashed else "tfidf"
    return FeatureSet((placed @ block).tocsr(), ok, skipped, source, encoder=encoder)
