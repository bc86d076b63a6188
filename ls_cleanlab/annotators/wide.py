"""cleanlab's wide multi-annotator format: reading and checking it, the long-to-wide pivot and
cleanlab's majority vote on it.

The wide format is an ``(N, M)`` matrix (NumPy array or pandas DataFrame) of class indices given
by annotator ``m`` (a column) to example ``n`` (a row), NaN where the annotator gave none; a
DataFrame's columns name the annotators. :func:`convert_long_to_wide_dataset` and
:func:`majority_vote_label` are cleanlab 2.9.0's ``convert_long_to_wide_dataset`` and
``get_majority_vote_label``; the readers serve :mod:`.multiannotator`, :mod:`.ensemble` and
:mod:`.activelab`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ls_cleanlab.annotators import crowdlab as _crowdlab
from ls_cleanlab.annotators.votes import Votes
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError, warn_user
from ls_cleanlab.validation import as_pred_probs

__all__ = [
    "check_against",
    "check_wide",
    "check_wide_labels",
    "convert_long_to_wide_dataset",
    "majority_vote_label",
    "read_wide",
    "wide_votes",
]

_LONG_COLUMNS = ("task", "annotator", "label")


def convert_long_to_wide_dataset(labels_multiannotator_long: Any) -> Any:
    """One row per task and one column per annotator, from one row per annotation.

    Equals ``cleanlab.multiannotator.convert_long_to_wide_dataset`` (2.9.0): the same pandas
    pivot, rows and columns sorted, index and column names cleared, NaN where an annotator did
    not label a task (which makes integer labels float).

    Parameters
    ----------
    labels_multiannotator_long : pandas.DataFrame
        Columns ``task``, ``annotator`` and ``label``; at most one row per (task, annotator).

    Returns
    -------
    pandas.DataFrame of shape (N, M)
        The ``labels_multiannotator`` argument of :func:`majority_vote_label`,
        :func:`~ls_cleanlab.annotators.multiannotator_quality` and the others.
    """
    import pandas as pd

    long = labels_multiannotator_long
    if not isinstance(long, pd.DataFrame):
        raise InvalidAnnotationsError(
            "labels_multiannotator_long must be a pandas DataFrame with columns 'task', "
            f"'annotator' and 'label', got {type(long).__name__}."
        )
    missing = [c for c in _LONG_COLUMNS if c not in long.columns]
    if missing:
        raise InvalidAnnotationsError(
            f"labels_multiannotator_long has no column {missing} (it has {list(long.columns)}); "
            "rename its columns to 'task', 'annotator' and 'label'."
        )
    twice = long.duplicated(subset=["task", "annotator"], keep=False)
    if twice.any():
        pairs = long.loc[twice, ["task", "annotator"]].drop_duplicates().head(5)
        raise InvalidAnnotationsError(
            "labels_multiannotator_long has several labels from one annotator for one task "
            f"(rows {np.flatnonzero(twice.to_numpy())[:5].tolist()}: (task, annotator) "
            f"{list(pairs.itertuples(index=False, name=None))}); keep one per pair."
        )
    wide = long.pivot(index="task", columns="annotator", values="label")
    wide.index.name = None
    wide.columns.name = None
    return wide


def majority_vote_label(
    labels_multiannotator: Any, pred_probs: Any = None, verbose: bool = True
) -> np.ndarray:
    """The class most annotators chose for each example, cleanlab's ties broken.

    Equals ``cleanlab.multiannotator.get_majority_vote_label`` (2.9.0). Ties go to the class of
    highest ``pred_probs`` (if given), then to the class fewest annotations chose overall, then
    to the class whose annotators agree most with the untied majority (means over eight or more
    annotators can differ from cleanlab's in the last bit there); where cleanlab then picks at
    random, we take the lowest class. cleanlab checks its input only with ``verbose=True`` and
    then refuses a single annotator; we always check it, allow one annotator, and print nothing
    (``verbose`` is accepted and ignored).

    Parameters
    ----------
    labels_multiannotator : ndarray or pandas.DataFrame of shape (N, M)
        Class indices, NaN where an annotator gave none; every row needs a label.
    pred_probs : ndarray of shape (N, K), optional
        Model probabilities breaking ties; without them ``K`` is the largest label plus one.
    verbose : bool
        Ignored.

    Returns
    -------
    ndarray of shape (N,)
        Integer class per example.
    """
    labels, ids, _ = read_wide(labels_multiannotator)
    check_wide_labels(labels, ids, several=False)
    probs = None
    if pred_probs is not None:
        probs = _probs_for(labels, pred_probs)
        k = probs.shape[1]
    else:
        k = int(np.nanmax(labels)) + 1
    return _crowdlab.majority(wide_votes(labels, k), probs).astype(int)


def _probs_for(labels: np.ndarray, pred_probs: Any) -> np.ndarray:
    if not isinstance(pred_probs, np.ndarray):
        raise InvalidOptionError(
            f"pred_probs must be a NumPy array, got {type(pred_probs).__name__}."
        )
    probs = as_pred_probs(pred_probs, sum_to_one=False)
    check_against(labels, probs)
    return probs


def check_against(labels: np.ndarray, probs: np.ndarray) -> None:
    """The wide ``(N, M)`` labels against one model's ``(N, K)`` probabilities or several
    models' ``(P, N, K)``: as many examples, every class given within the columns. A mismatch
    is the annotations' (:class:`.InvalidAnnotationsError`, as a single-label ``labels`` that
    does not fit ``pred_probs`` is the labels'); the probabilities themselves are checked
    apart."""
    n, k = probs.shape[-2:]
    per = " per model" if probs.ndim == 3 else ""
    if n != len(labels):
        raise InvalidAnnotationsError(
            f"labels_multiannotator has shape {labels.shape} ({len(labels)} examples) but "
            f"pred_probs has shape {probs.shape} ({n} examples{per}); give one row of "
            "probabilities per row of labels."
        )
    top = np.nanmax(labels)
    if top >= k:
        raise InvalidAnnotationsError(
            f"labels_multiannotator (shape {labels.shape}) holds class {int(top)} but pred_probs "
            f"has shape {probs.shape}: only {k} classes{per}; class indices must be below {k}."
        )


def read_wide(labels_multiannotator: Any) -> tuple[np.ndarray, Any, Any]:
    """The ``(N, M)`` float matrix, annotator ids (or None) and row index (or None)."""
    import pandas as pd

    if isinstance(labels_multiannotator, pd.DataFrame):
        try:
            matrix = labels_multiannotator.replace({pd.NA: np.nan}).astype(float).to_numpy()
        except (TypeError, ValueError) as exc:
            raise InvalidAnnotationsError(
                f"labels_multiannotator must hold class indices or NaN: {exc}"
            ) from exc
        return matrix, labels_multiannotator.columns, labels_multiannotator.index
    if isinstance(labels_multiannotator, np.ndarray):
        if labels_multiannotator.dtype.kind not in "biuf":
            raise InvalidAnnotationsError(
                "labels_multiannotator must hold integer class indices or NaN, got dtype "
                f"{labels_multiannotator.dtype} (map class names to indices first)."
            )
        return labels_multiannotator.astype(np.float64), None, None
    raise InvalidAnnotationsError(
        "labels_multiannotator must be a NumPy array or a pandas DataFrame of shape (N, M), "
        f"got {type(labels_multiannotator).__name__}."
    )


def check_wide_labels(labels: np.ndarray, ids: Any, *, several: bool) -> None:
    """cleanlab's checks of the wide labels, with clearer messages; ``several=True`` also
    requires two annotators and some example with two labels."""
    if labels.ndim != 2:
        raise InvalidAnnotationsError(
            f"labels_multiannotator must be 2-D (examples x annotators), got shape {labels.shape}."
        )
    given = ~np.isnan(labels)
    for axis, what, who in ((1, "examples", "have no labels"), (0, "annotators", "label nothing")):
        empty = np.flatnonzero(~given.any(axis=axis))
        if len(empty):
            names = list(ids[empty]) if (axis == 0 and ids is not None) else empty.tolist()
            raise InvalidAnnotationsError(
                f"every example needs a label and every annotator one labelled example; "
                f"{what} {names[:5]} {who}."
            )
    if several and labels.shape[1] < 2:
        raise InvalidAnnotationsError(
            "labels_multiannotator needs at least 2 annotators (columns); with one, use "
            "label_quality_scores instead."
        )
    if several and (given.sum(axis=1) == 1).all():
        raise InvalidAnnotationsError(
            "every example has exactly one label; collapse them into one (N,) array and use "
            "label_quality_scores instead."
        )
    values = labels[given]
    if not (np.isfinite(values).all() and (values == np.round(values)).all() and values.min() >= 0):
        raise InvalidAnnotationsError(
            "labels_multiannotator must hold non-negative integer class indices (or NaN)."
        )


def check_wide(labels: np.ndarray, pred_probs: Any, ids: Any) -> np.ndarray:
    """cleanlab's checks of the wide labels and the probabilities, with clearer messages;
    returns the probabilities as float64 ``(N, K)``."""
    check_wide_labels(labels, ids, several=True)
    if not isinstance(pred_probs, np.ndarray):
        raise InvalidOptionError(
            f"pred_probs must be a NumPy array, got {type(pred_probs).__name__}."
        )
    probs = as_pred_probs(pred_probs, sum_to_one=True)
    check_against(labels, probs)
    warn_if_nobody_agrees(labels)
    return probs


def warn_if_nobody_agrees(labels: np.ndarray) -> None:
    """cleanlab's warning when no two annotators chose the same class for any example."""
    given = ~np.isnan(labels)
    pairs = np.sort(np.where(given, labels, -1 - np.arange(labels.shape[1])), axis=1)
    if not (pairs[:, 1:] == pairs[:, :-1]).any():
        warn_user("Annotators do not agree on any example. Check input data.")


def wide_votes(labels: np.ndarray, k: int) -> Votes:
    """The wide matrix's annotations packed as :class:`.votes.Votes` (every row labelled)."""
    task, annotator = np.nonzero(~np.isnan(labels))  # row-major: by task, then annotator
    n, m = labels.shape
    one_hot = np.zeros((len(task), k), dtype=bool)
    one_hot[np.arange(len(task)), labels[task, annotator].astype(np.int64)] = True
    count = np.bincount(task, minlength=n)
    starts = np.concatenate(([0], np.cumsum(count)[:-1]))
    return Votes(
        task=task.astype(np.int64),
        annotator=annotator.astype(np.int64),
        labels=one_hot,
        tasks=np.arange(n, dtype=np.int64),
        count=count.astype(np.int64),
        starts=starts.astype(np.int64),
        rank=np.arange(len(task), dtype=np.int64) - np.repeat(starts, count),
        order=np.arange(len(task), dtype=np.int64),
        n_annotators=m,
    )
