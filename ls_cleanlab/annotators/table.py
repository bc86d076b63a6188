"""The per-annotator summary table: quality, agreement with a :class:`Consensus`, error rates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.blocks import keyed_sums, row_blocks
from ls_cleanlab.annotators.consensus import Consensus
from ls_cleanlab.annotators.multilabel import jaccard, set_quality
from ls_cleanlab.annotators.votes import Votes, key_means
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError, InvalidPredProbsError
from ls_cleanlab.validation import as_pred_probs

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["annotator_table"]


def annotator_table(
    annotations: Annotations,
    cons: Consensus,
    pred_probs: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per annotator: quality, agreement with the consensus, error rates, workload.

    Rates compare the annotator's label sets with the consensus on its tasks with two or more
    annotations ("shared" tasks; on a task it annotated alone the consensus is its own vote, so
    those would count as agreement). The annotator's own vote is part of the consensus, as in
    cleanlab's ``agreement_with_consensus``; with three or more annotators per task this
    changes little, and leaving it out would need one consensus per annotator.

    Parameters
    ----------
    annotations : Annotations
        The table ``cons`` was computed from.
    cons : Consensus
        From :func:`ls_cleanlab.annotators.consensus`.
    pred_probs : array_like of shape (n, K), optional
        Adds ``model_agreement``: the mean quality of the annotator's labels under the model
        (single-label: ``p[y]``; multi-label: the EMA of per-class ``P(given value)``).
    class_names : sequence of K str, optional
        Names for ``worst_class``; default the class indices.

    Returns
    -------
    pandas.DataFrame
        Columns: ``annotator``; ``quality`` (``cons.annotator_quality``); ``agreement`` (mean
        Jaccard index with the consensus on shared tasks); ``missing_rate`` (share of consensus
        labels on shared tasks the annotator left out); ``spurious_rate`` (share of its labels on
        shared tasks absent from the consensus); ``labels_per_task`` (its mean label count);
        ``expected_labels_per_task`` (mean posterior label count ``sum_k P(k)`` on its tasks);
        ``n_tasks``; ``n_shared_tasks``; ``mean_lead_time`` (seconds, NaN when unknown);
        ``worst_class`` (the class with the most disagreeing cells on shared tasks; missing
        without disagreement); ``model_agreement`` when ``pred_probs`` is given. Rates are NaN
        without shared tasks (or, for the two rates, with a zero denominator). Sorted by
        ``quality`` ascending, worst annotator first (NaN last; ties keep annotator order);
        index 0..M-1.
    """
    import pandas as pd

    n, k, names = _check(annotations, cons, class_names)
    votes = Votes.from_annotations(annotations)
    task = votes.tasks[votes.task]  # original task index of each annotation
    columns = _columns(annotations, cons, votes, task, names)
    if pred_probs is not None:
        columns["model_agreement"] = _model_agreement(pred_probs, cons, votes, task, n, k)
    frame = pd.DataFrame(columns)
    return frame.sort_values("quality", kind="stable", na_position="last").reset_index(drop=True)


def _per_annotator(votes: Votes) -> tuple[Any, Any]:
    """Sums of per-annotation values per annotator (optionally over some rows), and a ratio
    that is NaN where the denominator is 0."""
    m = votes.n_annotators

    def total(values: Any, rows: np.ndarray | None = None) -> np.ndarray:
        if rows is None:
            return np.bincount(votes.annotator, weights=values, minlength=m)
        return np.bincount(votes.annotator[rows], weights=values[rows], minlength=m)

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return np.divide(num, den, out=np.full(m, np.nan), where=den > 0)

    return total, ratio


