"""Features of a project's tasks from the source that fits: a file, a data field, images, texts.

Every function returns a :class:`~ls_cleanlab.features.feature_set.FeatureSet` aligned with the
tasks it was given: one row per task, a mask of the rows that could be computed, and the reason
for each task that could not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.features.cache import FeatureCache
from ls_cleanlab.features.embedders import ImageEmbedder
from ls_cleanlab.features.feature_set import FeatureSet
from ls_cleanlab.features.images import image_features
from ls_cleanlab.features.precomputed import field_embeddings, load_embeddings
from ls_cleanlab.features.texts import text_features
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
    progress: Progress | None = None,
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
    """
    if embeddings_file is not None:
        return load_embeddings(embeddings_file, table.task_ids, encoder=encoder)
    if embedding_field is not None:
        return field_embeddings(table.data, embedding_field, encoder=encoder)
    values = [task.get(schema.data_key) for task in table.data]
    if schema.object_tag == "Image":
        if fetcher is None:
            raise InvalidOptionError(
                "image tasks need a MediaFetcher to read their images (fetcher=...)."
            )
        return image_features(
            values, fetcher, cache=cache, embedder=embedder, encoder=encoder, progress=progress
        )
    return text_features(values, html=schema.object_tag == "HyperText", encoder=encoder)
