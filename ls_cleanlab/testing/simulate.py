"""Simulated multi-label projects and annotator habits with known truth, for the audit's tests
and benchmarks: a good model's probabilities, search satisficing (one label kept of several) and
careless labelling (labels dropped and added at random)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Project", "careless", "make_project", "satisfice"]


@dataclass(frozen=True)
class Project:
    """A simulated project: the truth and a model's probabilities, both ``(n, K)``."""

    truth: np.ndarray  # (n, K) bool
    pred_probs: np.ndarray  # (n, K) a good model's out-of-sample probabilities


def make_project(n: int = 1500, k: int = 6, *, seed: int = 0, model_noise: float = 1.0) -> Project:
    """Tasks with 1-4 true labels, class 1 nearly always with class 0, and a model whose log-odds
    are the truth's (+-3) blurred by Gaussian noise of scale ``model_noise``."""
    rng = np.random.default_rng(seed)
    prevalence = np.linspace(0.45, 0.12, k)
    truth = rng.random((n, k)) < prevalence
    truth[:, 1] = truth[:, 0] & (rng.random(n) < 0.9)  # class 1 comes with class 0
    empty = ~truth.any(axis=1)
    truth[empty, rng.integers(0, k, empty.sum())] = True
    logits = np.where(truth, 3.0, -3.0) + rng.normal(0, model_noise, (n, k)) * 2.0
    return Project(truth=truth, pred_probs=1 / (1 + np.exp(-logits)))


def satisfice(labels: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """On ``share`` of the tasks, keep one label of several (the search stopped early)."""
    out = labels.copy()
    for i in np.flatnonzero(rng.random(len(labels)) < share):
        on = np.flatnonzero(out[i])
        if len(on) > 1:
            out[i] = False
            out[i, rng.choice(on)] = True
    return out


def careless(labels: np.ndarray, miss: float, add: float, rng: np.random.Generator) -> np.ndarray:
    """Drop each present label with probability ``miss``, add each absent one with ``add``."""
    drop = labels & (rng.random(labels.shape) < miss)
    extra = ~labels & (rng.random(labels.shape) < add)
    return (labels & ~drop) | extra