def _columns(
    annotations: Annotations, cons: Consensus, votes: Votes, task: np.ndarray, names: list[Any]
) -> dict[str, Any]:
    """The table's columns without the model's: see :func:`annotator_table`."""
    total, ratio = _per_annotator(votes)
    m = votes.n_annotators
    given = votes.labels
    label = cons.labels[task].astype(bool)
    shared = votes.count[votes.task] > 1
    n_tasks = np.bincount(votes.annotator, minlength=m)
    n_shared = np.bincount(votes.annotator[shared], minlength=m)
    missed = np.count_nonzero(label & ~given, axis=1)
    extra = np.count_nonzero(given & ~label, axis=1)
    size = np.count_nonzero(given, axis=1)
    cons_size = np.count_nonzero(label, axis=1)
    return {
        "annotator": cons.annotator_ids,
        "quality": cons.annotator_quality,
        "agreement": ratio(total(jaccard(given, label), shared), n_shared.astype(float)),
        "missing_rate": ratio(total(missed, shared), total(cons_size, shared)),
        "spurious_rate": ratio(total(extra, shared), total(size, shared)),
        "labels_per_task": ratio(total(size), n_tasks.astype(float)),
        "expected_labels_per_task": ratio(
            total(_row_sums(cons.posterior)[task]), n_tasks.astype(float)
        ),
        "n_tasks": n_tasks,
        "n_shared_tasks": n_shared,
        "mean_lead_time": _mean_lead_time(annotations, votes),
        "worst_class": _worst_class(votes, given, label, shared, names),
    }


def _model_agreement(
    pred_probs: Any, cons: Consensus, votes: Votes, task: np.ndarray, n: int, k: int
) -> np.ndarray:
    """Mean quality of each annotator's labels under the model."""
    total, ratio = _per_annotator(votes)
    probs = as_pred_probs(pred_probs, sum_to_one=False)
    if probs.shape != (n, k):
        raise InvalidPredProbsError(
            f"pred_probs has shape {probs.shape}; the consensus is over {n} tasks and "
            f"{k} classes, so pass ({n}, {k})."
        )
    given = votes.labels
    if cons.multi_label:
        scores = set_quality(given, probs, task)
    else:
        scores = probs[task, np.argmax(given, axis=1)]
    n_tasks = np.bincount(votes.annotator, minlength=votes.n_annotators)
    return ratio(total(scores), n_tasks.astype(float))


def _check(
    annotations: Any, cons: Any, class_names: Sequence[str] | None
) -> tuple[int, int, list[Any]]:
    if not isinstance(annotations, Annotations):
        raise InvalidAnnotationsError(
            f"annotations must be an Annotations table, got {type(annotations).__name__}."
        )
    labels = getattr(cons, "labels", None)
    if not isinstance(labels, np.ndarray) or labels.ndim != 2:
        raise InvalidOptionError(
            f"cons must be the Consensus returned by consensus(), got {type(cons).__name__}."
        )
    n, k = labels.shape
    if k != annotations.n_classes:
        raise InvalidAnnotationsError(
            f"the annotations have {annotations.n_classes} classes but the consensus has {k}; "
            "pass the annotations the consensus was computed from."
        )
    annotations.check_tasks(n)
    ids = np.asarray(cons.annotator_ids)
    if len(ids) != annotations.n_annotators or not np.array_equal(ids, annotations.annotator_ids):
        raise InvalidAnnotationsError(
            "the consensus was computed from other annotators than these annotations; "
            "pass the annotations the consensus was computed from."
        )
    if class_names is None:
        return n, k, list(range(k))
    names = list(class_names)
    if len(names) != k:
        raise InvalidOptionError(f"class_names has {len(names)} names for {k} classes.")
    return n, k, names


def _mean_lead_time(annotations: Annotations, votes: Votes) -> np.ndarray:
    m = votes.n_annotators
    if annotations.lead_time is None:
        return np.full(m, np.nan)
    lead = annotations.lead_time[votes.order]
    known = ~np.isnan(lead)
    return key_means(lead[known], votes.annotator[known], m)


def _row_sums(posterior: np.ndarray) -> np.ndarray:
    """``(n,)`` sums of the rows of ``posterior`` with NaN as 0, a block of rows at a time."""
    out = np.empty(len(posterior))
    for rows in row_blocks(len(posterior), posterior.shape[1]):
        out[rows] = np.nan_to_num(posterior[rows]).sum(axis=1)
    return out


def _worst_class(
    votes: Votes, given: np.ndarray, label: np.ndarray, shared: np.ndarray, names: list[Any]
) -> list[Any]:
    """Per annotator, the class with most disagreeing cells on shared tasks (lowest index on
    ties); None (a missing value in the table) when it never disagrees."""
    rows = np.flatnonzero(shared)

    def differ(block: slice) -> np.ndarray:
        return given[rows[block]] != label[rows[block]]

    wrong = keyed_sums(differ, votes.annotator[rows], votes.n_annotators, given.shape[1])
    worst = np.argmax(wrong, axis=1)
    return [names[c] if wrong[j, c] > 0 else None for j, c in enumerate(worst)]
