"""What turned task data into features, recorded so new tasks are encoded exactly the same way.

A model is only as good as the match between its training features and the features of the
tasks it predicts. :class:`Extractor` names the source (an image embedder with its weights, the
TF-IDF with or without sentence embeddings, a data field, an embeddings file) and its parameters;
:func:`task_features` records it in the :class:`~ls_cleanlab.features.feature_set.FeatureSet` it
returns, the trained model keeps it, and :meth:`Extractor.extract` re-creates it for new tasks,
together with the model's encoder (the fitted standardization or TF-IDF vocabulary). When the
recorded extractor cannot run here (another embedder installed, weights missing, the embeddings
file gone) it refuses with :class:`~ls_cleanlab.errors.ExtractorUnavailableError` instead of
feeding the model features of another kind.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from ls_cleanlab.errors import (
    ExtractorUnavailableError,
    InvalidOptionError,
    MissingExtraError,
    WeightsError,
)
from ls_cleanlab.features.cache import FeatureCache
from ls_cleanlab.features.embedders import find_embedder, find_text_embedder
from ls_cleanlab.features.feature_set import FeatureSet
from ls_cleanlab.features.images import image_features
from ls_cleanlab.features.precomputed import field_embeddings, load_embeddings
from ls_cleanlab.features.sentences import text_and_sentence_features
from ls_cleanlab.features.texts import task_texts, text_features
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.studio import LabelSchema, TaskTable

__all__ = ["SOURCES", "Extractor"]

Source = Literal["file", "field", "image", "text"]
SOURCES: tuple[Source, ...] = ("file", "field", "image", "text")
Progress = Callable[[int, int], None]
#: Prefix of a text extractor's name when sentence embeddings sit beside the TF-IDF.
_TFIDF_WITH = "tfidf+"


@dataclass(frozen=True)
class Extractor:
    """A feature source and its parameters.

    Attributes
    ----------
    source : {"file", "field", "image", "text"}
        An ``.npy``/``.npz`` of embeddings by task id, a vector in a task data field, images
        through an embedder, or texts through TF-IDF (and a sentence embedder).
    name : str
        ``file``: the file's path; ``field``: the data field; ``image``: the embedder's name,
        which identifies its weights (``"descriptors:lab-hog-v1"``,
        ``"efficientnet_lite0:579344248a93:lite0-onnx-v1:224px:stages"``); ``text``:
        ``"tfidf"``, or ``"tfidf+<sentence embedder name>"`` when sentence embeddings sit beside
        the TF-IDF (``"tfidf+minilm_l6:8199be6f699a:be50c3628f2b:256tok"``: model and tokenizer
        hashes).
    html : bool
        ``text``: HTML tags stripped first (``HyperText`` tasks).
    weights_path : str, optional
        ``image``: the weights file the embedder was built from, when one was given.
    """

    source: Source
    name: str
    html: bool = False
    weights_path: str | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise InvalidOptionError(
                f"unknown feature source {self.source!r}; use one of {SOURCES}."
            )

    def describe(self) -> str:
        """A short label for logs and results, e.g. ``"image:descriptors:lab-hog-v1"``."""
        return f"{self.source}:{self.name}"

    @property
    def sentence_embedder(self) -> str | None:
        """``text``: the name of the sentence embedder beside the TF-IDF, or None."""
        if self.source != "text" or not self.name.startswith(_TFIDF_WITH):
            return None
        return self.name[len(_TFIDF_WITH) :]

    def embedder(self, given: Any = None, *, cache_dir: str | Path | None = None) -> Any:
        """The embedder this extractor names (``given`` if it is that one): an image embedder
        for ``image``, the sentence embedder for ``text`` with embeddings, else None.

        Raises
        ------
        ExtractorUnavailableError
            That embedder cannot run here (not installed, other weights or version).
        """
        if self.source == "image":
            wanted, kind = self.name, "image"
        elif self.sentence_embedder is not None:
            wanted, kind = self.sentence_embedder, "text"
        else:
            return None
        if given is not None and getattr(given, "name", None) == wanted:
            return given
        key = wanted.split(":", 1)[0]
        found: Any
        try:
            if kind == "image":
                found = find_embedder(wanted, self.weights_path, cache_dir=cache_dir)
            else:
                found = find_text_embedder(wanted)
        except (InvalidOptionError, MissingExtraError, WeightsError) as error:
            raise ExtractorUnavailableError(
                f"the features were made by {kind} embedder {wanted!r}, which cannot run here "
                f"({error}). Install it as it was installed for training, or retrain."
            ) from error
        if found is None or found.name != wanted:
            raise ExtractorUnavailableError(
                f"the features were made by {kind} embedder {wanted!r}, but this machine's "
                f"{key!r} embedder is {getattr(found, 'name', None)!r} (other weights or "
                "version). Install the same weights, or retrain so the model matches this "
                "embedder."
            )
        return found

    def extract(
        self,
        table: TaskTable,
        schema: LabelSchema,
        *,
        encoder: Any = None,
        fetcher: MediaFetcher | None = None,
        cache: FeatureCache | None = None,
        embedder: Any = None,
        executor: Executor | None = None,
        progress: Progress | None = None,
        store_dir: str | Path | None = None,
    ) -> FeatureSet:
        """Features of ``table``'s tasks from this source; with ``encoder`` (a trained model's),
        encoded exactly like the tasks the encoder was fitted on. With ``store_dir``, dense
        features are kept on disk there (TF-IDF stays a sparse matrix in memory).

        ``embedder`` is an already built embedder to use when it is the one this extractor
        names (a server keeps them between requests); otherwise it is built, with its files in
        ``cache.embedders_dir``.
        """
        cache_dir = cache.embedders_dir if cache is not None else None
        if self.source == "file":
            path = Path(self.name)
            if not path.is_file():
                raise ExtractorUnavailableError(
                    f"the features came from the embeddings file {self.name!r}, which is gone; "
                    "put it back (with rows for the new tasks), or retrain."
                )
            found = load_embeddings(path, table.task_ids, encoder=encoder, store_dir=store_dir)
        elif self.source == "field":
            found = field_embeddings(table.data, self.name, encoder=encoder, store_dir=store_dir)
        elif self.source == "text":
            values = task_texts(table.data, schema.data_key, schema.text_encoding)
            sentences = self.embedder(embedder, cache_dir=cache_dir)
            if sentences is None:
                found = text_features(values, html=self.html, encoder=encoder)
            else:
                found = text_and_sentence_features(
                    values, sentences, html=self.html, encoder=encoder, cache=cache,
                    progress=progress,
                )  # fmt: skip
        else:
            if fetcher is None:
                raise InvalidOptionError(
                    "image tasks need a MediaFetcher to read their images (fetcher=...)."
                )
            values = [task.get(schema.data_key) for task in table.data]
            found = image_features(
                values, fetcher, cache=cache, embedder=self.embedder(embedder, cache_dir=cache_dir),
                encoder=encoder, executor=executor, progress=progress, store_dir=store_dir,
            )  # fmt: skip
        return replace(found, extractor=self)
