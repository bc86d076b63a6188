"""Gold labels: annotations that are the truth of their task, and annotators measured against them.

An annotation is gold when it is made by a reviewer (a user id the caller names) or marked as
ground truth in Label Studio on a task that also has unmarked annotations: Label Studio marks
every annotation imported with its task as ground truth, so a task whose annotations are all
marked is read as imported, not reviewed. A task's gold label is its latest gold annotation (by
``created_at``; the last row when times are unknown). :func:`gold_accuracy` then says, per
annotator, on how many gold tasks their own (non-gold) annotation matched the gold label
exactly, the plain count behind an accuracy a project lead can check by hand.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations

__all__ = ["Gold", "find_gold", "gold_accuracy"]


@dataclass(frozen=True, eq=False)
class Gold:
    """The gold of ``n`` tasks.

    Attributes
    ----------
    annotation : np.ndarray of bool, shape (A,)
        Which annotations are gold.
    tasks : np.ndarray of bool, shape (n,)
        Tasks with a gold label.
    labels : np.ndarray of int8, shape (n, K)
        The gold label of each task in ``tasks`` (zeros elsewhere).
    """

    annotation: np.ndarray
    tasks: np.ndarray
    labels: np.ndarray

    @property
    def any(self) -> bool:
        """Whether any task has a gold label."""
        return bool(self.tasks.any())


def find_gold(ann: Annotations, n_tasks: int, reviewers: Collection[Any] = ()) -> Gold:
    """The gold annotations among ``ann`` (ground truth, or by one of ``reviewers``) and the
    gold label of each of the ``n_tasks`` tasks."""
    marked = np.zeros(len(ann), dtype=bool)
    if ann.ground_truth is not None:
        starred = np.asarray(ann.ground_truth, dtype=bool)
        # Label Studio marks every annotation imported with its task as ground truth: a mark
        # counts only on a task that also has unmarked annotations (a reviewer's star)
        unmarked = np.zeros(n_tasks, dtype=bool)
        unmarked[ann.task[~starred]] = True
        marked |= starred & unmarked[ann.task]
    if len(reviewers):
        marked |= np.isin(ann.annotator, np.asarray(list(reviewers), dtype=ann.annotator.dtype))
    tasks = np.zeros(n_tasks, dtype=bool)
    labels = np.zeros((n_tasks, ann.n_classes), dtype=np.int8)
    rows = np.flatnonzero(marked)
    if len(rows):
        when = ann.created_at[rows] if ann.created_at is not None else np.zeros(len(rows))
        when = np.nan_to_num(when, nan=-np.inf)
        # latest per task: sort by (task, time, row) and keep each task's last
        order = np.lexsort((rows, when, ann.task[rows]))
        picked = rows[order]
        last = np.r_[ann.task[picked][1:] != ann.task[picked][:-1], True]
        chosen = picked[last]
        tasks[ann.task[chosen]] = True
        labels[ann.task[chosen]] = ann.labels[chosen]
    return Gold(marked, tasks, labels)


def gold_accuracy(ann: Annotations, gold: Gold) -> Any:
    """Per annotator: gold tasks they labelled (``n_gold``), how many matched the gold label
    exactly (``n_correct``) and the share (``gold_accuracy``, NaN without gold tasks).

    Returns
    -------
    pandas.DataFrame
        Columns ``annotator, n_gold, n_correct, gold_accuracy``, one row per annotator of
        ``ann`` who made a non-gold annotation, in order of first appearance.
    """
    import pandas as pd

    crowd = np.flatnonzero(~gold.annotation)
    on_gold = crowd[gold.tasks[ann.task[crowd]]]
    right = (ann.labels[on_gold] == gold.labels[ann.task[on_gold]]).all(axis=1)
    who = pd.unique(ann.annotator[crowd]) if len(crowd) else np.asarray([])
    n_gold = pd.Series(ann.annotator[on_gold]).value_counts()
    n_right = pd.Series(ann.annotator[on_gold][right]).value_counts()
    frame = pd.DataFrame({"annotator": who})
    frame["n_gold"] = [int(n_gold.get(a, 0)) for a in who]
    frame["n_correct"] = [int(n_right.get(a, 0)) for a in who]
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["gold_accuracy"] = np.where(
            frame["n_gold"] > 0, frame["n_correct"] / frame["n_gold"].clip(lower=1), np.nan
        )
    return frame
