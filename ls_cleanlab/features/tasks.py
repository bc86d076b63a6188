"""Features of a project's tasks from the source that fits: a file, a data field, images, texts.

Every function returns a :class:`~ls_cleanlab.features.feature_set.FeatureSet` aligned with the
tasks it was given: one row per task, a mask of the rows that could be computed, and the reason
for each task that could not.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from ls_cleanlab.features.cache import FeatureCache
from ls_cleanlab.features.embedders import (
    ImageEmbedder,
    SentenceEmbedder,
    find_embedder,
    find_text_embedder,
)
from ls_cleanlab.features.extractor import Extractor
from ls_cleanlab.features.feature_set import FeatureSet
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.studio import LabelSchema, TaskTable

__all__ = ["task_features"]

Progress = Callable[[int, int], None]


def task_features(
    table: TaskTable,
    schema: LabelSchema,
    *,
    fetcher: MediaFetcher | None = None,
    cache: FeatureCache | None = None,
    embedder: ImageEmbedder | str = "auto",
    text_embedder: SentenceEmbedder | str = "auto",
    embedding_field: str | None = None,
    embeddings_file: str | Path | None = None,
    encoder: Any = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    store_dir: str | Path | None = None,
) -> FeatureSet:
    """Features of a project's tasks, from the source that fits.

    In order of preference: ``embeddings_file`` (:func:`load_embeddings`), ``embedding_field``
    (:func:`field_embeddings`), then the object the config labels: ``Image`` via
    :func:`image_features` (needs ``fetcher``), ``Text`` and ``HyperText`` via
    :func:`text_features`, with sentence embeddings beside the TF-IDF when a sentence embedder
    is chosen (:func:`~ls_cleanlab.features.sentences.text_and_sentence_features`).

    Parameters
    ----------
    table : TaskTable
        The tasks (:func:`ls_cleanlab.read_tasks`); rows follow ``table.task_ids``.
    schema : LabelSchema
        Says which data field holds the object (``schema.data_key``) and its kind.
    embedder : ImageEmbedder or str
        Image tasks: an embedder or a name for :func:`find_embedder`; ``"auto"`` is the
        pretrained EfficientNet-Lite0 when the ``embed`` extra is installed, else the built-in
        descriptors.
    text_embedder : SentenceEmbedder or str
        Text tasks: a sentence embedder or a name for :func:`find_text_embedder`; ``"auto"``
        puts MiniLM sentence embeddings beside the TF-IDF when the extra is installed,
        ``"none"`` keeps the TF-IDF alone.
    cache : FeatureCache, optional
        Vectors by content hash, and the folder where embedders keep what they build.
    encoder : optional
        A fitted encoder (``FeatureSet.encoder``, e.g. from a trained model) to encode these
        tasks exactly like the ones it was fitted on.
    executor : concurrent.futures.Executor, optional
        Where image downloads and decoding run, in batches (default: this process).
    store_dir : str or Path, optional
        Keep dense features on disk there (:class:`~ls_cleanlab.ondisk.DiskArray`, read in
        chunks) instead of in memory; the values are the same.

    Returns
    -------
    FeatureSet
        With ``extractor`` recording the source, so a model trained on these features can encode
        new tasks the same way (:meth:`Extractor.extract`).
    """
    chosen: Any = None
    if embeddings_file is not None:
        extractor = Extractor("file", str(Path(embeddings_file)))
    elif embedding_field is not None:
        extractor = Extractor("field", embedding_field)
    elif schema.object_tag == "Image":
        cache_dir = cache.embedders_dir if cache is not None else None
        chosen = (
            find_embedder(embedder, cache_dir=cache_dir) if isinstance(embedder, str) else embedder
        )
        extractor = Extractor("image", chosen.name)
    else:
        chosen = (
            find_text_embedder(text_embedder) if isinstance(text_embedder, str) else text_embedder
        )
        name = "tfidf" if chosen is None else f"tfidf+{chosen.name}"
        extractor = Extractor("text", name, html=schema.object_tag == "HyperText")
    return extractor.extract(
        table, schema, encoder=encoder, fetcher=fetcher, cache=cache, embedder=chosen,
        executor=executor, progress=progress, store_dir=store_dir,
    )  # fmt: skip
