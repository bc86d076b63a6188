"""Default classifier, cross-validated out-of-sample probabilities, thresholds, saved models.

Confident learning needs predicted probabilities for each labelled task from a model that never
saw that task's label: :func:`out_of_sample_probs` splits the rows into stratified folds
(:func:`stratified_folds`), fits on all folds but one and predicts the one left out. Pre-
annotations need a model fitted on every labelled row plus per-class decision thresholds:
:func:`train_model` returns a :class:`TrainedModel` whose thresholds maximize each class's F1 on
the out-of-sample probabilities (:func:`best_f1_thresholds`); :class:`ModelStore` keeps trained
models per Label Studio project and model version.

The default classifier is logistic regression (scikit-learn, lbfgs): one-vs-rest for
multi-label data, multinomial for single-label data; see :mod:`ls_cleanlab._classifiers` for its
regularization and how it treats classes missing from a training fold.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from ls_cleanlab import _persist
from ls_cleanlab._classifiers import ProbabilisticClassifier, checked_proba, model_factory
from ls_cleanlab._folds import stratified_folds
from ls_cleanlab._model_inputs import (
    as_features,
    as_label_matrix,
    check_folds,
    check_n_folds,
    warn_rare,
)
from ls_cleanlab._persist import ModelFileError
from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError, warn_user

__all__ = [
    "ModelFileError",
    "ModelStore",
    "Preannotations",
    "ProbabilisticClassifier",
    "TrainedModel",
    "best_f1_thresholds",
    "out_of_sample_probs",
    "stratified_folds",
    "train_model",
]

Progress = Callable[[int, int], Any]


def _targets(matrix: np.ndarray, multi_label: bool) -> np.ndarray:
    return matrix.astype(np.int64) if multi_label else np.argmax(matrix, axis=1)


def out_of_sample_probs(
    features: Any,
    labels: Any,
    *,
    n_folds: int = 5,
    seed: int = 0,
    model: Any = None,
    folds: Any = None,
    progress: Progress | None = None,
    n_classes: int | None = None,
    class_names: tuple[str, ...] | None = None,
) -> np.ndarray:
    """Cross-validated predicted probabilities: each row predicted by a model fit without it.

    Parameters
    ----------
    features : ndarray or scipy.sparse matrix, shape (N, D)
        Finite features of the labelled tasks, standardized (or TF-IDF).
    labels : ndarray, shape (N, K) with 0/1 entries, or (N,) of class indices
        ``(N, K)`` is multi-label (one-vs-rest); ``(N,)`` is single-label (multinomial).
    n_folds : int, default 5
        Number of stratified folds, in ``[2, N]``; ignored when ``folds`` is given.
    seed : int, default 0
        Seed of :func:`stratified_folds`; ignored when ``folds`` is given.
    model : None, ProbabilisticClassifier, or zero-argument factory, optional
        ``None`` for the default logistic regression. An instance is cloned for every fold and
        never fitted itself.
    folds : ndarray of int, shape (N,), optional
        Fold id of each row (e.g. from :func:`stratified_folds`).
    progress : callable(done, total), optional
        Called after each fold.
    n_classes : int, optional
        Number of classes of single-label data; default ``max(labels) + 1``.
    class_names : tuple of str, optional
        Used only to name classes in warnings.

    Returns
    -------
    probs : ndarray of float64, shape (N, K)
        Probabilities in [0, 1]; single-label rows sum to 1.

    Warns
    -----
    UserWarning
        Once, naming the classes with fewer than ``n_folds`` positive (or negative) rows.
    """
    matrix, multi_label = as_label_matrix(labels, n_classes)
    n = len(matrix)
    if n < 2:
        raise InvalidLabelsError(f"need at least 2 labelled rows, got {n}.")
    X = as_features(features, n)
    if folds is None:
        n_folds = check_n_folds(n_folds, n)
        fold_of = stratified_folds(matrix, n_folds=n_folds, seed=seed)
    else:
        fold_of = check_folds(folds, n)
    fold_ids = np.unique(fold_of)
    warn_rare(matrix, len(fold_ids), class_names)
    return _cross_predict(X, matrix, multi_label, fold_of, fold_ids, model, progress)


def _cross_predict(
    X: Any,
    matrix: np.ndarray,
    multi_label: bool,
    fold_of: np.ndarray,
    fold_ids: np.ndarray,
    model: Any,
    progress: Progress | None,
) -> np.ndarray:
    n, k = matrix.shape
    make = model_factory(model, multi_label=multi_label, n_classes=k)
    target = _targets(matrix, multi_label)
    probs = np.empty((n, k), dtype=np.float64)
    for done, fold in enumerate(fold_ids, start=1):
        test = np.flatnonzero(fold_of == fold)
        train = np.flatnonzero(fold_of != fold)
        fitted = make()
        fitted.fit(X[train], target[train])
        probs[test] = checked_proba(fitted, X[test], n_classes=k, multi_label=multi_label)
        if progress is not None:
            progress(done, len(fold_ids))
    return probs


def best_f1_thresholds(labels: Any, probs: Any) -> np.ndarray:
    """Per-class threshold ``t`` maximizing the F1 of predicting ``probs >= t``.

    Every distinct probability of a class is a candidate cut point (exact; one sort per
    class). F1 at a cut keeping the ``j`` highest rows is ``2 TP_j / (j + P)``; among equal F1
    the higher threshold wins.

    Parameters
    ----------
    labels : ndarray, shape (N, K) with 0/1 entries, or (N,) of class indices
    probs : ndarray, shape (N, K)
        Out-of-sample probabilities.

    Returns
    -------
    thresholds : ndarray of float64, shape (K,)
        ``np.inf`` for a class with no positive row (never predicted).
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or not np.isfinite(probs).all():
        raise InvalidOptionError(f"probs must be a finite (N, K) array, got shape {probs.shape}.")
    matrix, _ = as_label_matrix(labels, probs.shape[1] if np.ndim(labels) == 1 else None)
    if matrix.shape != probs.shape:
        raise InvalidLabelsError(
            f"labels give shape {matrix.shape} but probs has shape {probs.shape}."
        )
    order = np.argsort(-probs, axis=0, kind="stable")
    ranked = np.take_along_axis(probs, order, axis=0)  # (N, K), descending per column
    true_pos = np.cumsum(np.take_along_axis(matrix, order, axis=0), axis=0)
    positives = true_pos[-1]
    kept = np.arange(1, len(probs) + 1)[:, None]
    f1 = 2.0 * true_pos / (kept + positives[None, :])
    last_of_run = np.ones_like(ranked, dtype=np.bool_)  # a cut point keeps all tied rows
    last_of_run[:-1] = ranked[:-1] != ranked[1:]
    f1[~last_of_run] = -1.0
    best = np.argmax(f1, axis=0)  # first maximum = highest threshold
    thresholds = ranked[best, np.arange(probs.shape[1])]
    return np.where(positives > 0, thresholds, np.inf)


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
    """

    model: Any
    thresholds: np.ndarray
    class_names: tuple[str, ...]
    multi_label: bool
    n_train: int
    feature_dim: int
    created_at: str
    encoder: Any = None

    def predict(self, features: Any) -> Preannotations:
        """Pre-annotations for an ``(n, D)`` feature matrix (dense or sparse)."""
        X = as_features(features)
        if X.shape[1] != self.feature_dim:
            raise InvalidOptionError(
                f"features have {X.shape[1]} columns but the model was trained on "
                f"{self.feature_dim}; compute features the same way, or retrain."
            )
        k = len(self.class_names)
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
    encoder : optional
        The features' encoder (``FeatureSet.encoder``), kept with the model for new tasks.
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
    fitted = model_factory(model, multi_label=multi_label, n_classes=k)()
    fitted.fit(X, _targets(matrix, multi_label))
    return TrainedModel(
        model=fitted,
        thresholds=best_f1_thresholds(matrix, oos_probs),
        class_names=names,
        multi_label=multi_label,
        n_train=n,
        feature_dim=X.shape[1],
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        encoder=encoder,
    )


class ModelStore:
    """Trained models per Label Studio project and model version, as files under ``root``:
    ``root/project-<id>/<model_version>.joblib``, each written atomically."""

    SUFFIX = ".joblib"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _dir(self, project: Any) -> Path:
        if isinstance(project, bool) or not isinstance(project, (int, np.integer)) or project < 0:
            raise InvalidOptionError(f"project must be a non-negative integer id, got {project!r}.")
        return self.root / f"project-{int(project)}"

    def save(self, project: int, model_version: str, trained: TrainedModel) -> Path:
        """Store ``trained`` as ``model_version`` of ``project``; return the file's path."""
        path = self._dir(project) / (_persist.check_version_name(model_version) + self.SUFFIX)
        trained.save(path)
        return path

    def load(self, project: int, model_version: str) -> TrainedModel:
        """The model stored as ``model_version`` of ``project``; the error lists what exists."""
        path = self._dir(project) / (_persist.check_version_name(model_version) + self.SUFFIX)
        if not path.is_file():
            have = self.versions(project)
            raise ModelFileError(
                f"project {project} has no model version {model_version!r}; stored versions: "
                f"{', '.join(have) if have else 'none'}."
            )
        return TrainedModel.load(path)

    def versions(self, project: int) -> list[str]:
        """Model versions stored for ``project``, sorted by name."""
        folder = self._dir(project)
        if not folder.is_dir():
            return []
        return sorted(p.name[: -len(self.SUFFIX)] for p in folder.glob("*" + self.SUFFIX)
                      if not p.name.startswith("."))  # fmt: skip
