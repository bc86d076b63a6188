"""What calibrated cell scores add up to: per task, and over the whole project.

Private to :mod:`ls_cleanlab.audit`; numpy only, assumes valid input. A cell's score is the
probability that its audited value is wrong (:mod:`ls_cleanlab.audit.scoring`). With cells
independent given the evidence, a task's audited labels

* are wrong somewhere with probability ``1 - prod_k (1 - s_ik)``,
* miss a class with probability ``1 - prod_{k absent} (1 - s_ik)``,
* hold a wrong one with probability ``1 - prod_{k present} (1 - s_ik)``

(single-label: the given class is wrong with probability ``s_i,given``, and that is all three).
Independence is an approximation: a swapped label is one event that makes a class missing and
another spurious, so "wrong somewhere" overestimates such tasks (on the benchmark's swap-only
cell by a third); the two kinds separately are unbiased.

Summed over labelled tasks these are the expected numbers of tasks of each kind that are
wrong (:func:`expected_issues`), what confident learning's ``num_label_issues`` estimates for
one annotator, and the number a review tab holds by default (:func:`tab_thresholds`).

Why that size: the cells of the audited labels are the most probable values, so each cell is
at most as likely wrong as right, and what stays wrong after the consensus is what the
evidence leaves uncertain. A fixed bar of 0.5 on a task's probability then admits only tasks
with several doubtful cells and leaves most wrong tasks out. The ``N`` most probable tasks,
with ``N`` the expected number of wrong ones, hold in expectation ``sum of their p`` real
problems: their expected precision (that sum over ``N``) equals their expected recall (that
sum over the expected total), the break-even point where the smaller of the two is largest
for the ranking. A tab so cut holds about as many tasks as there are problems of its kind;
it also holds every task more likely wrong than right (:data:`SURE`), where one annotator's
labels are audited and can be far from the most probable values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.annotators.blocks import row_blocks

__all__ = [
    "TaskProbabilities",
    "count_threshold",
    "expected_issues",
    "tab_thresholds",
    "task_probabilities",
]

#: A task this likely to have a problem is always in its tab.
SURE = 0.5


@dataclass(frozen=True)
class TaskProbabilities:
    """``(n,)`` probabilities that each task's audited labels are wrong, miss a class, hold a
    wrong one (module docstring)."""

    wrong: np.ndarray
    missing: np.ndarray
    spurious: np.ndarray


def task_probabilities(
    given: np.ndarray, scores: np.ndarray, multi_label: bool
) -> TaskProbabilities:
    """Combine ``(n, K)`` cell scores of the ``(n, K)`` audited labels ``given``."""
    if not multi_label:
        wrong = (scores * given).sum(axis=1)
        return TaskProbabilities(wrong, wrong, wrong)
    n = len(given)
    wrong, missing, spurious = np.empty(n), np.empty(n), np.empty(n)
    for rows in row_blocks(n, given.shape[1]):  # each row's sums alone: the same bits
        log_right = np.log1p(-np.clip(scores[rows], 0.0, 1 - 1e-12))
        missing[rows] = -np.expm1((log_right * ~given[rows]).sum(axis=1))
        spurious[rows] = -np.expm1((log_right * given[rows]).sum(axis=1))
        wrong[rows] = -np.expm1(log_right.sum(axis=1))
    return TaskProbabilities(wrong, missing, spurious)


def expected_issues(
    probs: TaskProbabilities, labelled: np.ndarray, multi_label: bool
) -> dict[str, float]:
    """Expected number of labelled tasks whose audited labels are wrong (``"errors"``), miss a
    class (``"missing"``, multi-label only) or hold a wrong one (``"spurious"``)."""
    out = {
        "errors": float(probs.wrong[labelled].sum()),
        "spurious": float(probs.spurious[labelled].sum()),
    }
    if multi_label:
        out["missing"] = float(probs.missing[labelled].sum())
    return out


def count_threshold(p: np.ndarray, count: int) -> float:
    """The probability ``t`` such that the tasks with ``p >= t`` are the ``count`` most
    probable (ties at ``t`` all enter); above 1 when ``count`` is 0 or no task has ``p > 0``."""
    if count <= 0 or len(p) == 0:
        return float(np.inf)
    at = len(p) - min(count, len(p))
    t = float(np.partition(p, at)[at])
    return t if t > 0 else float(np.nextafter(0.0, 1.0))


def tab_thresholds(
    probs: TaskProbabilities, labelled: np.ndarray, multi_label: bool, threshold: float | None
) -> dict[str, float]:
    """The probability a task needs to be a ``missing`` and a ``spurious`` issue.

    With a fixed ``threshold``, that for both. Without (the default), cut by the expected
    counts (module docstring): ``missing`` at the expected number of tasks missing a class,
    ``spurious`` so that the tasks of either kind (the "Likely label errors" tab) number the
    expected count of wrong tasks; neither above :data:`SURE`. Single-label data have only the
    ``spurious`` kind."""
    if threshold is not None:
        return {"missing": float(threshold), "spurious": float(threshold)}
    expected = expected_issues(probs, labelled, multi_label)
    missing = probs.missing[labelled]
    t_missing = count_threshold(missing, round(expected["missing"])) if multi_label else np.inf
    taken = missing >= min(t_missing, SURE)
    rest = np.where(taken, 0.0, probs.spurious[labelled])
    t_spurious = count_threshold(rest, round(expected["errors"]) - int(taken.sum()))
    return {"missing": min(float(t_missing), SURE), "spurious": min(float(t_spurious), SURE)}
