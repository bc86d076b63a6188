"""Annotations regrouped for the consensus algorithms: sorted by task, then by annotator.

Private helper of :mod:`ls_cleanlab.annotators`. The algorithms work on the ``U`` annotated
tasks only, renumbered ``0..U-1`` in increasing task order ("compact" task indices); the public
functions scatter the results back to all ``n`` tasks. Within a task, annotations are ordered by
annotator code, which is the column order of cleanlab's ``(N, M)`` input, so sums over a task's
annotations happen in cleanlab's order (this matters for exact ties).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.blocks import keyed_sums, row_blocks

__all__ = ["Votes", "key_means", "key_sums"]

#: Largest ``U * M`` for which the task-by-annotator incidence is kept as a dense matrix (sums
#: over tasks or annotators then take one matrix product instead of a gather of ``(A, K)``).
DENSE_INCIDENCE = 4_000_000


@dataclass(frozen=True, eq=False)
class Votes:
    """Long-form annotations of the ``U`` annotated tasks, sorted by (task, annotator).

    Attributes
    ----------
    task : (A,) int64 compact task index in ``[0, U)``.
    annotator : (A,) int64 annotator code in ``[0, M)``.
    labels : (A, K) bool label sets.
    tasks : (U,) int64 the original index of each annotated task, increasing.
    count : (U,) int64 annotations per annotated task (all >= 1).
    starts : (U,) int64 first row of each task's annotations.
    rank : (A,) int64 position of each annotation within its task.
    order : (A,) int64 row of each annotation in the original table.
    n_annotators : int, M.
    """

    task: np.ndarray
    annotator: np.ndarray
    labels: np.ndarray
    tasks: np.ndarray
    count: np.ndarray
    starts: np.ndarray
    rank: np.ndarray
    order: np.ndarray
    n_annotators: int

    @classmethod
    def from_annotations(cls, annotations: Annotations) -> Votes:
        order = np.lexsort((annotations.annotator_index, annotations.task))
        task = annotations.task[order]
        tasks, starts, count = np.unique(task, return_index=True, return_counts=True)
        compact = np.repeat(np.arange(len(tasks), dtype=np.int64), count)
        rank = np.arange(len(task), dtype=np.int64) - np.repeat(starts, count)
        return cls(
            task=compact,
            annotator=annotations.annotator_index[order],
            labels=annotations.labels[order].astype(bool),
            tasks=tasks.astype(np.int64),
            count=count.astype(np.int64),
            starts=starts.astype(np.int64),
            rank=rank,
            order=order,
            n_annotators=annotations.n_annotators,
        )

    @cached_property
    def yes(self) -> np.ndarray:
        """``(U, K)`` int32 number of annotators marking each class present."""
        out = np.empty((self.n_units, self.n_classes), dtype=np.int32)
        for tasks, rows in self.task_blocks(self.n_classes):
            out[tasks] = self.block_task_sums(self.labels[rows].astype(np.int32), tasks, rows)
        return out

    @cached_property
    def marked(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and classes of the present cells of ``labels`` (sparse in multi-label data)."""
        rows, cols = np.nonzero(self.labels)
        return rows, cols

    @cached_property
    def label_sums(self) -> np.ndarray:
        """``(M, K)`` float number of times each annotator marked each class present."""
        return self.annotator_sums(self.labels)

    @cached_property
    def incidence(self) -> np.ndarray | None:
        """``(U, M)`` float number of annotations of each task by each annotator, or None when
        ``U * M`` exceeds :data:`DENSE_INCIDENCE`."""
        if self.n_units * self.n_annotators > DENSE_INCIDENCE:
            return None
        out = np.zeros((self.n_units, self.n_annotators))
        np.add.at(out, (self.task, self.annotator), 1.0)
        return out

    def spread_to_tasks(self, per_annotator: np.ndarray) -> np.ndarray:
        """``(U, K)`` sum over each task's annotations of the annotator's row of
        ``per_annotator`` ``(M, K)``; without the dense incidence, a block of tasks at a time."""
        if self.incidence is not None:
            return self.incidence @ per_annotator
        out = np.empty((self.n_units, per_annotator.shape[1]))
        for tasks, rows in self.task_blocks(per_annotator.shape[1]):
            out[tasks] = self.block_task_sums(per_annotator[self.annotator[rows]], tasks, rows)
        return out

    def gather_from_tasks(self, per_task: np.ndarray) -> np.ndarray:
        """``(M, K)`` sum over each annotator's annotations of the task's row of ``per_task``
        ``(U, K)``."""
        if self.incidence is not None:
            return self.incidence.T @ per_task

        def rows_of(rows: slice) -> np.ndarray:
            return per_task[self.task[rows]]

        return keyed_sums(rows_of, self.annotator, self.n_annotators, per_task.shape[1])

    def restrict(self, units: np.ndarray) -> Votes:
        """The votes of the annotated tasks where ``units`` ``(U,)`` is True, renumbered
        ``0..U'-1`` (annotator codes kept)."""
        rows = units[self.task]
        kept = np.flatnonzero(units)
        count = self.count[kept]
        return Votes(
            task=(np.cumsum(units) - 1)[self.task[rows]],
            annotator=self.annotator[rows],
            labels=self.labels[rows],
            tasks=self.tasks[kept],
            count=count,
            starts=np.concatenate(([0], np.cumsum(count)[:-1])).astype(np.int64),
            rank=self.rank[rows],
            order=self.order[rows],
            n_annotators=self.n_annotators,
        )

    @property
    def n_units(self) -> int:
        """U, the number of annotated tasks."""
        return len(self.tasks)

    @property
    def n_classes(self) -> int:
        return int(self.labels.shape[1])

    def class_index(self) -> np.ndarray:
        """``(A,)`` class of each annotation (single-label votes only)."""
        return np.argmax(self.labels, axis=1)

    def task_sums(self, values: np.ndarray) -> np.ndarray:
        """``(U, ...)`` sums of ``values`` ``(A, ...)`` over each task's annotations.

        Added in annotator order (sequentially, one rank at a time: a few vectorized passes,
        as many as the largest number of annotations of one task).
        """
        if self.same_count:  # c annotations per task
            return values.reshape(self.n_units, self.same_count, *values.shape[1:]).sum(axis=1)
        ranks = self.by_rank()
        if not ranks:
            return np.zeros((0, *values.shape[1:]), dtype=values.dtype)
        out = values[ranks[0]].copy()
        for rows in ranks[1:]:
            out[self.task[rows]] += values[rows]
        return out

    @cached_property
    def same_count(self) -> int:
        """The number of annotations of every task when it is the same for all, else 0."""
        same = len(self.count) and (self.count == self.count[0]).all()
        return int(self.count[0]) if same else 0

    def task_blocks(self, width: int) -> Iterator[tuple[slice, slice]]:
        """Blocks of consecutive tasks (``width`` cells per annotation) and the rows of their
        annotations (:func:`~.blocks.row_blocks`)."""
        per_task = -(-len(self.task) // max(self.n_units, 1))
        ends = np.append(self.starts, len(self.task))
        for tasks in row_blocks(self.n_units, width * per_task):
            yield tasks, slice(int(ends[tasks.start]), int(ends[tasks.stop]))

    def block_task_sums(self, values: np.ndarray, tasks: slice, rows: slice) -> np.ndarray:
        """:meth:`task_sums` of the block ``tasks``, ``values`` the rows ``rows`` of their
        annotations: each task's sum the same to the bit (added in annotator order)."""
        n = tasks.stop - tasks.start
        if self.same_count:
            return values.reshape(n, self.same_count, *values.shape[1:]).sum(axis=1)
        rank, local = self.rank[rows], self.task[rows] - tasks.start
        out = values[rank == 0]
        for r in range(1, int(rank.max(initial=0)) + 1):
            at = rank == r
            out[local[at]] += values[at]
        return out

    def annotator_sums(self, values: np.ndarray) -> np.ndarray:
        """``(M, K)`` float sums of ``values`` ``(A, K)`` over each annotator's annotations."""
        return key_sums(values, self.annotator, self.n_annotators)

    def by_rank(self) -> list[np.ndarray]:
        """Rows holding each task's 1st, 2nd, ... annotation; each list entry is one rank."""
        order = np.argsort(self.rank, kind="stable")
        bounds = np.searchsorted(self.rank[order], np.arange(int(self.count.max(initial=0)) + 1))
        return [order[bounds[r] : bounds[r + 1]] for r in range(len(bounds) - 1)]

    def by_annotator(self) -> list[np.ndarray]:
        """Rows of each annotator's annotations, in task order; one list entry per annotator."""
        order = np.argsort(self.annotator, kind="stable")
        bounds = np.searchsorted(self.annotator[order], np.arange(self.n_annotators + 1))
        return [order[bounds[m] : bounds[m + 1]] for m in range(self.n_annotators)]


def key_means(values: np.ndarray, key: np.ndarray, n_groups: int) -> np.ndarray:
    """``(G,)`` mean of ``values`` ``(A,)`` per ``key`` in ``[0, G)``; NaN for a group with no
    rows."""
    seen = np.bincount(key, minlength=n_groups)
    total = np.bincount(key, weights=values, minlength=n_groups)
    return np.divide(total, seen, out=np.full(n_groups, np.nan), where=seen > 0)


def key_sums(values: np.ndarray, key: np.ndarray, n_groups: int) -> np.ndarray:
    """``(G, K)`` float sums of the rows of ``values`` ``(A, K)`` with each ``key`` in
    ``[0, G)``: sequential sums, no BLAS, a block of rows at a time (:func:`.keyed_sums`)."""
    return keyed_sums(lambda rows: values[rows], key, n_groups, values.shape[1])
