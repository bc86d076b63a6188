"""``/predict`` of the ML backend: a project's trained model applied to Label Studio tasks.

The trained model keeps the encoder of the features it was fitted on (the standardization of
the image descriptors, or the fitted TF-IDF), so new tasks get the same columns on the same
scale. A task whose image is cached costs two SQLite lookups and one matrix product.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.features import FeatureCache, Scaling, TextEncoder, image_features, text_features
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import ModelStore, TrainedModel
from ls_cleanlab.studio import LabelSchema, parse_label_config, prediction_json

__all__ = ["Predictor", "project_dir"]

logger = logging.getLogger("ls_cleanlab")

EMBEDDER = "descriptors"


def project_dir(data_dir: Path, project: int) -> Path:
    return data_dir / "projects" / str(int(project))


@dataclass(frozen=True, eq=False)
class ProjectModel:
    trained: TrainedModel
    stamp: float


class Predictor:
    """Predictions for ``/predict``; models are loaded once and reloaded when retrained."""

    def __init__(self, data_dir: Path, cache: FeatureCache) -> None:
        self.data_dir = data_dir
        self.cache = cache
        self._models: dict[tuple[int, str], ProjectModel] = {}
        self._schemas: dict[str, LabelSchema] = {}
        self._lock = threading.Lock()

    def schema(self, label_config: str) -> LabelSchema:
        """The parsed config (parsed once per distinct config)."""
        with self._lock:
            found = self._schemas.get(label_config)
        if found is None:
            found = parse_label_config(label_config)
            with self._lock:
                if len(self._schemas) > 64:
                    self._schemas.clear()
                self._schemas[label_config] = found
        return found

    def model(self, project: int, model_version: str) -> ProjectModel | None:
        """The project's trained model, or None before its first audit."""
        path = ModelStore(self.data_dir / "models")._dir(project) / f"{model_version}.joblib"
        try:
            stamp = path.stat().st_mtime
        except OSError:
            return None
        key = (int(project), model_version)
        with self._lock:
            cached = self._models.get(key)
        if cached is not None and cached.stamp == stamp:
            return cached
        trained = TrainedModel.load(path)
        if not isinstance(trained.encoder, (Scaling, TextEncoder)):
            logger.warning("model %s of project %s has no feature encoder; retrain", path, project)
            return None
        loaded = ProjectModel(trained, stamp)
        with self._lock:
            self._models[key] = loaded
        return loaded

    def features(
        self,
        values: Sequence[Any],
        model: ProjectModel,
        fetcher: MediaFetcher | None,
        schema: LabelSchema,
    ) -> tuple[Any, np.ndarray]:
        """(features (n, D), ok (n,)) of task data values, encoded as the model's training set."""
        encoder = model.trained.encoder
        if isinstance(encoder, TextEncoder):
            found = text_features(values, html=schema.object_tag == "HyperText", encoder=encoder)
            return found.features, found.ok
        refs = [v if isinstance(v, str) and v.strip() else None for v in values]
        found = image_features(
            refs, fetcher or MediaFetcher(), cache=self.cache, embedder=EMBEDDER, encoder=encoder,
            workers=4,
        )  # fmt: skip
        return found.features, found.ok

    def predict(
        self,
        project: int,
        tasks: Sequence[Mapping[str, Any]],
        schema: LabelSchema,
        model_version: str,
        fetcher: MediaFetcher | None,
    ) -> list[dict[str, Any]]:
        """One prediction (``{"result": [...], "score", "model_version"}``) per task, in order;
        empty results when the project has no model yet or a task has no features."""
        found = self.model(project, model_version)
        empty = {"result": [], "score": 0.0, "model_version": model_version}
        if found is None or tuple(found.trained.class_names) != tuple(schema.classes):
            return [dict(empty) for _ in tasks]
        values = [(t.get("data") or {}).get(schema.data_key) for t in tasks]
        X, ok = self.features(values, found, fetcher, schema)
        out: list[dict[str, Any]] = [dict(empty) for _ in tasks]
        rows = np.flatnonzero(ok)
        if len(rows) == 0:
            return out
        pre = found.trained.predict(X[rows])
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
                "probabilities": {name: round(float(p), 4) for name, p in zip(names, probs,
                                                                            strict=True)},
            }  # fmt: skip
            made.pop("task", None)
            out[row] = made
        return out
