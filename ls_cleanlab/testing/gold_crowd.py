"""A crowd whose majority is systematically wrong, and gold on a few of its tasks.

Three classes; ``biased`` of the ``m`` annotators (the majority) swap classes 1 and 2 on every
task, otherwise 90% accurate, and the others are careful but noisier (75%). Each task gets
``per_task`` annotators at random, so most tasks' majority swaps 1 and 2: from the annotations
alone, "the biased annotators are right" and "the careful ones are" explain the votes equally
well (the two truths differ by a relabelling of classes), and a consensus starting from the
majority keeps the wrong one. Gold on a few tasks tells them apart. The model is weak and
unbiased. :func:`biased_multilabel_crowd` is its multi-label twin: the majority inverts the
presence of class 2 (the votes alone cannot tell whether the majority or the others have the
class backwards). Shared by the gold tests and ``benchmarks/bench_gold.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.gold import Gold

__all__ = ["BiasedCrowd", "biased_crowd", "biased_multilabel_crowd", "gold_on"]


@dataclass(frozen=True)
class BiasedCrowd:
    """Annotations of ``n`` tasks, their truth (``(n,)`` classes, or ``(n, 3)`` 0/1 sets when
    multi-label), model probabilities ``(n, 3)`` and each annotator's true accuracy ``(m,)``
    (per annotation, or per (task, class) cell when multi-label; annotator ids ``0..m-1``)."""

    annotations: Annotations
    truth: np.ndarray
    probs: np.ndarray
    accuracy: np.ndarray


def biased_crowd(
    seed: int, n: int = 600, *, m: int = 7, per_task: int = 5, biased: int = 4
) -> BiasedCrowd:
    """The crowd of the module docstring, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    k = 3
    truth = rng.integers(0, k, n)
    who = np.argsort(rng.random((n, m)), axis=1)[:, :per_task].ravel()
    task = np.repeat(np.arange(n), per_task)
    true = truth[task]
    right = rng.random(len(task)) < np.where(who < biased, 0.9, 0.75)
    given = np.where(right, true, (true + rng.integers(1, k, len(task))) % k)
    swapped = np.array([0, 2, 1])[given]
    given = np.where((who < biased) & (true > 0), swapped, given)
    accuracy = np.array([np.mean(given[who == j] == true[who == j]) for j in range(m)])
    logits = rng.normal(0.0, 1.0, (n, k)) + 1.2 * np.eye(k)[truth]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    annotations = Annotations(task=task, annotator=who, labels=np.eye(k, dtype=np.int8)[given])
    return BiasedCrowd(annotations, truth, probs, accuracy)


def biased_multilabel_crowd(
    seed: int, n: int = 600, *, m: int = 7, per_task: int = 5, biased: int = 4
) -> BiasedCrowd:
    """Multi-label: three classes, each present with probability 0.4; the ``biased`` majority
    gets each (task, class) cell right 95% of the time and then reads class 2 backwards (marks
    it where it is absent and not where it is present), the others are careful but noisier
    (85% of cells right). The model's per-class probabilities are weak and unbiased."""
    rng = np.random.default_rng(seed)
    k = 3
    truth = (rng.random((n, k)) < 0.4).astype(np.int8)
    who = np.argsort(rng.random((n, m)), axis=1)[:, :per_task].ravel()
    task = np.repeat(np.arange(n), per_task)
    true = truth[task]
    right = rng.random((len(task), k)) < np.where(who < biased, 0.95, 0.85)[:, None]
    given = np.where(right, true, 1 - true)
    given[who < biased, 2] = 1 - given[who < biased, 2]
    given = given.astype(np.int8)
    cells = (given == true).mean(axis=1)
    accuracy = np.array([np.mean(cells[who == j]) for j in range(m)])
    logits = rng.normal(0.0, 1.0, (n, k)) + 1.2 * (2 * truth - 1)
    probs = 1.0 / (1.0 + np.exp(-logits))
    annotations = Annotations(task=task, annotator=who, labels=given)
    return BiasedCrowd(annotations, truth, probs, accuracy)


def gold_on(crowd: BiasedCrowd, share: float, seed: int) -> Gold:
    """Gold (the truth) on a random ``share`` of the crowd's tasks, none of its annotations."""
    n = len(crowd.truth)
    tasks = np.random.default_rng(seed).random(n) < share
    sets = crowd.truth if crowd.truth.ndim == 2 else np.eye(3, dtype=np.int8)[crowd.truth]
    labels = sets.astype(np.int8) * tasks[:, None].astype(np.int8)
    return Gold(np.zeros(len(crowd.annotations), dtype=bool), tasks, labels)
