"""``/predict`` of the ML backend: a project's trained model applied to Label Studio tasks.

After a full audit the backend keeps, per project (``<data dir>/projects/<id>/``), the audited
task ids and probabilities (``audit.npz``) and what the model's features need to be rebuilt for
any task: for images the mean and scale of the raw descriptors over the audited tasks (the
audit standardizes over them, so one new image is standardized the same way), for texts the
audited texts (TF-IDF is refitted over them plus the new texts). A task whose image is cached
costs two SQLite lookups and one matrix product.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab._embedders import find_embedder
from ls_cleanlab._text_features import _TAG
from ls_cleanlab.features import FeatureCache, image_features
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import ModelStore, TrainedModel
from ls_cleanlab.schema import LabelSchema, parse_label_config
from ls_cleanlab.tasks import prediction_json

__all__ = ["FeatureBasis", "Predictor", "project_dir"]

logger = logging.getLogger("ls_cleanlab")

EMBEDDER = "descriptors"


def project_dir(data_dir: Path, project: int) -> Path:
    return data_dir / "projects" / str(int(project))


@dataclass(frozen=True, eq=False)
class FeatureBasis:
    """How to compute features of new tasks the way the audit computed them."""

    kind: str  # "image" or "text"
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    texts: tuple[Any, ...] = ()
    html: bool = False

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.kind == "image":
            assert self.mean is not None and self.scale is not None
            np.savez(folder / "basis.tmp.npz", mean=self.mean, scale=self.scale)
            (folder / "basis.tmp.npz").replace(folder / "basis.npz")
            (folder / "texts.json").unlink(missing_ok=True)
        else:
            (folder / "texts.tmp").write_text(json.dumps({"texts": list(self.texts),
                                                          "html": self.html}))  # fmt: skip
            (folder / "texts.tmp").replace(folder / "texts.json")
            (folder / "basis.npz").unlink(missing_ok=True)

    @classmethod
    def load(cls, folder: Path) -> FeatureBasis | None:
        if (folder / "basis.npz").is_file():
            with np.load(folder / "basis.npz") as saved:
                return cls("image", mean=saved["mean"], scale=saved["scale"])
        if (folder / "texts.json").is_file():
            saved = json.loads((folder / "texts.json").read_text())
            return cls("text", texts=tuple(saved["texts"]), html=bool(saved["html"]))
        return None


def image_basis(refs: Sequence[str], cache: FeatureCache) -> FeatureBasis:
    """Mean and scale of the raw cached descriptors of ``refs`` (as ``standardize`` computes)."""
    raw = _cached_vectors(refs, cache)
    rows = np.stack([v for v in raw.values()]).astype(np.float64)
    mean, std = rows.mean(axis=0), rows.std(axis=0)
    scale = np.where(std > 1e-8 * np.maximum(1.0, np.abs(mean)), std, np.inf)
    return FeatureBasis("image", mean=mean, scale=scale)


def _cached_vectors(refs: Sequence[str], cache: FeatureCache) -> dict[str, np.ndarray]:
    name = find_embedder(EMBEDDER).name
    digests = cache.digests(list(dict.fromkeys(refs)))
    vectors = cache.vectors(set(digests.values()), name)
    return {ref: vectors[d] for ref, d in digests.items() if d in vectors}


@dataclass(frozen=True, eq=False)
class ProjectModel:
    trained: TrainedModel
    basis: FeatureBasis
    stamp: float
    text: TextVectorizer | None = None


class TextVectorizer:
    """The TF-IDF of :func:`ls_cleanlab.features.text_features`, fitted once on the audited texts
    with the same parameters, then applied to new texts: the same columns the model saw."""

    def __init__(self, texts: Sequence[Any], *, html: bool, hashing_above: int = 200_000,
                 min_df: int = 2) -> None:  # fmt: skip
        from sklearn.feature_extraction.text import (
            HashingVectorizer,
            TfidfTransformer,
            TfidfVectorizer,
        )

        self.html = html
        kept = [t for t in (self._clean(x) for x in texts) if t is not None]
        self.parts: list[tuple[Any, Any]] = []
        hashed = len(kept) > hashing_above
        for analyzer, ngrams in (("word", (1, 2)), ("char_wb", (2, 4))):
            if hashed:
                hasher = HashingVectorizer(analyzer=analyzer, ngram_range=ngrams,
                                           n_features=2**20, alternate_sign=False, norm=None,
                                           dtype=np.float32)  # fmt: skip
                idf = TfidfTransformer(sublinear_tf=True).fit(hasher.transform(kept))
                self.parts.append((hasher, idf))
                continue
            vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True,
                                         min_df=min_df if len(kept) >= 10 * min_df else 1,
                                         dtype=np.float32)  # fmt: skip
            try:
                self.parts.append((vectorizer.fit(kept), None))
            except ValueError:  # nothing survived: an empty block, as text_features makes
                self.parts.append((None, None))

    def _clean(self, text: Any) -> str | None:
        if not isinstance(text, str) or not text.strip():
            return None
        return _TAG.sub(" ", text) if self.html else text

    def transform(self, texts: Sequence[Any]) -> tuple[Any, np.ndarray]:
        import scipy.sparse as sp

        cleaned = [self._clean(t) for t in texts]
        ok = np.array([c is not None for c in cleaned], dtype=bool)
        docs = [c or "" for c in cleaned]
        blocks = []
        for first, second in self.parts:
            if first is None:
                blocks.append(sp.csr_matrix((len(docs), 0), dtype=np.float32))
            elif second is None:
                blocks.append(first.transform(docs))
            else:
                blocks.append(second.transform(first.transform(docs)))
        X = sp.hstack(blocks, format="csr", dtype=np.float32) / np.sqrt(len(blocks))
        return X.tocsr(), ok


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
        """The project's trained model and feature basis, or None before its first audit."""
        path = ModelStore(self.data_dir / "models")._dir(project) / f"{model_version}.joblib"
        folder = project_dir(self.data_dir, project)
        try:
            stamp = path.stat().st_mtime
        except OSError:
            return None
        key = (int(project), model_version)
        with self._lock:
            cached = self._models.get(key)
        if cached is not None and cached.stamp == stamp:
            return cached
        basis = FeatureBasis.load(folder)
        if basis is None:
            return None
        text = TextVectorizer(basis.texts, html=basis.html) if basis.kind == "text" else None
        loaded = ProjectModel(TrainedModel.load(path), basis, stamp, text)
        with self._lock:
            self._models[key] = loaded
        return loaded

    def features(
        self, values: Sequence[Any], model: ProjectModel, fetcher: MediaFetcher | None
    ) -> tuple[Any, np.ndarray]:
        """(features (n, D), ok (n,)) of task data values, as the audit computed them."""
        n = len(values)
        basis = model.basis
        if model.text is not None:
            return model.text.transform(values)
        assert basis.mean is not None and basis.scale is not None
        refs = [v if isinstance(v, str) and v.strip() else "" for v in values]
        vectors = _cached_vectors([r for r in refs if r], self.cache)
        missing = [r for r in dict.fromkeys(refs) if r and r not in vectors]
        if missing and fetcher is not None:
            image_features(missing, fetcher, cache=self.cache, embedder=EMBEDDER)
            vectors.update(_cached_vectors(missing, self.cache))
        ok = np.array([r in vectors for r in refs], dtype=bool)
        X = np.zeros((n, len(basis.mean)), dtype=np.float32)
        if ok.any():
            raw = np.stack([vectors[r] for r, good in zip(refs, ok, strict=True) if good])
            X[ok] = ((raw.astype(np.float64) - basis.mean) / basis.scale).astype(np.float32)
        return X, ok

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
        X, ok = self.features(values, found, fetcher)
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
