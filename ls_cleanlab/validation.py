"""Checks of user input shared by every layer, done once at the public edge.

Small named validators in the manner of scikit-learn's ``check_scalar``: each takes the value and
the argument's name, returns the value in its canonical type, and otherwise raises an
:class:`~ls_cleanlab.errors.InvalidOptionError` (options), :class:`InvalidLabelsError` (labels) or
:class:`InvalidPredProbsError` (probabilities) whose message names the argument, the bad value and
what is expected. Everything after these functions may assume valid input: ``pred_probs`` as a
C-contiguous float64 ``(N, K)`` array with finite values in [0, 1] (up to cleanlab's 1e-6
tolerance), single-label ``labels`` as an ``(N,)`` integer array in ``[0, K)``, multi-label
``labels`` as an ``(N, K)`` boolean matrix.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError, InvalidPredProbsError

__all__ = [
    "PROB_TOLERANCE",
    "ROW_SUM_TOLERANCE",
    "as_multilabel",
    "as_pred_probs",
    "as_single_labels",
    "check_bool",
    "check_int",
    "check_option",
    "check_real",
    "check_threshold",
    "check_zero_one",
    "examples",
    "labels_count",
    "named",
]

#: cleanlab accepts probabilities this far outside [0, 1] (floating-point slack).
PROB_TOLERANCE = 1e-6
#: Rows of single-label probabilities may miss 1 by this much (float32 softmax, rounding).
ROW_SUM_TOLERANCE = 1e-3

_T = TypeVar("_T", bound=str)


def check_option(value: Any, valid: Sequence[_T], name: str) -> _T:
    """Return ``value`` if it is one of ``valid``, else raise naming the valid choices."""
    if isinstance(value, str) and value in valid:
        return value  # type: ignore[return-value]
    choices = ", ".join(repr(v) for v in valid)
    raise InvalidOptionError(f"{name}={_shown(value)} is not supported; choose one of {choices}.")


def examples(rows: np.ndarray, limit: int = 5) -> str:
    """The first ``limit`` row numbers, for error messages ("3, 8 and 12 more")."""
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{shown}{more}"


def named(names: Sequence[str], limit: int = 5) -> str:
    """The first ``limit`` names quoted, for messages ("'cat', 'dog' and 12 more")."""
    shown = ", ".join(repr(str(name)) for name in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{shown}{more}"


def check_zero_one(arr: np.ndarray) -> None:
    """Raise :class:`InvalidLabelsError` naming the rows of a numeric matrix that are not 0/1."""
    valid = (arr == 0) | (arr == 1)
    if not valid.all():
        rows, cols = np.nonzero(~valid)
        raise InvalidLabelsError(
            f"multi-label labels must be 0 or 1; rows {examples(np.unique(rows))} are not "
            f"(labels[{int(rows[0])}, {int(cols[0])}] = {arr[rows[0], cols[0]].item()!r})."
        )


def as_pred_probs(pred_probs: Any, *, sum_to_one: bool) -> np.ndarray:
    """Validate predicted probabilities and return them as C-contiguous float64 ``(N, K)``.

    Parameters
    ----------
    pred_probs : array_like of shape (N, K)
    sum_to_one : bool
        Require each row to sum to 1 (single-label probabilities).
    """
    if pred_probs is None:
        raise InvalidPredProbsError("pred_probs is None; pass an (N, K) array of probabilities.")
    try:
        probs = np.asarray(pred_probs)
    except (TypeError, ValueError) as exc:
        raise InvalidPredProbsError(f"pred_probs cannot be read as an array: {exc}") from exc
    if probs.dtype.kind not in "biuf":
        raise InvalidPredProbsError(
            f"pred_probs must hold numbers, got an array of dtype {probs.dtype}."
        )
    if probs.ndim != 2:
        raise InvalidPredProbsError(
            f"pred_probs must be 2-D with shape (N, K), got shape {probs.shape}."
        )
    n, k = probs.shape
    if n == 0 or k == 0:
        raise InvalidPredProbsError(f"pred_probs is empty (shape {probs.shape}).")
    probs = np.ascontiguousarray(probs, dtype=np.float64)
    low, high = probs.min(), probs.max()  # NaN propagates through both
    if not (np.isfinite(low) and np.isfinite(high)):
        bad = np.flatnonzero(~np.isfinite(probs).all(axis=1))
        raise InvalidPredProbsError(
            f"pred_probs contains NaN or infinite values in rows {examples(bad)}."
        )
    if low < -PROB_TOLERANCE or high > 1 + PROB_TOLERANCE:
        bad = np.flatnonzero(((probs < -PROB_TOLERANCE) | (probs > 1 + PROB_TOLERANCE)).any(axis=1))
        raise InvalidPredProbsError(
            f"pred_probs must lie in [0, 1]; rows {examples(bad)} do not "
            f"(min {low:.6g}, max {high:.6g})."
        )
    if sum_to_one:
        sums = probs.sum(axis=1)
        bad = np.flatnonzero(np.abs(sums - 1.0) > ROW_SUM_TOLERANCE)
        if len(bad):
            raise InvalidPredProbsError(
                f"each row of single-label pred_probs must sum to 1, but rows {examples(bad)} "
                f"do not (row {int(bad[0])} sums to {sums[bad[0]]:.6g}). Pass softmax "
                "probabilities, or multi_label=True for independent per-class probabilities."
            )
    return probs


def as_single_labels(
    labels: Any, n: int | None, k: int, *, against: str = "pred_probs"
) -> np.ndarray:
    """Validate single-label ``labels``; return ``(N,)`` intp class indices in ``0..k-1``.

    ``n`` is the expected number of examples (``None``: any), ``k`` the number of classes, and
    ``against`` names the argument they come from, for error messages.
    """
    if labels is None:
        raise InvalidLabelsError("labels is None; pass one class index per example.")
    if hasattr(labels, "to_numpy"):  # pandas Series / single-column DataFrame
        labels = labels.to_numpy()
    labels_count(labels)
    try:
        arr = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise InvalidLabelsError(
            "labels must be one class index per example; for multi-label data pass "
            "multi_label=True."
        ) from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InvalidLabelsError(
            f"single-label labels must be 1-D, got shape {arr.shape}; for an (N, K) 0/1 "
            "matrix or lists of classes pass multi_label=True."
        )
    _check_count(len(arr), n, against)
    if arr.dtype.kind == "f":
        integral = _integral_mask(arr)
        if not integral.all():
            bad = np.flatnonzero(~integral)
            raise InvalidLabelsError(
                f"labels must be integer class indices; entries {examples(bad)} are not "
                f"(labels[{int(bad[0])}] = {arr[bad[0]].item()!r})."
            )
    elif arr.dtype.kind not in "biu":
        raise InvalidLabelsError(
            f"labels must be integer class indices 0..K-1, got values of dtype {arr.dtype} "
            "(map class names to indices first)."
        )
    bad = np.flatnonzero((arr < 0) | (arr >= k))
    if len(bad):
        raise InvalidLabelsError(
            f"labels must lie in 0..{k - 1} ({against} has {k} classes); entries "
            f"{examples(bad)} do not (labels[{int(bad[0])}] = {arr[bad[0]].item()!r})."
        )
    return arr.astype(np.intp)


def _check_count(got: int, n: int | None, against: str) -> None:
    if n is not None and got != n:
        raise InvalidLabelsError(
            f"labels has {got} entries but {against} has {n} rows; they must match."
        )


def as_multilabel(labels: Any, n: int | None, k: int, *, against: str = "pred_probs") -> np.ndarray:
    """Validate multi-label ``labels``; return an ``(N, K)`` boolean matrix.

    Accepts an ``(N, K)`` 0/1 array (or bool, or a DataFrame) or a sequence of N iterables of
    class indices, e.g. ``[[0, 2], [1], []]``; repeated indices within one example count once.
    A 0/1 matrix written as nested lists is refused as ambiguous (it would be read as class
    indices); pass it through ``np.asarray`` first.
    """
    if labels is None:
        raise InvalidLabelsError("labels is None; pass an (N, K) 0/1 matrix or lists of classes.")
    if hasattr(labels, "to_numpy") and getattr(labels, "ndim", 1) == 2:
        labels = labels.to_numpy()  # DataFrame of 0/1 columns
    if isinstance(labels, np.ndarray) and (labels.dtype != object or labels.ndim == 2):
        return _matrix_labels(labels, n, k, against)
    labels_count(labels)
    return _list_labels(list(labels), n, k, against)


def _matrix_labels(arr: np.ndarray, n: int | None, k: int, against: str) -> np.ndarray:
    if arr.ndim != 2:
        raise InvalidLabelsError(
            f"multi-label labels as an array must be an (N, K) 0/1 matrix, got shape "
            f"{arr.shape}; lists of class indices per example are accepted too."
        )
    if n is not None and arr.shape != (n, k):
        raise InvalidLabelsError(
            f"labels has shape {arr.shape} but {against} has shape {(n, k)}; they must match."
        )
    if arr.shape[1] != k:
        raise InvalidLabelsError(
            f"labels has {arr.shape[1]} columns but {against} has {k} classes; they must match."
        )
    if arr.dtype == np.bool_:
        return np.ascontiguousarray(arr)
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise InvalidLabelsError("labels must be a 0/1 matrix of numbers.") from None
    if arr.dtype.kind not in "iuf":
        raise InvalidLabelsError(f"labels must be a 0/1 matrix, got dtype {arr.dtype}.")
    check_zero_one(arr)
    return np.ascontiguousarray(arr == 1)


def _list_labels(items: list[Any], n: int | None, k: int, against: str) -> np.ndarray:
    _check_count(len(items), n, against)
    n = len(items)
    try:
        lengths = np.fromiter((len(x) for x in items), dtype=np.intp, count=n)
    except TypeError:
        i = next(i for i, x in enumerate(items) if not hasattr(x, "__len__"))
        raise InvalidLabelsError(
            f"multi-label labels must hold one list of class indices per example; "
            f"labels[{i}] is {items[i]!r}. Example: [[0, 2], [1], []]."
        ) from None
    try:
        flat = np.array(list(itertools.chain.from_iterable(items)))
    except (TypeError, ValueError):
        flat = np.array([], dtype=object)  # ragged or nested: found below
    if flat.ndim != 1 or (flat.size and not _integral(flat)) or (flat.dtype == object):
        bad = [i for i, x in enumerate(items) if not all(map(_is_index, x))]
        if bad:
            raise InvalidLabelsError(
                f"multi-label labels must be integer class indices; "
                f"labels[{bad[0]}] = {items[bad[0]]!r}."
            )
    cls = flat.astype(np.intp) if flat.size else np.zeros(0, dtype=np.intp)
    out_of_range = (cls < 0) | (cls >= k)
    if out_of_range.any():
        owner = np.repeat(np.arange(n), lengths)
        i = int(owner[np.argmax(out_of_range)])
        raise InvalidLabelsError(
            f"class indices must lie in 0..{k - 1} ({against} has {k} classes); "
            f"labels[{i}] = {items[i]!r} does not."
        )
    if k >= 2 and n and np.all(lengths == k) and flat.size and np.all(cls <= 1):
        if k >= 3 or not np.all(cls.reshape(n, k).sum(axis=1) == 1):
            raise InvalidLabelsError(
                "labels look like a 0/1 matrix written as lists (every row has K entries of 0 "
                "and 1), but lists are read as class indices; pass np.asarray(labels) for a "
                "matrix, or one list of the present classes per example."
            )
    matrix = np.zeros((n, k), dtype=np.bool_)
    matrix.reshape(-1)[np.repeat(np.arange(0, n * k, k), lengths) + cls] = True
    return matrix


def labels_count(labels: Any) -> int:
    """Number of examples in ``labels``, with a clear error when it has no length."""
    try:
        return len(labels)
    except TypeError:
        raise InvalidLabelsError(
            f"labels must be an array or a list with one entry per example, got "
            f"{type(labels).__name__}."
        ) from None


def _is_index(value: Any) -> bool:
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and float(value).is_integer()


def _integral(flat: np.ndarray) -> bool:
    if flat.dtype.kind in "biu":
        return True
    if flat.dtype.kind == "f":
        return bool(_integral_mask(flat).all())
    return False


def _integral_mask(flat: np.ndarray) -> np.ndarray:
    return np.isfinite(flat) & (flat == np.round(flat))


# -- scalars -------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    """``value`` as an error message shows it: a long repr cut short, a long array by its shape."""
    text = repr(value)
    if len(text) <= 80:
        return text
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__} ({text[:60]}...)"


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is an integer (not a bool) in ``[low, high]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidOptionError(
            f"{name} must be an integer{_range(low, high)}, got {_shown(value)}."
        )
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise InvalidOptionError(
            f"{name} must be an integer{_range(low, high)}, got {_shown(value)}."
        )
    return number


def check_real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` in the interval given (closed unless ``open_*``)."""
    bounds = _interval(low, high, open_low, open_high)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidOptionError(f"{name} must be a number{bounds}, got {_shown(value)}.")
    x = float(value)
    outside = (
        not math.isfinite(x)
        or (low is not None and (x <= low if open_low else x < low))
        or (high is not None and (x >= high if open_high else x > high))
    )
    if outside:
        raise InvalidOptionError(f"{name} must be a number{bounds}, got {_shown(value)}.")
    return x


def check_threshold(value: Any, name: str = "threshold") -> float:
    """A probability threshold strictly between 0 and 1."""
    return check_real(value, name, low=0.0, high=1.0, open_low=True, open_high=True)


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (numpy booleans included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidOptionError(f"{name} must be True or False, got {_shown(value)}.")
    return bool(value)


def _range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    return f" <= {high}" if high is not None else ""


def _interval(low: float | None, high: float | None, open_low: bool, open_high: bool) -> str:
    if low is None and high is None:
        return ""
    if high is None:
        return f" {'>' if open_low else '>='} {low:g}"
    if low is None:
        return f" {'<' if open_high else '<='} {high:g}"
    return f" in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
