"""The default classifiers behind :mod:`ls_cleanlab.model`, and the handling of user models.

Both default classifiers are scikit-learn ``LogisticRegression`` (lbfgs, fixed ``C``, so
deterministic) wrapped to return one column per class even when a training set lacks a class:
such a class gets a Laplace-smoothed constant prior instead of a crash.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression

from ls_cleanlab.errors import InvalidOptionError, InvalidPredProbsError

__all__ = [
    "DENSE_C",
    "SPARSE_C",
    "OneVsRestLogistic",
    "ProbabilisticClassifier",
    "SoftmaxLogistic",
    "checked_proba",
    "model_factory",
    "one_blas_thread",
]

#: Inverse ridge strength of the default logistic regressions per unit of row energy: the C
#: actually used is ``C / mean(||x||**2)`` over the training rows, so the penalty follows the
#: scale and the number of the features. The prior on a row's score ``x @ w`` then has the same
#: spread whether a row holds 100 or 2,500 standardized numbers (``||x||**2`` is about D), or is
#: a TF-IDF vector of norm 1. Out-of-sample macro AUROC, 5 stratified folds, by the effective C:
#:   dense standardized, C = 0.003 / 0.01 / 0.03 / 0.1 / 1 / 10:
#:     yeast (2417x103, K=14): 0.6946 / 0.6950 / 0.6910 / 0.6860 / 0.6809 / 0.6791
#:     scene (2407x294, K=6):  0.9318 / 0.9311 / 0.9268 / 0.9186 / 0.8990 / 0.8845
#:   CIFAR-10N mosaics (5000x2519 image descriptors, K=10, noisy labels vs the truth),
#:     C = 0.0004 / 0.0008 / 0.01: 0.7790 / 0.7833 / 0.7583 (and 37 s against 66 s to fit)
#:   sparse TF-IDF (||x|| = 1), C = 0.1 / 1 / 10 / 30 / 100:
#:     medical (978x1449, K=45): 0.9308 / 0.9730 / 0.9805 / 0.9801 / 0.9779
#:     enron (1702x1001, K=53):  0.7301 / 0.7704 / 0.7725 / 0.7660 / 0.7618
#: Per unit of row energy the dense optimum sits near 1-3 across a 25-fold range of D (yeast
#: 0.01 x 103, scene 0.003-0.01 x 294, mosaics 0.0008 x 2519) and the sparse one near 10-30:
#: DENSE_C = 2 and SPARSE_C = 10 are the best or within 0.003 of it everywhere. Stronger
#: penalties also converge in fewer lbfgs iterations.
DENSE_C = 2.0
SPARSE_C = 10.0
#: lbfgs iterations; at the default C it converges well before this.
MAX_ITER = 500


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread while a model is fitted or predicts.

    BLAS threads split some sums (lbfgs's gradients, a matrix-vector product) differently by
    their number, so the same fit on 1 and 2 threads differs in the last bits and the iterates
    drift apart. A Dask worker runs one BLAS thread; fitting and predicting with one everywhere
    makes the probabilities the same on every engine. The default one-vs-rest model fits its
    classes in threads, so the cores stay busy. The limit is process-wide, so it is counted:
    set by the first of concurrent fits (a pool's threads, a worker's) and lifted by the last,
    never in the middle of another's.
    """
    from threadpoolctl import threadpool_limits

    global _LIMITER, _USERS
    with _BLAS_LOCK:
        if _USERS == 0:
            _LIMITER = threadpool_limits(limits=1, user_api="blas")
        _USERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _USERS -= 1
            if _USERS == 0 and _LIMITER is not None:
                _LIMITER.restore_original_limits()
                _LIMITER = None


_BLAS_LOCK = threading.Lock()
_USERS = 0  # fits inside one_blas_thread now
_LIMITER: Any = None


@runtime_checkable
class ProbabilisticClassifier(Protocol):
    """What a user model must do: learn from ``(X, Y)`` and predict per-class probabilities.

    ``Y`` is an ``(n, K)`` 0/1 int matrix for multi-label data and ``(n,)`` class indices for
    single-label data; ``predict_proba`` returns ``(n, K)`` probabilities in [0, 1] (rows
    summing to 1 for single-label data). A list of ``K`` arrays of shape ``(n, 2)``, as
    scikit-learn's multi-output estimators return, is accepted too.
    """

    def fit(self, X: Any, Y: Any) -> Any: ...

    def predict_proba(self, X: Any) -> Any: ...


