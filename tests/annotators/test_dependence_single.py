"""Single-label copiers count about once, in the refit too (``annotators/dependence``)."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.collapse import Rates, common_coin, one_coin
from ls_cleanlab.annotators.rates import confusion_rates, dirichlet_confusion
from tests.annotators.crowds import assert_weights_count_votes

K = 4
NOISY, CAREFUL = 0.5, 0.8  # accuracy; errors spread evenly over the other classes


def _crowd(seed: int, copiers: int, n: int = 600) -> tuple[Annotations, np.ndarray]:
    """A noisy annotator answers every task; five careful ones answer three of each task; each
    copier answers half the tasks, giving the noisy one's answer on 70% of them (its own
    careful one on the rest). Returns the annotations and the true classes ``(n,)``."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, K, n)

    def draw(accuracy: float) -> np.ndarray:
        wrong = (truth + rng.integers(1, K, n)) % K
        return np.where(rng.random(n) < accuracy, truth, wrong)

    noisy = draw(NOISY)
    tasks, names, answers = [np.arange(n)], [np.full(n, "noisy", object)], [noisy]
    chosen = np.argsort(rng.random((n, 5)), axis=1)[:, :3]
    for h in range(5):
        at = np.flatnonzero((chosen == h).any(axis=1))
        tasks.append(at)
        names.append(np.full(len(at), f"careful{h}", object))
        answers.append(draw(CAREFUL)[at])
    for c in range(copiers):
        at = np.flatnonzero(rng.random(n) < 0.5)
        copied = np.where(rng.random(n) < 0.7, noisy, draw(CAREFUL))
        tasks.append(at)
        names.append(np.full(len(at), f"copier{c}", object))
        answers.append(copied[at])
    given = np.concatenate(answers)
    labels = np.zeros((len(given), K), dtype=np.int8)
    labels[np.arange(len(given)), given] = 1
    ann = Annotations(task=np.concatenate(tasks), annotator=np.concatenate(names), labels=labels)
    return ann, truth


def _accuracy(seed: int, copiers: int) -> float:
    """Task accuracy of the calibrated single-label consensus of :func:`_crowd`."""
    ann, truth = _crowd(seed, copiers)
    fit = consensus(ann, len(truth), method="calibrated", multi_label=False)
    return float((fit.labels.argmax(axis=1) == truth).mean())


@pytest.mark.parametrize("seed", [0, 1])
def test_two_single_label_copiers_do_not_outvote_the_careful(seed: int) -> None:
    # two copiers of the noisy annotator. Weighted only in the posterior, at the confusion
    # matrices the copies had inflated (the noisy three look accurate), the consensus fell to
    # 0.860 and 0.808 (0.913 and 0.907 without them); refitted with the weights in the M-step
    # too, the three count about once and the consensus is that of the crowd without them
    assert _accuracy(seed, copiers=2) >= _accuracy(seed, copiers=0) - 0.005


@pytest.mark.parametrize("rates", [dirichlet_confusion, confusion_rates, one_coin, common_coin])
def test_weighted_confusion_counts_each_vote_as_its_weight(rates: Rates) -> None:
    # the M-step of the weighted likelihood: weight 1 is the plain count, weight 0 the vote
    # left out, so E-step and M-step weigh the same votes
    ann, truth = _crowd(0, copiers=1, n=300)
    tasks = np.unique(ann.task)
    posterior = np.full((len(tasks), K), 0.1)
    posterior[np.arange(len(tasks)), truth[tasks]] = 0.7
    assert_weights_count_votes(ann, posterior, rates)
