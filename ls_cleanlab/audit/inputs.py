"""The audit's inputs, checked once at its edge. Private to :mod:`ls_cleanlab.audit`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ls_cleanlab import validation
from ls_cleanlab.annotations import Annotations
from ls_cleanlab.confident.issues import issue_matrix_where_defined, single_label_issues
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidLabelsError, InvalidOptionError

__all__ = [
    "as_annotations",
    "check_features",
    "check_options",
    "class_names",
    "confident_cells",
    "vote_matrix",
]


def class_names(names: Sequence[str] | None, k: int) -> list[str]:
    """``K`` unique class names as strings; default ``"0"``, ``"1"``, ..."""
    if names is None:
        return [str(c) for c in range(k)]
    if isinstance(names, str):
        raise InvalidOptionError(
            f"class_names must be a sequence of names, got the string {names[:40]!r}."
        )
    out = [str(c) for c in names]
    if len(out) != k:
        raise InvalidOptionError(f"class_names has {len(out)} names for {k} classes.")
    if len(set(out)) != k:
        seen = [c for c in out if out.count(c) > 1]
        raise InvalidOptionError(f"class_names must be unique; {seen[0]!r} repeats.")
    return out


def as_annotations(
    labels: Any, annotations: Any, n: int | None, k: int | None
) -> tuple[Annotations, bool]:
    """The annotations to audit, and whether they name real annotators (not plain labels)."""
    if labels is not None and annotations is not None:
        raise InvalidOptionError(
            "pass labels (one annotator) or annotations (several), not both; to audit one "
            "annotator inside a team, pass annotations only."
        )
    if annotations is not None:
        if not isinstance(annotations, Annotations):
            raise InvalidAnnotationsError(
                f"annotations must be an ls_cleanlab.Annotations, got {type(annotations).__name__}."
            )
        return annotations, True
    if labels is None:
        raise InvalidLabelsError("pass labels or annotations: there is nothing to audit.")
    array = np.asarray(labels, dtype=object) if isinstance(labels, list) else np.asarray(labels)
    if array.ndim == 1 and any(isinstance(v, str) for v in array[:100].tolist()):
        raise InvalidLabelsError(
            f"labels hold class names ({array[0]!r} ...); pass class indices 0..K-1 in the "
            "order of class_names, e.g. [class_names.index(name) for name in labels]."
        )
    flat = array.ndim == 1 and len(array) and all(_is_index(v) for v in array.tolist())
    if array.ndim == 1 and (array.dtype.kind in "iu" or flat):  # a plain list of ints too
        if k is None:
            raise InvalidLabelsError("single-label class indices need pred_probs or class_names.")
        single = validation.as_single_labels(labels, n, k)
        rows = np.arange(len(single))
        return Annotations.from_class_indices(rows, np.zeros(len(rows)), single, k), False
    if k is None:
        k = array.shape[1] if array.ndim == 2 else None
    if k is None:
        raise InvalidLabelsError(
            "multi-label lists of class indices need pred_probs or class_names."
        )
    matrix = validation.as_multilabel(labels, n, k, against="pred_probs")
    return Annotations.from_labels(matrix), False


def _is_index(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_options(threshold: Any, seed: Any) -> None:
    """A threshold in (0, 1) or None, and a seed that is a non-negative integer or None."""
    if threshold is not None:
        validation.check_threshold(threshold)
    if seed is not None:
        validation.check_int(seed, "seed", low=0)


def check_features(features: Any, n: int) -> np.ndarray | None:
    """``(n, d)`` finite float features, or None."""
    if features is None:
        return None
    try:
        array = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError(f"features must hold numbers: {exc}.") from exc
    if array.ndim != 2 or len(array) != n:
        raise InvalidOptionError(
            f"features must have shape ({n}, d), one row per task; got {array.shape}."
        )
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        rows = validation.examples(np.flatnonzero(bad))
        raise InvalidOptionError(f"features contain NaN or infinite values in rows {rows}.")
    return array


def vote_matrix(ann: Annotations, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n, K)`` int32 annotations marking each class, and ``(n,)`` annotations per task."""
    k = ann.n_classes
    rows, cols = np.nonzero(ann.labels)
    votes = np.bincount(ann.task[rows] * k + cols, minlength=n * k).astype(np.int32)
    return votes.reshape(n, k), np.bincount(ann.task, minlength=n)


def confident_cells(
    given: np.ndarray, labelled: np.ndarray, probs: np.ndarray | None, multi_label: bool
) -> np.ndarray | None:
    """Cells confident learning flags (cleanlab's default filter), or None without a model or
    where it cannot run (single-label tasks all of one class). Multi-label, a class given on
    every task gets no flags and the others keep theirs (cleanlab refuses the whole input)."""
    if probs is None or not labelled.any():
        return None
    out = np.zeros(given.shape, dtype=bool)
    rows = np.flatnonzero(labelled)
    try:
        # warn=False: small classes have nothing flagged, which the audit does not report
        if multi_label:
            out[rows] = issue_matrix_where_defined(given[rows], probs[rows], warn=False) != 0
        else:
            wrong = single_label_issues(given[rows].argmax(axis=1), probs[rows], warn=False)
            out[rows[wrong]] = given[rows[wrong]]
    except InvalidLabelsError:
        return None
    return out
