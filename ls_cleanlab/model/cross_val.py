"""Out-of-sample probabilities by cross-validation, and per-class F1-optimal thresholds.

Confident learning needs predicted probabilities for each labelled task from a model that never
saw that task's label: :func:`out_of_sample_probs` splits the rows into stratified folds
(:func:`~ls_cleanlab.model.folds.stratified_folds`), fits on all folds but one and predicts the one
left out. The default classifier is logistic regression (scikit-learn, lbfgs): one-vs-rest for
multi-label data, multinomial for single-label data; see :mod:`ls_cleanlab.model.classifiers` for
its regularization and how it treats classes missing from a training fold.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError
from ls_cleanlab.model.classifiers import checked_proba, model_factory, one_blas_thread
from ls_cleanlab.model.folds import stratified_folds
from ls_cleanlab.model.inputs import (
    as_features,
    as_label_matrix,
    check_folds,
    check_n_folds,
    dense_rows,
    warn_rare,
)

__all__ = [
    "Targets",
    "best_f1_thresholds",
    "fit_fold",
    "fit_model",
    "out_of_sample_probs",
    "targets",
]

Progress = Callable[[int, int], Any]


def targets(matrix: np.ndarray, multi_label: bool) -> np.ndarray:
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
    executor: Executor | None = None,
) -> np.ndarray:
    """Cross-validated predicted probabilities: each row predicted by a model fit without it.

    Parameters
    ----------
    features : ndarray, scipy.sparse matrix or DiskArray, shape (N, D)
        Finite features of the labelled tasks, standardized (or TF-IDF). A
        :class:`~ls_cleanlab.ondisk.DiskArray` stays on disk: each fold reads its rows where it
        runs.
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
    executor : concurrent.futures.Executor, optional
        Fit the folds as tasks of this executor (threads, processes, a cluster); default one
        after another in this process. The result does not depend on it.

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
    return _cross_predict(X, matrix, multi_label, fold_of, fold_ids, model, progress, executor)


def _cross_predict(
    X: Any,
    matrix: np.ndarray,
    multi_label: bool,
    fold_of: np.ndarray,
    fold_ids: np.ndarray,
    model: Any,
    progress: Progress | None,
    executor: Executor | None,
) -> np.ndarray:
    n, k = matrix.shape
    probs = np.empty((n, k), dtype=np.float64)
    tests = [np.flatnonzero(fold_of == fold) for fold in fold_ids]
    # what each task carries is small: the labels packed to bits, fold ids in the narrowest
    # integer type, and the features themselves only when they are in memory (a DiskArray
    # pickles as its path: the fold reads its rows where it runs)
    labels = Targets.pack(matrix, multi_label)
    folds = fold_of.astype(np.min_scalar_type(int(fold_of.max())))
    jobs = [(X, labels, folds, int(fold), model) for fold in fold_ids]
    if executor is None:
        results: Any = (fit_fold(*job) for job in jobs)
    else:
        results = executor.map(fit_fold, *zip(*jobs, strict=True))
    for done, (test, fold_probs) in enumerate(zip(tests, results, strict=True), start=1):
        probs[test] = fold_probs
        if progress is not None:
            progress(done, len(fold_ids))
    return probs


@dataclass(frozen=True, eq=False)
class Targets:
    """Training labels, compact enough to travel with every task: multi-label ``(N, K)`` 0/1
    packed to bits, single-label class indices as int32."""

    packed: np.ndarray
    n_classes: int
    multi_label: bool

    @classmethod
    def pack(cls, matrix: np.ndarray, multi_label: bool) -> Targets:
        """From a validated ``(N, K)`` boolean label matrix."""
        if multi_label:
            return cls(np.packbits(matrix, axis=1), matrix.shape[1], True)
        return cls(np.argmax(matrix, axis=1).astype(np.int32), matrix.shape[1], False)

    def values(self, rows: np.ndarray | None = None) -> np.ndarray:
        """What a classifier is fitted on (:func:`targets`): an int64 ``(n, K)`` 0/1 matrix or
        ``(n,)`` class indices, for ``rows`` (all by default)."""
        packed = self.packed if rows is None else self.packed[rows]
        if self.multi_label:
            bits = np.unpackbits(packed, axis=1, count=self.n_classes)
            return bits.astype(np.int64)
        return packed.astype(np.int64)


def fit_fold(X: Any, labels: Targets, folds: np.ndarray, fold: int, model: Any) -> np.ndarray:
    """Fit a fresh model on the rows outside ``fold`` and return its probabilities for the rows
    in it, ``(rows in fold, K)``: one fold of :func:`out_of_sample_probs`, as one executor
    task. ``X`` on disk is read here, the training rows as float64."""
    train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
    k, multi_label = labels.n_classes, labels.multi_label
    fitted = model_factory(model, multi_label=multi_label, n_classes=k)()
    with one_blas_thread():
        fitted.fit(dense_rows(X, train), labels.values(train))
        return checked_proba(fitted, dense_rows(X, test), n_classes=k, multi_label=multi_label)


def fit_model(X: Any, labels: Targets, model: Any) -> Any:
    """A fresh model fitted on every row (the final model of :func:`~ls_cleanlab.model.
    train_model`), as one executor task; ``X`` on disk is read here."""
    fitted = model_factory(model, multi_label=labels.multi_label, n_classes=labels.n_classes)()
    with one_blas_thread():
        fitted.fit(dense_rows(X), labels.values())
    return fitted


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
    out = np.full(probs.shape[1], np.inf)
    kept = np.arange(1, len(probs) + 1)
    for c in range(probs.shape[1]):  # a class at a time: temporaries of N, not of (N, K)
        order = np.argsort(-probs[:, c], kind="stable")
        ranked = probs[order, c]  # descending
        true_pos = np.cumsum(matrix[order, c])
        positives = true_pos[-1] if len(true_pos) else 0
        if positives <= 0:
            continue
        f1 = 2.0 * true_pos / (kept + positives)
        last_of_run = np.ones(len(ranked), dtype=np.bool_)  # a cut point keeps all tied rows
        last_of_run[:-1] = ranked[:-1] != ranked[1:]
        f1[~last_of_run] = -1.0
        out[c] = ranked[np.argmax(f1)]  # first maximum = highest threshold
    return out
