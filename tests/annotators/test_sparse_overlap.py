"""Projects where most tasks have one answer and workers share few tasks (Label Studio's default
of one annotation per task, a few overlapped for quality control): without a model the
calibrated multi-label consensus keeps the lone answers (:mod:`ls_cleanlab.annotators.measured`).
"""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.measured import AGREEMENT, default_rates


def sparse_project(
    seed: int, single_label: bool, k: int, overlap: float, n: int = 600, workers: int = 30
) -> tuple[Annotations, np.ndarray, np.ndarray]:
    """Good workers (sensitivity 0.9, false positives 3%; single-label right 85% of the time),
    one answer per task, a second one on ``overlap`` of the tasks. Returns the annotations, the
    truth ``(n, k)`` and the rows of the tasks' first answers."""
    rng = np.random.default_rng(seed)
    prevalence = np.geomspace(0.5, 0.05, k)
    if single_label:
        truth = np.eye(k, dtype=bool)[rng.choice(k, n, p=prevalence / prevalence.sum())]
    else:
        truth = rng.random((n, k)) < prevalence
    second = np.flatnonzero(rng.random(n) < overlap)
    task = np.concatenate([np.arange(n), second])
    first = rng.integers(0, workers, n)
    other = (first[second] + rng.integers(1, workers, len(second))) % workers
    annotator = np.concatenate([first, other])
    true = truth[task]
    if single_label:
        wrong = rng.random(len(task)) < 0.15
        given = np.where(
            wrong, (true.argmax(axis=1) + rng.integers(1, k, len(task))) % k, true.argmax(axis=1)
        )
        labels = np.eye(k, dtype=np.int8)[given]
    else:
        draw = rng.random(true.shape)
        labels = np.where(true, draw < 0.9, draw < 0.03).astype(np.int8)
    ann = Annotations(task=task, annotator=[f"w{a}" for a in annotator], labels=labels)
    return ann, truth, labels[:n].astype(bool)


CASES = [pytest.param(False, 12, id="multi-label")]


@pytest.mark.parametrize(("single_label", "k"), CASES)
def test_with_no_shared_task_every_lone_answer_is_the_consensus(single_label: bool, k: int) -> None:
    ann, _, lone = sparse_project(0, single_label, k, overlap=0.0)
    cons = consensus(ann, len(lone), method="calibrated")
    np.testing.assert_array_equal(cons.labels.astype(bool), lone)


@pytest.mark.parametrize(("single_label", "k"), CASES)
def test_a_few_shared_tasks_leave_the_lone_answers_standing(single_label: bool, k: int) -> None:
    ann, truth, lone = sparse_project(1, single_label, k, overlap=0.05)
    cons = consensus(ann, len(truth), method="calibrated")
    labels = cons.labels.astype(bool)
    shared = np.bincount(ann.task, minlength=len(truth)) > 1
    kept = (labels[~shared] == lone[~shared]).all(axis=1)
    assert kept.mean() > 0.98
    vote = consensus(ann, len(truth), method="majority").labels.astype(bool)
    right = (labels == truth).all(axis=1).mean()
    assert right >= (vote == truth).all(axis=1).mean() - 0.005


def test_the_default_annotator_leaves_a_lone_answer_above_one_half_at_any_prevalence() -> None:
    prevalence = np.array([0.001, 0.05, 0.3, 0.49])
    miss, fp = default_rates(prevalence)
    se = 1.0 - miss
    present = prevalence * se / (prevalence * se + (1 - prevalence) * fp)
    absent = prevalence * miss / (prevalence * miss + (1 - prevalence) * (1 - fp))
    np.testing.assert_allclose(present, AGREEMENT + (1 - AGREEMENT) * prevalence)
    assert (present > 0.5).all() and (absent < 0.5).all()