def _logistic(C: float | None, X: Any) -> LogisticRegression:
    """Logistic regression with inverse penalty ``C / mean(||x||**2)``; ``C=None`` is
    :data:`SPARSE_C` when at most a tenth of the entries are non-zero (TF-IDF, bags of words,
    whether stored sparse or dense), else :data:`DENSE_C`."""
    values = (X.data if sp.issparse(X) else np.asarray(X)).ravel()
    energy = float(np.dot(values, values)) / max(X.shape[0], 1)
    density = np.count_nonzero(values) / max(X.shape[0] * X.shape[1], 1)
    base = (SPARSE_C if density <= 0.1 else DENSE_C) if C is None else C
    scaled = base / energy if energy > 0 else base
    return LogisticRegression(C=scaled, solver="lbfgs", max_iter=MAX_ITER, tol=1e-4)


def _fit_classes(
    template: LogisticRegression, X: Any, y: np.ndarray, weight: np.ndarray | None
) -> LogisticRegression:
    """``template`` fitted on ``(X, y)`` weighted by ``weight`` (None: all 1).

    scikit-learn warns that ``y`` may be a regression target when more than half of over 20
    rows have a class of their own; many classes on few tasks are still classes. Such a fit is
    run on the rows twice at half weight: the same weighted likelihood and penalty (scikit-learn
    scales both by the total weight), so the same optimum, with the warning's condition false.
    Silencing the warning with ``warnings.catch_warnings`` would swap the filters of every
    thread (the server fits in threads) and could drop or leak another thread's warnings.
    """
    n = len(y)
    if n <= 20 or len(np.unique(y)) <= round(0.5 * n):
        return template.fit(X, y) if weight is None else template.fit(X, y, sample_weight=weight)
    half = np.full(n, 0.5) if weight is None else np.asarray(weight, dtype=np.float64) / 2
    twice = sp.vstack([X, X], format="csr") if sp.issparse(X) else np.concatenate([X, X])
    return template.fit(twice, np.concatenate([y, y]), sample_weight=np.concatenate([half, half]))


class OneVsRestLogistic:
    """One binary logistic regression per class (multi-label).

    A class that is all 0 or all 1 in the training set is predicted as the constant
    ``(positives + 1) / (n + 2)``. The classes are fitted in ``n_jobs`` threads (default: one
    per CPU).
    """

    def __init__(self, *, C: float | None = None, n_jobs: int | None = None) -> None:
        self.C = C
        self.n_jobs = n_jobs

    def fit(
        self, X: Any, Y: np.ndarray, cell_weight: np.ndarray | None = None
    ) -> OneVsRestLogistic:
        """Fit one regression per class; ``cell_weight`` (N, K), optional, weighs each row in
        each class's fit (0 leaves the row out of that class: a cell whose label is doubted)."""
        Y = np.asarray(Y)
        n, k = Y.shape
        kept = np.ones((n, k), dtype=bool) if cell_weight is None else cell_weight > 0
        positives = (Y * kept).sum(axis=0)
        counts = kept.sum(axis=0)
        self.priors_ = (positives + 1.0) / (counts + 2.0)
        template = _logistic(self.C, X)

        def fit_one(c: int) -> LogisticRegression | None:
            if positives[c] == 0 or positives[c] == counts[c]:
                return None
            if cell_weight is None:
                return clone(template).fit(X, Y[:, c])
            rows = np.flatnonzero(kept[:, c])
            return clone(template).fit(X[rows], Y[rows, c], sample_weight=cell_weight[rows, c])

        # The K fits are independent and spend their time in BLAS, which releases the GIL:
        # threads use every core without copying X. Each fit is deterministic on its own.
        workers = min(k, self.n_jobs or os.cpu_count() or 1)
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                self.estimators_: list[LogisticRegression | None] = list(
                    pool.map(fit_one, range(k))
                )
        else:
            self.estimators_ = [fit_one(c) for c in range(k)]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        out = np.empty((X.shape[0], len(self.estimators_)), dtype=np.float64)
        for c, est in enumerate(self.estimators_):
            out[:, c] = self.priors_[c] if est is None else est.predict_proba(X)[:, 1]
        return out


