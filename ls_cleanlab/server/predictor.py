"""``/predict`` of the ML backend: each project's trained model, loaded once, applied to tasks.

Models are read from the workspace's model store and reloaded when a new audit replaced the file;
the embedder a model's extractor names (EfficientNet-Lite0, MiniLM) is built once and kept; the
work itself (features exactly like the training set's, then pre-annotations) is
:mod:`ls_cleanlab.pipeline.preannotate`'s. A task whose image is cached costs two SQLite lookups
and one matrix product. Box projects (``RectangleLabels``) get the boxes of the detector their
last audit trained (:func:`~ls_cleanlab.pipeline.box_detector.box_preannotations`), as
``rectanglelabels`` results with a score each.

A task whose media cannot be fetched gets an empty prediction. When no task of a request could be
predicted because Label Studio refused the key or could not be reached, the request fails instead
(:class:`~ls_cleanlab.errors.StudioAuthError`, :class:`~ls_cleanlab.errors.StudioUnreachableError`):
Label Studio stores the empty predictions it is given under the model version and would not ask
for those tasks again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ls_cleanlab.errors import MediaError, StudioAuthError, StudioError, StudioUnreachableError
from ls_cleanlab.features import FeatureCache
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import ModelStore, TrainedModel
from ls_cleanlab.model.detector import BoxDetector
from ls_cleanlab.pipeline.box_detector import box_preannotations
from ls_cleanlab.pipeline.preannotate import model_extractor, preannotations
from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.studio import LabelSchema, parse_label_config

__all__ = ["Predictor", "WatchedFetcher"]

logger = logging.getLogger("ls_cleanlab")


@dataclass(frozen=True, eq=False)
class ProjectModel:
    trained: TrainedModel | BoxDetector
    stamp: float


class Predictor:
    """Predictions for ``/predict``; models are loaded once and reloaded when retrained."""

    def __init__(self, workspace: Workspace, cache: FeatureCache) -> None:
        self.workspace = workspace
        self.store = ModelStore(workspace.models_dir)
        self.cache = cache
        self._models: dict[tuple[int, str, bool], ProjectModel] = {}
        self._schemas: dict[tuple[str, str | None], LabelSchema] = {}
        self._embedders: dict[str, Any] = {}
        self._lock = threading.Lock()

    def schema(self, label_config: str, tag: str | None = None) -> LabelSchema:
        """The parsed config, auditing the control tag ``tag`` (None: the default one); parsed
        once per distinct config and tag."""
        key = (label_config, tag)
        with self._lock:
            found = self._schemas.get(key)
        if found is None:
            found = parse_label_config(label_config, tag)
            with self._lock:
                if len(self._schemas) > 64:
                    self._schemas.clear()
                self._schemas[key] = found
        return found

    def model(self, project: int, model_version: str) -> TrainedModel | None:
        """The project's trained model, or None before its first audit."""
        found = self._load(project, model_version, boxes=False)
        return found if isinstance(found, TrainedModel) else None

    def detector(self, project: int, model_version: str) -> BoxDetector | None:
        """A box project's trained detector, or None before its first audit with one."""
        found = self._load(project, model_version, boxes=True)
        return found if isinstance(found, BoxDetector) else None

    def _load(self, project: int, model_version: str, *, boxes: bool) -> Any:
        if boxes:
            path = self.workspace.box_detector(project, model_version)
        else:
            path = self.store.path(project, model_version)
        try:
            stamp = path.stat().st_mtime
        except OSError:
            return None
        key = (int(project), model_version, boxes)
        with self._lock:
            cached = self._models.get(key)
        if cached is not None and cached.stamp == stamp:
            return cached.trained
        trained = BoxDetector.load(path) if boxes else TrainedModel.load(path)
        with self._lock:
            self._models[key] = ProjectModel(trained, stamp)
        return trained

    def embedder(self, trained: TrainedModel, schema: LabelSchema) -> Any:
        """The embedder ``trained``'s extractor names (None for TF-IDF, files and fields), built
        once per extractor and kept: building one reads and hashes its weights (about 0.2 s).

        Raises
        ------
        ExtractorUnavailableError
            That embedder cannot run here.
        """
        extractor = model_extractor(trained, schema)
        key = extractor.describe() + f":{extractor.weights_path}"
        with self._lock:
            if key in self._embedders:
                return self._embedders[key]
        built = extractor.embedder(cache_dir=self.cache.embedders_dir)
        with self._lock:
            return self._embedders.setdefault(key, built)

    def predict(
        self,
        project: int,
        tasks: Sequence[Mapping[str, Any]],
        schema: LabelSchema,
        model_version: str,
        fetcher: MediaFetcher | None,
        *,
        version: str | None = None,
    ) -> list[dict[str, Any]]:
        """One prediction per task, in order; empty results before the project's first audit.
        The model is the one trained under ``model_version``; the predictions carry ``version``
        (the project's current run, default ``model_version``)."""
        fetcher = fetcher or MediaFetcher()
        label = version or model_version
        empty = {"result": [], "score": 0.0, "model_version": label}
        if schema.kind == "boxes":
            detector = self.detector(project, model_version)
            if detector is None:
                return [dict(empty) for _ in tasks]
            results = box_preannotations(detector, tasks, schema, label, fetcher=fetcher)
        else:
            trained = self.model(project, model_version)
            if trained is None:
                return [dict(empty) for _ in tasks]
            # with other classes preannotations refuses: no embedder to build
            same = tuple(trained.class_names) == tuple(schema.classes)
            results = preannotations(
                trained, tasks, schema, label, fetcher=fetcher, cache=self.cache,
                embedder=self.embedder(trained, schema) if same else None,
            )  # fmt: skip
        if isinstance(fetcher, WatchedFetcher) and not any(r["result"] for r in results):
            fetcher.raise_for_studio()
        return results


