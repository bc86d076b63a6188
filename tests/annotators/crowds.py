"""Small annotation tables and simulated crowds with known truth, shared by the annotator tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import Consensus
from ls_cleanlab.annotators.votes import Votes


def long_table(sets: list[list[tuple[Any, list[int]]]], k: int, **extra: Any) -> Annotations:
    """Annotations from, per task, a list of (annotator, classes) pairs."""
    task, who, rows = [], [], []
    for t, entries in enumerate(sets):
        for annotator, classes in entries:
            task.append(t)
            who.append(annotator)
            row = np.zeros(k, dtype=np.int8)
            row[classes] = 1
            rows.append(row)
    return Annotations(task=np.array(task), annotator=np.array(who), labels=np.array(rows), **extra)


def simulate_multilabel(
    seed: int, n: int = 500, k: int = 6, miss: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5)
) -> tuple[Annotations, np.ndarray, np.ndarray]:
    """Every annotator labels every task; annotator j misses each true label with
    probability miss[j] and adds a wrong one with probability 0.02 per class."""
    rng = np.random.default_rng(seed)
    truth = rng.random((n, k)) < 0.3
    task, who, rows = [], [], []
    for j, rate in enumerate(miss):
        given = (truth & (rng.random((n, k)) > rate)) | (rng.random((n, k)) < 0.02)
        task.append(np.arange(n))
        who.append(np.full(n, f"annotator-{j}"))
        rows.append(given)
    ann = Annotations(
        task=np.concatenate(task), annotator=np.concatenate(who), labels=np.concatenate(rows)
    )
    probs = np.clip(np.where(truth, 0.75, 0.2) + rng.normal(0, 0.2, (n, k)), 0, 1)
    return ann, truth, probs


def simulate_single(
    seed: int, n: int = 500, k: int = 4, accuracy: tuple[float, ...] = (0.9, 0.85, 0.8, 0.7, 0.3)
) -> tuple[Annotations, np.ndarray, np.ndarray]:
    """Three of the annotators label each task; annotator j is right with accuracy[j]."""
    rng = np.random.default_rng(seed)
    m = len(accuracy)
    truth = rng.integers(0, k, n)
    chosen = np.argsort(rng.random((n, m)), axis=1)[:, :3]
    task = np.repeat(np.arange(n), 3)
    who = chosen.ravel()
    right = rng.random(len(task)) < np.asarray(accuracy)[who]
    other = (truth[task] + rng.integers(1, k, len(task))) % k
    labels = np.where(right, truth[task], other)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), truth] += 1.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    ann = Annotations.from_class_indices(task, np.array([f"a{j}" for j in who]), labels, k)
    return ann, truth, probs


def by_id(cons: Consensus) -> dict[Any, float]:
    return dict(zip(cons.annotator_ids.tolist(), cons.annotator_quality.tolist(), strict=True))


def assert_weights_count_votes(
    ann: Annotations, posterior: np.ndarray, rates: Callable[..., Any], who: str = "copier0"
) -> None:
    """``rates(votes, posterior, weight=...)`` is an M-step of the weighted likelihood: weight 1
    is the plain count, weight 0 the vote left out (``who``'s votes on even tasks here), so
    the E-step and M-step that weigh the votes so weigh the same votes."""
    votes = Votes.from_annotations(ann)
    plain = rates(votes, posterior)
    ones = rates(votes, posterior, weight=np.ones(len(votes.task)))
    assert np.allclose(ones, plain, rtol=0, atol=1e-12)
    ids = np.asarray(ann.annotator_ids)[votes.annotator]
    dropped = (ids == who) & (votes.tasks[votes.task] % 2 == 0)
    weighted = rates(votes, posterior, weight=(~dropped).astype(np.float64))
    kept = ~((np.asarray(ann.annotator) == who) & (ann.task % 2 == 0))
    fewer = Votes.from_annotations(ann.subset(kept))
    assert np.array_equal(fewer.tasks, votes.tasks)
    assert not np.allclose(weighted, plain, atol=1e-3)
    assert np.allclose(weighted, rates(fewer, posterior), rtol=0, atol=1e-12)
