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
from ls_cleanlab.features.embedders import ImageEmbedder, find_embedder
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
    embedder: ImageEmbedder | str = "descriptors",
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
    :func:`text_features`.

    Parameters
    ----------
    table : TaskTable
        The tasks (:func:`ls_cleanlab.read_tasks`); rows follow ``table.task_ids``.
    schema : LabelSchema
        Says which data field holds the object (``schema.data_key``) and its kind.
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
    if embeddings_file is not None:
        extractor = Extractor("file", str(Path(embeddings_file)))
    elif embedding_field is not None:
        extractor = Extractor("field", embedding_field)
    elif schema.object_tag == "Image":
        chosen = find_embedder(embedder) if isinstance(embedder, str) else embedder
        extractor = Extractor("image", chosen.name)
        embedder = chosen
    else:
        extractor = Extractor("text", "tfidf", html=schema.object_tag == "HyperText")
    return extractor.extract(
        table, schema, encoder=encoder, fetcher=fetcher, cache=cache,
        embedder=embedder if isinstance(embedder, ImageEmbedder) else None, executor=executor,
        progress=progress, store_dir=store_dir,
    )  # fmt: skip
