"""Validation of the inputs of :mod:`ls_cleanlab.model`, done once at the public edge: labels
as an ``(N, K)`` boolean matrix, features as float64 dense or CSR, fold ids and fold counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np
import scipy.sparse as sp

from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError, warn_user
from ls_cleanlab.ondisk import DiskArray
from ls_cleanlab.validation import check_int, check_zero_one, examples, named

__all__ = [
    "as_features",
    "as_label_matrix",
    "check_folds",
    "check_n_folds",
    "classes_shown",
    "dense_rows",
    "warn_rare",
]


def as_label_matrix(labels: Any, n_classes: int | None = None) -> tuple[np.ndarray, bool]:
    """Validate labels; return them as an ``(N, K)`` boolean matrix and whether multi-label.

    Parameters
    ----------
    labels : array_like of shape (N, K) with 0/1 entries, or (N,) of class indices
        A 2-D array is multi-label; a 1-D array holds single-label class indices ``0..K-1``.
    n_classes : int, optional
        Number of classes ``K`` of single-label data; inferred as ``max(labels) + 1`` when
        omitted. Must equal the number of columns when given with multi-label data.
    """
    try:
        arr = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise InvalidLabelsError(f"labels cannot be read as an array: {exc}") from exc
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise InvalidLabelsError(
            f"labels must be an (N, K) 0/1 matrix (multi-label) or (N,) class indices "
            f"(single-label) with N >= 1, got shape {arr.shape}."
        )
    if arr.dtype.kind not in "biuf":
        raise InvalidLabelsError(f"labels must hold numbers, got dtype {arr.dtype}.")
    if arr.ndim == 2:
        check_zero_one(arr)
        if arr.shape[1] == 0 or (n_classes is not None and n_classes != arr.shape[1]):
            raise InvalidLabelsError(
                f"labels has {arr.shape[1]} columns but n_classes={n_classes}; they must match "
                "and be at least 1."
            )
        return np.ascontiguousarray(arr == 1), True
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr)))
    if len(bad):
        raise InvalidLabelsError(
            f"single-label labels must be class indices 0..K-1; entries {examples(bad)} are "
            f"not (labels[{int(bad[0])}] = {arr[bad[0]].item()!r})."
        )
    idx = arr.astype(np.intp)
    k = int(idx.max()) + 1 if n_classes is None else n_classes
    k = check_int(k, "n_classes", low=2)
    over = np.flatnonzero(idx >= k)
    if len(over):
        raise InvalidLabelsError(
            f"labels must lie in 0..{k - 1} (n_classes={k}); entries {examples(over)} do not."
        )
    matrix = np.zeros((len(idx), int(k)), dtype=np.bool_)
    matrix[np.arange(len(idx)), idx] = True
    return matrix, False


def check_n_folds(n_folds: Any, n: int) -> int:
    """Return ``n_folds`` if it is an integer in ``[2, n]``, else raise naming the value."""
    n_folds = check_int(n_folds, "n_folds")
    if not 2 <= n_folds <= n:
        raise InvalidOptionError(
            f"n_folds={n_folds} must lie in [2, N] = [2, {n}] (N = number of labelled rows)."
        )
    return int(n_folds)


def as_features(features: Any, n: int | None = None) -> Any:
    """Validate features: a 2-D dense array, scipy sparse matrix or
    :class:`~ls_cleanlab.ondisk.DiskArray` of finite numbers with ``n`` rows; return a float64
    ndarray, a CSR matrix, or the DiskArray (checked one chunk at a time, left on disk)."""
    if isinstance(features, DiskArray):
        return _checked_on_disk(features, n)
    if sp.issparse(features):
        X = sp.csr_matrix(features, dtype=np.float64)
        values = X.data
    else:
        try:
            X = np.asarray(features, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidOptionError(f"features cannot be read as numbers: {exc}") from exc
        values = X
    if X.ndim != 2 or X.shape[1] == 0:
        raise InvalidOptionError(f"features must be 2-D (N, D) with D >= 1, got {X.shape}.")
    if not np.isfinite(values).all():
        _not_finite(np.unique(X.nonzero()[0][~np.isfinite(X.data)] if sp.issparse(X) else
                              np.flatnonzero(~np.isfinite(X).all(axis=1))))  # fmt: skip
    _check_rows(X.shape[0], n)
    return X


def _checked_on_disk(X: DiskArray, n: int | None) -> DiskArray:
    if X.shape[1] == 0:
        raise InvalidOptionError(f"features must be 2-D (N, D) with D >= 1, got {X.shape}.")
    for start, stop in X.chunks():
        finite = np.isfinite(X.take(slice(start, stop))).all(axis=1)
        if not finite.all():
            _not_finite(start + np.flatnonzero(~finite))
    _check_rows(X.shape[0], n)
    return X


def _not_finite(bad: np.ndarray) -> NoReturn:
    raise InvalidOptionError(
        f"features contain NaN or infinite values in rows {bad[:5].tolist()}"
        f"{' and more' if len(bad) > 5 else ''}; impute or drop them first."
    )


def _check_rows(rows: int, n: int | None) -> None:
    if n is not None and rows != n:
        raise InvalidLabelsError(
            f"features has {rows} rows but labels has {n}; they must match, one row per "
            "labelled task."
        )


def dense_rows(X: Any, rows: np.ndarray | None = None) -> Any:
    """The ``rows`` of validated features (all by default), in memory: float64 for a
    :class:`~ls_cleanlab.ondisk.DiskArray` (read here, e.g. on the worker running a fold), as
    they are otherwise."""
    if isinstance(X, DiskArray):
        return X.take(rows, dtype=np.float64)
    return X if rows is None else X[rows]


def check_folds(folds: Any, n: int) -> np.ndarray:
    arr = np.asarray(folds)
    if arr.shape != (n,) or arr.dtype.kind not in "iu":
        raise InvalidOptionError(
            f"folds must be (N,) = ({n},) integer fold ids, got shape {arr.shape} and dtype "
            f"{arr.dtype}."
        )
    if arr.min() < 0 or len(np.unique(arr)) < 2:
        raise InvalidOptionError("folds must be non-negative ids of at least 2 distinct folds.")
    return arr.astype(np.int64)


def classes_shown(classes: np.ndarray, names: Sequence[str] | None, limit: int = 5) -> str:
    """Classes ``classes`` (indices) for a message: their ``names`` quoted when given
    (:func:`~ls_cleanlab.validation.named`), else their indices."""
    if names:
        return named([names[c] for c in classes.tolist()], limit)
    return examples(classes, limit)


def warn_rare(matrix: np.ndarray, n_folds: int, names: tuple[str, ...] | None) -> None:
    """Warn of the classes of ``matrix`` ``(N, K)`` with fewer than ``n_folds`` positive (or
    negative) rows, by their ``names`` when given."""
    positives = matrix.sum(axis=0)
    rare = np.flatnonzero((positives < n_folds) | (len(matrix) - positives < n_folds))
    if len(rare):
        warn_user(
            f"classes {classes_shown(rare, names, limit=10)} have fewer than n_folds={n_folds} "
            "positive (or negative) rows; folds that lack them predict a smoothed prior for "
            "them, so their out-of-sample probabilities carry little information."
        )
