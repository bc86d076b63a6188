"""The final model: fitted on every labelled task, with per-class thresholds, saved and loaded.

Pre-annotations need a model fitted on every labelled row plus per-class decision thresholds:
:func:`train_model` returns a :class:`TrainedModel` whose thresholds maximize each class's F1 on
the out-of-sample probabilities (:func:`~ls_cleanlab.model.cross_val.best_f1_thresholds`). The
model keeps what turned raw task data into its features (``encoder``, ``extractor``), so new
tasks are encoded exactly like the training set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import sklearn

from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError, warn_user
from ls_cleanlab.model import persist as _persist
from ls_cleanlab.model.classifiers import checked_proba, model_factory, one_blas_thread
from ls_cleanlab.model.cross_val import best_f1_thresholds, out_of_sample_probs, targets
from ls_cleanlab.model.inputs import as_features, as_label_matrix, dense_rows
from ls_cleanlab.model.persist import ModelFileError
from ls_cleanlab.ondisk import DiskArray

__all__ = ["Preannotations", "TrainedModel", "train_model"]


@dataclass(frozen=True, eq=False)
class Preannotations:
    """Predictions of a :class:`TrainedModel` for ``n`` tasks.

    Attributes
    ----------
    probs : ndarray of float64, shape (n, K)
        Predicted probabilities.
    chosen : ndarray of int8, shape (n, K)
        Suggested labels. Multi-label: ``probs >= thresholds``; a task where no class passes
        its threshold gets no label (an empty suggestion, not a forced guess). Single-label:
        the one-hot argmax.
    scores : ndarray of float64, shape (n,)
        Task-level confidence in [0, 1]. Multi-label: the mean over classes of
        ``max(p, 1 - p)`` (in [0.5, 1]; 1 when the model is sure of every class).
        Single-label: the largest probability.
    """

    probs: np.ndarray
    chosen: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A classifier fitted on all labelled tasks, with its per-class thresholds.

    Attributes
    ----------
    model : ProbabilisticClassifier
        The fitted model.
    thresholds : ndarray of float64, shape (K,)
        Per-class thresholds from :func:`best_f1_thresholds` (used when multi-label).
    class_names : tuple of str
        The ``K`` class names, in column order.
    multi_label : bool
    n_train : int
        Number of rows the model was fitted on.
    feature_dim : int
        Number of feature columns ``D`` the model expects.
    created_at : str
        ISO 8601 UTC time of training.
    encoder : optional
        How the training features were encoded (``FeatureSet.encoder``: the standardization or
        the fitted TF-IDF). Encode new tasks with it (``task_features(..., encoder=...)``) so
        :meth:`predict` sees the same columns on the same scale.
    extractor : optional
        Which feature source made the training features, with its parameters
        (``FeatureSet.extractor``); new tasks must come from the same one. None for models saved
        before it was recorded.
    """

    model: Any
    thresholds: np.ndarray
    class_names: tuple[str, ...]
    multi_label: bool
    n_train: int
    feature_dim: int
    created_at: str
    encoder: Any = None
    extractor: Any = None

    def predict(self, features: Any) -> Preannotations:
        """Pre-annotations for an ``(n, D)`` feature matrix (dense, sparse, or a
        :class:`~ls_cleanlab.ondisk.DiskArray`, predicted one chunk at a time)."""
        X = as_features(features)
        if X.shape[1] != self.feature_dim:
            raise InvalidOptionError(
                f"features have {X.shape[1]} columns but the model was trained on "
                f"{self.feature_dim}; compute features the same way, or retrain."
            )
        k = len(self.class_names)
        with one_blas_thread():  # the same sums here and on a Dask worker
            if isinstance(X, DiskArray):
                parts = [
                    checked_proba(self.model, dense_rows(X, np.arange(start, stop)), n_classes=k,
                                  multi_label=self.multi_label)
                    for start, stop in X.chunks()
                ]  # fmt: skip
                probs = np.concatenate(parts) if parts else np.zeros((0, k))
            else:
                probs = checked_proba(self.model, X, n_classes=k, multi_label=self.multi_label)
        if self.multi_label:
            chosen = (probs >= self.thresholds[None, :]).astype(np.int8)
            scores = np.maximum(probs, 1.0 - probs).mean(axis=1)
        else:
            chosen = np.zeros(probs.shape, dtype=np.int8)
            chosen[np.arange(len(probs)), np.argmax(probs, axis=1)] = 1
            scores = probs.max(axis=1)
        return Preannotations(probs=probs, chosen=chosen, scores=np.clip(scores, 0.0, 1.0))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` atomically, in a versioned joblib format."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["sklearn_version"] = sklearn.__version__
        _persist.dump(fields, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainedModel:
        """Read a model written by :meth:`save`; :class:`ModelFileError` if it cannot be used.

        Only load files you wrote: loading unpickles, which can run code from the file.
        """
        fields = dict(_persist.load(path))
        saved_with = fields.pop("sklearn_version", None)
        if saved_with != sklearn.__version__:
            warn_user(
                f"model {str(path)!r} was saved with scikit-learn {saved_with}, this is "
                f"{sklearn.__version__}; predictions may differ. Retrain to be safe."
            )
        try:
            return cls(**fields)
        except TypeError as exc:
            raise ModelFileError(f"{str(path)!r} does not hold a TrainedModel: {exc}") from exc


def train_model(
    features: Any,
    labels: Any,
    *,
    class_names: tuple[str, ...] | list[str],
    oos_probs: Any = None,
    n_folds: int = 5,
    seed: int = 0,
    model: Any = None,
    encoder: Any = None,
    extractor: Any = None,
    fitted: Any = None,
) -> TrainedModel:
    """Fit a model on all labelled rows and choose per-class F1-optimal thresholds.

    Parameters
    ----------
    features : ndarray or scipy.sparse matrix, shape (N, D)
    labels : ndarray, shape (N, K) with 0/1 entries, or (N,) of class indices
    class_names : sequence of str, length K
    oos_probs : ndarray, shape (N, K), optional
        Out-of-sample probabilities for the thresholds; computed with
        :func:`out_of_sample_probs` (``n_folds``, ``seed``, ``model``) when omitted.
    model : None, ProbabilisticClassifier, or zero-argument factory, optional
        As in :func:`out_of_sample_probs`; the final model is a fresh clone.
    encoder, extractor : optional
        The features' encoder and extractor (``FeatureSet.encoder``, ``FeatureSet.extractor``),
        kept with the model so new tasks are encoded like its training set.
    fitted : optional
        The final model, already fitted on these rows (e.g. by
        :func:`~ls_cleanlab.model.cross_val.fit_model` as an executor task, beside the folds).
    """
    names = tuple(str(c) for c in class_names)
    k = len(names)
    matrix, multi_label = as_label_matrix(labels, None if np.ndim(labels) == 2 else k)
    if matrix.shape[1] != k:
        raise InvalidLabelsError(f"labels have {matrix.shape[1]} classes but {k} class_names.")
    n = len(matrix)
    if n < 2:
        raise InvalidLabelsError(f"need at least 2 labelled rows, got {n}.")
    X = as_features(features, n)
    if oos_probs is None:
        oos_probs = out_of_sample_probs(
            X, labels, n_folds=n_folds, seed=seed, model=model, n_classes=k, class_names=names
        )
    if fitted is None:
        fitted = model_factory(model, multi_label=multi_label, n_classes=k)()
        with one_blas_thread():
            fitted.fit(dense_rows(X), targets(matrix, multi_label))
    return TrainedModel(
        model=fitted,
        thresholds=best_f1_thresholds(matrix, oos_probs),
        class_names=names,
        multi_label=multi_label,
        n_train=n,
        feature_dim=X.shape[1],
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        encoder=encoder,
        extractor=extractor,
    )
