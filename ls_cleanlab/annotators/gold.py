"""Gold labels: annotations that are the truth of their task, and annotators measured against them.

An annotation is gold when it is made by a reviewer (a user id the caller names) or marked as
ground truth in Label Studio on a task that also has unmarked annotations: Label Studio marks
every annotation imported with its task as ground truth, so a task whose annotations are all
marked is read as imported, not reviewed. A task's gold label is its latest gold annotation (by
``created_at``; the last row when times are unknown). :func:`gold_accuracy` then says, per
annotator, on how many gold tasks their own (non-gold) annotation matched the gold label
exactly, the plain count behind an accuracy a project lead can check by hand.

The consensus algorithms take gold as known truth (:class:`Known`, semi-supervised
Dawid-Skene as in Raykar et al. 2010, sec. 5, and CROWDLAB's agreement measured against it):
a gold task's posterior is its gold label in every round, and the annotators' first rates are
estimated on the gold tasks alone, so a few gold tasks can overturn a majority that is
systematically wrong before EM settles on it (README, "Reviewers and gold").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.votes import Votes

__all__ = ["Gold", "Known", "find_gold", "gold_accuracy", "gold_rows", "known_units"]

#: Log-odds standing for certainty in a clamped multi-label posterior (sigmoid rounds to 0 or 1).
CERTAIN_LOGIT = 40.0
#: Gold tasks an annotator needs for its first rates to come from them.
ANCHOR_VOTES = 5
#: Weight of an annotator's agreement with its peers beside its gold tasks, in gold tasks.
PSEUDO_GOLD = 2.0
#: A finite log-probability whose exponential is exactly 0.
LOG_ZERO = -1000.0


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


@dataclass(frozen=True, eq=False)
class Known:
    """Gold labels of the ``U`` annotated tasks of :class:`~.votes.Votes`, for the consensus
    algorithms.

    Attributes
    ----------
    units : np.ndarray of bool, shape (U,)
        Annotated tasks with a gold label.
    truth : np.ndarray of float, shape (G, K)
        Their gold labels, in the order of ``units``.
    votes : Votes
        The annotations of the ``G`` gold tasks alone (where the first rates are estimated).
    """

    units: np.ndarray
    truth: np.ndarray
    votes: Votes

    def anchor(self, full: np.ndarray, from_gold: np.ndarray) -> np.ndarray:
        """Annotator rates ``(M, ...)``: ``from_gold``'s rows (estimated on the gold tasks) for
        annotators with at least :data:`ANCHOR_VOTES` gold tasks, ``full``'s (on all tasks)
        for the others, whose few gold answers say too little."""
        m = self.votes.n_annotators
        enough = np.bincount(self.votes.annotator, minlength=m) >= ANCHOR_VOTES
        return np.where(enough.reshape((m,) + (1,) * (full.ndim - 1)), from_gold, full)

    def clamp(self, posterior: np.ndarray) -> np.ndarray:
        """``posterior`` ``(U, K)`` with the gold tasks' rows set to their gold label (a copy)."""
        out = np.array(posterior, dtype=np.float64, copy=True)
        out[self.units] = self.truth
        return out

    def clamp_logit(self, logit: np.ndarray) -> np.ndarray:
        """Multi-label posterior log-odds ``(U, K)`` with the gold rows certain:
        :data:`CERTAIN_LOGIT` where the gold label is present, minus it elsewhere (finite, so
        sums and differences stay defined)."""
        out = np.array(logit, dtype=np.float64, copy=True)
        out[self.units] = np.where(self.truth > 0, CERTAIN_LOGIT, -CERTAIN_LOGIT)
        return out

    def clamp_logit_rows(self, logit: np.ndarray, tasks: slice) -> np.ndarray:
        """:meth:`clamp_logit` of the block ``tasks`` of the ``U`` tasks, ``logit`` its rows
        (set in place)."""
        at = self.units[tasks]
        if at.any():
            first = int(np.count_nonzero(self.units[: tasks.start]))
            truth = self.truth[first : first + int(np.count_nonzero(at))]
            logit[at] = np.where(truth > 0, CERTAIN_LOGIT, -CERTAIN_LOGIT)
        return logit

    def clamp_log(self, log_posterior: np.ndarray) -> np.ndarray:
        """Single-label normalized log-posterior ``(U, K)`` with the gold rows certain (0 at
        the gold class, :data:`LOG_ZERO` elsewhere, whose exponential is 0)."""
        out = np.array(log_posterior, dtype=np.float64, copy=True)
        out[self.units] = np.where(self.truth > 0, 0.0, LOG_ZERO)
        return out

    def _matches(self, votes: Votes) -> tuple[np.ndarray, np.ndarray]:
        """The rows of ``votes`` on gold tasks (mask) and, for each, which of its cells
        ``(R, K)`` equal the gold label."""
        rows = self.units[votes.task]
        where = np.cumsum(self.units) - 1
        same = votes.labels[rows] == (self.truth[where[votes.task[rows]]] > 0)
        return rows, same

    def _measured(
        self, votes: Votes, score: np.ndarray, rows: np.ndarray, others: np.ndarray
    ) -> np.ndarray:
        """``(M,)`` each annotator's mean ``score`` over its gold rows, with
        :data:`PSEUDO_GOLD` pseudo-rows at ``others``."""
        m = votes.n_annotators
        n_gold = np.bincount(votes.annotator[rows], minlength=m)
        total = np.bincount(votes.annotator[rows], weights=score, minlength=m)
        result: np.ndarray = (total + PSEUDO_GOLD * others) / (n_gold + PSEUDO_GOLD)
        return result

    def agreement(self, votes: Votes, others: np.ndarray) -> np.ndarray:
        """``(M,)`` each annotator's share of gold tasks it labelled exactly right, with
        :data:`PSEUDO_GOLD` pseudo-tasks at ``others`` ``(M,)`` (its agreement with the other
        annotators): where an annotator has gold tasks it is measured against gold, elsewhere
        (and as the tie-breaker of a few gold tasks) against its peers."""
        rows, same = self._matches(votes)
        return self._measured(votes, np.asarray(same.all(axis=1)), rows, others)

    def disagreement(self, votes: Votes, others: np.ndarray) -> np.ndarray:
        """``(M,)`` multi-label: each annotator's share of the cells (task, class) of its gold
        tasks that differ from the gold label, with :data:`PSEUDO_GOLD` pseudo-tasks at
        ``others`` ``(M,)`` (its disagreement with the other annotators), as
        :meth:`agreement` measures single-label annotators."""
        rows, same = self._matches(votes)
        return self._measured(votes, np.asarray(1.0 - same.mean(axis=1)), rows, others)

    def clamp_label(self, label: np.ndarray) -> np.ndarray:
        """Consensus ``label`` with the gold tasks' gold label: ``(U,)`` class indices (single
        label) or ``(U, K)`` sets (a copy)."""
        out = np.array(label, copy=True)
        out[self.units] = self.truth.argmax(axis=1) if out.ndim == 1 else self.truth > 0
        return out