class SoftmaxLogistic:
    """Multinomial logistic regression over ``n_classes`` classes (single-label).

    Classes absent from the training set get the constant ``1 / (n + K)`` (Laplace-smoothed
    prior); the present classes share the rest, so rows still sum to 1.
    """

    def __init__(self, *, n_classes: int, C: float | None = None) -> None:
        self.n_classes = n_classes
        self.C = C

    def fit(
        self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> SoftmaxLogistic:
        """Fit on ``(X, y)``; ``sample_weight`` (N,), optional, weighs the rows (0 leaves a row
        out: a label that is doubted)."""
        y = np.asarray(y)
        rows = np.arange(len(y)) if sample_weight is None else np.flatnonzero(sample_weight > 0)
        counts = np.bincount(y[rows], minlength=self.n_classes)
        self.priors_ = (counts + 1.0) / (len(rows) + self.n_classes)
        self.present_ = np.flatnonzero(counts)
        self.estimator_ = None
        if len(self.present_) > 1:
            template = _logistic(self.C, X)
            if sample_weight is None:
                self.estimator_ = _fit_classes(template, X, y, None)
            else:
                w = sample_weight[rows]
                self.estimator_ = _fit_classes(template, X[rows], y[rows], w)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        n = X.shape[0]
        if self.estimator_ is None:
            return np.tile(self.priors_, (n, 1))
        absent = np.ones(self.n_classes, dtype=np.bool_)
        absent[self.present_] = False
        out = np.tile(np.where(absent, self.priors_, 0.0), (n, 1))
        out[:, self.present_] = self.estimator_.predict_proba(X) * (1.0 - out[0].sum())
        return out


def model_factory(
    model: Any, *, multi_label: bool, n_classes: int
) -> Callable[[], ProbabilisticClassifier]:
    """A zero-argument function returning a fresh, unfitted model for each fold.

    ``None`` gives the default logistic regression; a class or other zero-argument callable is
    called; an instance is cloned (``sklearn.base.clone`` for scikit-learn estimators, else
    ``copy.deepcopy``) so the caller's object is never fitted or mutated.
    """
    if model is None:
        if multi_label:
            return OneVsRestLogistic
        return lambda: SoftmaxLogistic(n_classes=n_classes)
    if isinstance(model, ProbabilisticClassifier) and not isinstance(model, type):
        if isinstance(model, BaseEstimator):
            return lambda: clone(model)
        return lambda: copy.deepcopy(model)
    if callable(model):

        def build() -> ProbabilisticClassifier:
            made = model()
            if not isinstance(made, ProbabilisticClassifier):
                raise InvalidOptionError(
                    f"model factory {_name(model)} returned {type(made).__name__}, which lacks "
                    "fit(X, Y) or predict_proba(X)."
                )
            return made

        return build
    raise InvalidOptionError(
        f"model must be None, a zero-argument factory, or an object with fit(X, Y) and "
        f"predict_proba(X); got {type(model).__name__}."
    )


def _name(model: Any) -> str:
    return getattr(model, "__qualname__", None) or type(model).__name__


def checked_proba(model: Any, X: Any, *, n_classes: int, multi_label: bool) -> np.ndarray:
    """``model.predict_proba(X)`` as a float64 ``(n, K)`` array, or a clear error naming the
    model when the output has the wrong shape, is not finite, or leaves [0, 1]."""
    name = type(model).__name__
    n = X.shape[0]
    out = model.predict_proba(X)
    if isinstance(out, list):  # scikit-learn multi-output: K arrays of (n, 2) (or (n, 1))
        out = _stack_multi_output(model, out)
    out = np.asarray(out, dtype=np.float64)
    classes = getattr(model, "classes_", None)
    if not multi_label and out.ndim == 2 and out.shape[1] < n_classes and classes is not None:
        full = np.zeros((n, n_classes))  # a fold lacked classes: scatter to their columns
        full[:, np.asarray(classes, dtype=np.intp)] = out
        out = full
    if out.shape != (n, n_classes):
        raise InvalidPredProbsError(
            f"{name}.predict_proba returned shape {out.shape}; expected ({n}, {n_classes}), "
            "one column per class."
        )
    if not np.isfinite(out).all():
        raise InvalidPredProbsError(f"{name}.predict_proba returned NaN or infinite values.")
    if out.min() < 0 or out.max() > 1:
        raise InvalidPredProbsError(
            f"{name}.predict_proba returned values outside [0, 1] (min {out.min():.6g}, max "
            f"{out.max():.6g}); return probabilities, not scores."
        )
    if not multi_label and np.abs(out.sum(axis=1) - 1).max() > 1e-3:
        raise InvalidPredProbsError(
            f"{name}.predict_proba rows must sum to 1 for single-label data."
        )
    return out


def _stack_multi_output(model: Any, parts: list[Any]) -> np.ndarray:
    classes = getattr(model, "classes_", None)
    columns: list[np.ndarray] = []
    for c, part in enumerate(parts):
        part = np.asarray(part, dtype=np.float64)
        if part.ndim == 2 and part.shape[1] == 1 and isinstance(classes, list):
            columns.append(np.full(len(part), float(np.asarray(classes[c])[0] == 1)))
        else:
            columns.append(part[:, -1] if part.ndim == 2 else part.ravel())
    return np.column_stack(columns)
