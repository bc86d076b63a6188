"""Annotator quality of the calibrated consensus (annotators/quality.py): with a model, the mean
over all of an annotator's work, lone answers included; without one, over its shared tasks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.votes import key_means

WORKERS = 12
K = 5


def sparse_crowd(
    seed: int, n: int = 800, overlap: float = 0.1
) -> tuple[Annotations, np.ndarray, np.ndarray]:
    """One answer per task, a second on ``overlap`` of them (workers share about 6 tasks each);
    worker ``j`` is right with probability 0.45-0.95, else picks another class at random; a
    model of moderate strength. Returns the annotations, the model's probabilities and each
    worker's true accuracy over all its answers (by annotator id order)."""
    rng = np.random.default_rng(seed)
    accuracy = np.linspace(0.45, 0.95, WORKERS)
    second = np.flatnonzero(rng.random(n) < overlap)
    task = np.concatenate([np.arange(n), second])
    first = rng.integers(0, WORKERS, n)
    who = np.concatenate([first, (first[second] + rng.integers(1, WORKERS, len(second))) % WORKERS])
    truth = rng.integers(0, K, n)
    right = rng.random(len(task)) < accuracy[who]
    given = np.where(right, truth[task], (truth[task] + rng.integers(1, K, len(task))) % K)
    logits = rng.normal(0.0, 1.0, (n, K))
    logits[np.arange(n), truth] += 2.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    ids = np.array([f"w{j:02d}" for j in who])
    ann = Annotations.from_class_indices(task, ids, given, K)
    code = {a: i for i, a in enumerate(ann.annotator_ids)}
    true = key_means(right.astype(float), np.array([code[a] for a in ids]), len(code))
    return ann, probs, true


@pytest.mark.parametrize("seed", [0, 2])
def test_with_a_model_lone_answers_rank_their_annotators(seed: int) -> None:
    # Each worker shares about 6 of its 70 tasks: their mean alone ranked these workers with
    # Spearman 0.75 and 0.77 against their true accuracy; the lone answers, judged by the model
    # against each worker's measured rates, bring it to 0.97.
    ann, probs, true = sparse_crowd(seed)
    cons = consensus(ann, len(probs), probs, method="calibrated")
    assert spearmanr(cons.annotator_quality, true).statistic > 0.9


def test_without_a_model_the_quality_is_the_shared_tasks_mean() -> None:
    # A lone answer's posterior is then the annotator's own answer read through its rates: it
    # is left out, and the quality is the mean over the tasks with two answers.
    ann, probs, _ = sparse_crowd(1)
    cons = consensus(ann, len(probs), None, method="calibrated", multi_label=False)
    given = np.argmax(ann.labels, axis=1)
    count = np.bincount(ann.task, minlength=len(probs))
    shared = count[ann.task] > 1
    right = cons.posterior[ann.task, given]
    expected = key_means(right[shared], ann.annotator_index[shared], ann.n_annotators)
    np.testing.assert_allclose(cons.annotator_quality, expected, rtol=1e-12)