def known_units(gold: Gold | None, votes: Votes) -> Known | None:
    """The gold of the annotated tasks of ``votes``; None without gold among them."""
    if gold is None:
        return None
    units = gold.tasks[votes.tasks]
    if not units.any():
        return None
    truth = gold.labels[votes.tasks[units]].astype(np.float64)
    return Known(units, truth, votes.restrict(units))


def gold_rows(
    task: np.ndarray,
    annotator: np.ndarray,
    ground_truth: np.ndarray | None,
    created_at: np.ndarray | None,
    n_tasks: int,
    reviewers: Collection[Any] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Which of the ``(A,)`` annotations are gold (ground truth on a task that also has
    unmarked annotations, or by one of ``reviewers``), and the row of each gold task's gold
    annotation (its latest; the last row when times tie or are unknown), by ascending task."""
    marked = np.zeros(len(task), dtype=bool)
    if ground_truth is not None:
        starred = np.asarray(ground_truth, dtype=bool)
        # Label Studio marks every annotation imported with its task as ground truth: a mark
        # counts only on a task that also has unmarked annotations (a reviewer's star)
        unmarked = np.zeros(n_tasks, dtype=bool)
        unmarked[task[~starred]] = True
        marked |= starred & unmarked[task]
    if len(reviewers):
        marked |= np.isin(annotator, np.asarray(list(reviewers), dtype=annotator.dtype))
    rows = np.flatnonzero(marked)
    if not len(rows):
        return marked, rows
    when = created_at[rows] if created_at is not None else np.zeros(len(rows))
    when = np.nan_to_num(when, nan=-np.inf)
    # latest per task: sort by (task, time, row) and keep each task's last
    picked = rows[np.lexsort((rows, when, task[rows]))]
    last = np.r_[task[picked][1:] != task[picked][:-1], True]
    return marked, picked[last]


def find_gold(ann: Annotations, n_tasks: int, reviewers: Collection[Any] = ()) -> Gold:
    """The gold annotations among ``ann`` (ground truth, or by one of ``reviewers``) and the
    gold label of each of the ``n_tasks`` tasks."""
    marked, chosen = gold_rows(
        ann.task, ann.annotator, ann.ground_truth, ann.created_at, n_tasks, reviewers
    )
    tasks = np.zeros(n_tasks, dtype=bool)
    labels = np.zeros((n_tasks, ann.n_classes), dtype=np.int8)
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
