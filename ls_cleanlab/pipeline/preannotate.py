"""A project's trained model applied to tasks it has not seen: features, then pre-annotations.

The trained model records the feature extractor and encoder of its training set
(:class:`~ls_cleanlab.features.Extractor`); new tasks are encoded with exactly those, so they get
the same columns on the same scale, from the same embedder. When that extractor cannot run here,
:class:`~ls_cleanlab.errors.ExtractorUnavailableError` says why, instead of predicting from
features of another kind.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from ls_cleanlab.errors import ExtractorUnavailableError
from ls_cleanlab.features import (
    DescriptorEmbedder,
    Extractor,
    FeatureCache,
    FeatureSet,
    Scaling,
    TextEncoder,
)
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import TrainedModel
from ls_cleanlab.studio import LabelSchema, prediction_json, read_tasks

__all__ = ["model_extractor", "model_features", "preannotations"]

logger = logging.getLogger("ls_cleanlab")


def model_extractor(trained: TrainedModel, schema: LabelSchema) -> Extractor:
    """The extractor of ``trained``'s training features.

    Models saved before extractors were recorded carry only their encoder: a TF-IDF encoder means
    the project's texts, a standardization the built-in image descriptors (the only image source
    those versions used for a project's own model).
    """
    if isinstance(trained.extractor, Extractor):
        return trained.extractor
    if isinstance(trained.encoder, TextEncoder):
        return Extractor("text", "tfidf", html=schema.object_tag == "HyperText")
    if isinstance(trained.encoder, Scaling) and schema.object_tag == "Image":
        logger.info("model without a recorded extractor: assuming the built-in descriptors")
        return Extractor("image", DescriptorEmbedder.name)
    raise ExtractorUnavailableError(
        "the trained model does not record how its features were made, and they were not the "
        "project's texts or images; retrain (Start training, or ls-cleanlab audit)."
    )


def model_features(
    trained: TrainedModel,
    tasks: Sequence[Mapping[str, Any]],
    schema: LabelSchema,
    *,
    fetcher: MediaFetcher | None = None,
    cache: FeatureCache | None = None,
    executor: Executor | None = None,
    embedder: Any = None,
) -> FeatureSet:
    """Features of ``tasks`` (task JSON, in order), encoded like ``trained``'s training set.

    ``embedder``: an embedder already built (:meth:`Extractor.embedder`), used when it is the
    one the model's extractor names; otherwise one is built for this call.
    """
    table = read_tasks(tasks, schema)
    extractor = model_extractor(trained, schema)
    return extractor.extract(
        table, schema, encoder=trained.encoder, fetcher=fetcher, cache=cache, executor=executor,
        embedder=embedder,
    )  # fmt: skip


def preannotations(
    trained: TrainedModel,
    tasks: Sequence[Mapping[str, Any]],
    schema: LabelSchema,
    model_version: str,
    *,
    fetcher: MediaFetcher | None = None,
    cache: FeatureCache | None = None,
    embedder: Any = None,
) -> list[dict[str, Any]]:
    """One prediction (``{"result": [...], "score", "model_version"}``) per task, in order.

    A task without features (no media, a broken image) gets an empty result. The result's
    ``meta`` carries every class's probability. ``embedder`` as in :func:`model_features`.
    """
    empty = {"result": [], "score": 0.0, "model_version": model_version}
    out: list[dict[str, Any]] = [dict(empty) for _ in tasks]
    if tuple(trained.class_names) != tuple(schema.classes):
        logger.warning("the trained model's classes differ from the label config's: retrain")
        return out
    found = model_features(trained, tasks, schema, fetcher=fetcher, cache=cache, embedder=embedder)
    rows = np.flatnonzero(found.ok)
    if len(rows) == 0:
        return out
    pre = trained.predict(found.features[rows])
    names = schema.classes
    for i, row in enumerate(rows):
        chosen = [names[k] for k in np.flatnonzero(pre.chosen[i])]
        probs = pre.probs[i]
        made = prediction_json(
            schema, int(tasks[row].get("id") or 0), chosen,
            score=float(pre.scores[i]), model_version=model_version,
            result_score=float(np.mean(probs[pre.chosen[i] == 1])) if chosen else None,
        )  # fmt: skip
        made["result"][0]["meta"] = {
            "probabilities": {
                name: round(float(p), 4) for name, p in zip(names, probs, strict=True)
            }
        }
        made.pop("task", None)
        out[row] = made
    return out
