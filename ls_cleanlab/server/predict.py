"""``/predict`` of the ML backend: each project's trained model, loaded once, applied to tasks.

Models are read from the workspace's model store and reloaded when a new audit replaced the file;
the work itself (features exactly like the training set's, then pre-annotations) is
:mod:`ls_cleanlab.pipeline.preannotate`'s. A task whose image is cached costs two SQLite lookups
and one matrix product.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ls_cleanlab.features import FeatureCache
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import ModelStore, TrainedModel
from ls_cleanlab.pipeline.preannotate import preannotations
from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.studio import LabelSchema, parse_label_config

__all__ = ["Predictor"]

logger = logging.getLogger("ls_cleanlab")


@dataclass(frozen=True, eq=False)
class ProjectModel:
    trained: TrainedModel
    stamp: float


class Predictor:
    """Predictions for ``/predict``; models are loaded once and reloaded when retrained."""

    def __init__(self, workspace: Workspace, cache: FeatureCache) -> None:
        self.store = ModelStore(workspace.models_dir)
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

    def model(self, project: int, model_version: str) -> TrainedModel | None:
        """The project's trained model, or None before its first audit."""
        path = self.store.path(project, model_version)
        try:
            stamp = path.stat().st_mtime
        except OSError:
            return None
        key = (int(project), model_version)
        with self._lock:
            cached = self._models.get(key)
        if cached is not None and cached.stamp == stamp:
            return cached.trained
        trained = TrainedModel.load(path)
        with self._lock:
            self._models[key] = ProjectModel(trained, stamp)
        return trained

    def predict(
        self,
        project: int,
        tasks: Sequence[Mapping[str, Any]],
        schema: LabelSchema,
        model_version: str,
        fetcher: MediaFetcher | None,
    ) -> list[dict[str, Any]]:
        """One prediction per task, in order; empty results before the project's first audit."""
        trained = self.model(project, model_version)
        if trained is None:
            empty = {"result": [], "score": 0.0, "model_version": model_version}
            return [dict(empty) for _ in tasks]
        return preannotations(
            trained, tasks, schema, model_version, fetcher=fetcher or MediaFetcher(),
            cache=self.cache,
        )  # fmt: skip