class WatchedFetcher(MediaFetcher):
    """A :class:`~ls_cleanlab.media.MediaFetcher` that remembers why fetches from Label Studio
    failed, so a request that failed only because of Label Studio can say so.

    ``key_from_setup`` says where the key came from, for the advice in the error.
    """

    def __init__(self, *args: Any, key_from_setup: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_from_setup = key_from_setup
        self.studio_failures: list[MediaError] = []
        self._failures = threading.Lock()

    def fetch(self, ref: str) -> bytes:
        try:
            return super().fetch(ref)
        except MediaError as error:
            if error.kind in ("auth", "unreachable") and self._from_studio(ref):
                with self._failures:
                    self.studio_failures.append(error)
            raise

    def _from_studio(self, ref: str) -> bool:
        if self.studio_url is None or not isinstance(ref, str):
            return False
        ref = ref.strip()
        return ref.startswith(self.studio_url + "/") or (
            ref.startswith("/") and not ref.startswith("//")
        )

    def raise_for_studio(self) -> None:
        """Raise the Label Studio error behind the failed fetches, if there were any."""
        with self._failures:
            failures = list(self.studio_failures)
        if not failures:
            return
        refused = [f for f in failures if f.kind == "auth"]
        if refused:
            hint = (
                "the key is the one Label Studio sent on /setup (the project creator's legacy "
                "token), which Label Studio refuses where legacy tokens are off (the default in "
                "new 1.23 organizations): set LABEL_STUDIO_API_KEY on the backend to a personal "
                "access token, or enable legacy tokens in the organization"
                if self.key_from_setup
                else "check LABEL_STUDIO_API_KEY (a personal access token from Account & "
                "Settings) and that its user may see the project's files"
            )
            error: StudioError = StudioAuthError(
                f"no task's media could be fetched: {refused[0]}; {hint}."
            )
        else:
            error = StudioUnreachableError(
                f"no task's media could be fetched from Label Studio at {self.studio_url}: "
                f"{failures[0]}. Check that Label Studio is running and reachable from the "
                "backend at that URL (LABEL_STUDIO_URL, or the hostname /setup brought)."
            )
        raise error
