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
one annotator, and the number a review tab should roughly hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TaskProbabilities", "expected_issues", "task_probabilities"]


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
    log_right = np.log1p(-np.clip(scores, 0.0, 1 - 1e-12))
    missing = -np.expm1((log_right * ~given).sum(axis=1))
    spurious = -np.expm1((log_right * given).sum(axis=1))
    wrong = -np.expm1(log_right.sum(axis=1))
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
