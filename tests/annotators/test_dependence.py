"""Pairs of annotators who agree beyond their rates count about once (``annotators/dependence``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.calibrated import binary_em
from ls_cleanlab.annotators.dependence import binary_agreement, vote_weights
from ls_cleanlab.annotators.estep import BinaryEvidence
from ls_cleanlab.annotators.rates import binary_rates
from ls_cleanlab.annotators.tempering import binary_weights
from ls_cleanlab.annotators.votes import Votes
from tests.annotators.crowds import assert_weights_count_votes

K = 10
PREVALENCE = 0.15
NOISY = (0.55, 0.08)  # sensitivity, false-positive rate
CAREFUL = (0.8, 0.03)
MAX_ITER, TOL = 100, 1e-4


def _crowd(seed: int, copiers: int, n: int = 1200) -> tuple[Annotations, np.ndarray]:
    """A noisy annotator labels every task; five careful ones label three of each task; each
    copier labels 60% of the tasks, giving the noisy one's labels on 90% of them (its own
    careful ones on the rest). Returns the annotations and the truth ``(n, K)``."""
    rng = np.random.default_rng(seed)
    truth = rng.random((n, K)) < PREVALENCE

    def draw(rates: tuple[float, float]) -> np.ndarray:
        se, fp = rates
        return np.where(truth, rng.random((n, K)) < se, rng.random((n, K)) < fp)

    noisy = draw(NOISY)
    tasks, names, labels = [np.arange(n)], [np.full(n, "noisy", object)], [noisy]
    chosen = np.argsort(rng.random((n, 5)), axis=1)[:, :3]
    for h in range(5):
        at = np.flatnonzero((chosen == h).any(axis=1))
        tasks.append(at)
        names.append(np.full(len(at), f"careful{h}", object))
        labels.append(draw(CAREFUL)[at])
    for c in range(copiers):
        at = np.flatnonzero(rng.random(n) < 0.6)
        copied = np.where((rng.random(n) < 0.9)[:, None], noisy, draw(CAREFUL))
        tasks.append(at)
        names.append(np.full(len(at), f"copier{c}", object))
        labels.append(copied[at])
    ann = Annotations(
        task=np.concatenate(tasks),
        annotator=np.concatenate(names),
        labels=np.vstack(labels).astype(np.int8),
    )
    return ann, truth


def _true_rates(ann: Annotations) -> tuple[np.ndarray, np.ndarray]:
    """Sensitivity and false-positive rate ``(M, K)`` of :func:`_crowd`'s annotators."""
    rates = {"noisy": NOISY, "copier0": NOISY}
    ids = list(ann.annotator_ids)
    se = np.array([[rates.get(a, CAREFUL)[0]] * K for a in ids])
    fp = np.array([[rates.get(a, CAREFUL)[1]] * K for a in ids])
    return se, fp


def _weights(ann: Annotations) -> tuple[Votes, np.ndarray | None]:
    """The vote weights under the true rates and prevalence (what the data say, no fit)."""
    votes = Votes.from_annotations(ann)
    se, fp = _true_rates(ann)
    prior = np.full((votes.n_units, K), np.log(PREVALENCE / (1 - PREVALENCE)))
    return votes, vote_weights(votes, binary_agreement(votes, prior, se, fp), K)


@pytest.mark.parametrize("seed", [0, 1])
def test_independent_annotators_get_no_weights(seed: int) -> None:
    # no pair agrees beyond what its rates predict: nothing changes (None, not ones)
    ann, _ = _crowd(seed, copiers=0)
    assert _weights(ann)[1] is None


def test_a_copier_and_its_source_share_one_vote() -> None:
    ann, _ = _crowd(0, copiers=1)
    votes, weight = _weights(ann)
    assert weight is not None
    ids = np.asarray(ann.annotator_ids)[votes.annotator]
    both = (ids == "noisy") & (np.bincount(votes.task, ids == "copier0")[votes.task] > 0)
    # 90% copies: each of the pair weighs about 1 / (1 + 0.9); the careful ones keep theirs
    assert np.all(np.abs(weight[both] - 1 / 1.9) < 0.05)
    assert np.all(weight[ids == "copier0"] < 0.6)
    assert np.all(weight[np.char.startswith(ids.astype(str), "careful")] == 1.0)


def _accuracy(seed: int, copiers: int) -> float:
    """Cell accuracy of the calibrated consensus of :func:`_crowd`."""
    ann, truth = _crowd(seed, copiers)
    return float((consensus(ann, len(truth), method="calibrated").labels == truth).mean())


@pytest.mark.parametrize("seed", [0, 1])
def test_a_copier_does_not_outvote_the_careful(seed: int) -> None:
    # counted independently, the copier doubles the noisy annotator: cell accuracy fell from
    # 0.984 to 0.950; counted once, the consensus is that of the crowd without it
    assert _accuracy(seed, copiers=1) >= _accuracy(seed, copiers=0) - 0.002


def test_weighted_rates_count_each_vote_as_its_weight() -> None:
    # the M-step of the weighted likelihood: weight 1 is the plain count, weight 0 the vote
    # left out, so E-step and M-step weigh the same votes (EM ascends one objective)
    ann, truth = _crowd(0, copiers=1, n=400)
    tasks = np.unique(ann.task)
    posterior = np.clip(truth[tasks] + 0.1, 0.0, 0.9)
    assert_weights_count_votes(ann, posterior, binary_rates)


@pytest.mark.parametrize("seed", [0, 1])
def test_two_copiers_do_not_outvote_the_careful(seed: int) -> None:
    # two copiers of the noisy annotator. Counted independently the three outvote the careful
    # (cell accuracy 0.911 against 0.983 without them); with the weights in the E-step only the
    # refit of seed 1 found no fixed point and was dropped (0.911); with them in the M-step too
    # EM ascends one weighted likelihood, converges, and counts the three about once (0.984)
    assert _accuracy(seed, copiers=2) >= _accuracy(seed, copiers=0) - 0.002
    votes = Votes.from_annotations(_crowd(seed, copiers=2)[0])
    start = votes.task_sums(votes.labels.astype(np.float64)) / votes.count[:, None]
    fit = binary_em(votes, start, None, MAX_ITER, TOL)
    assert fit.vote_weight is not None


def _pair_table(kappa: np.ndarray, n: int = 200) -> tuple[Votes, Callable]:
    """Every one of ``M`` annotators on each of ``n`` tasks, and an :data:`Agreement` that gives
    each pair of them the excess agreement ``kappa[a, b]`` per shared task (room 1 a task)."""
    m = len(kappa)
    ann = Annotations(
        task=np.repeat(np.arange(n), m),
        annotator=np.tile(np.array([f"a{j}" for j in range(m)], dtype=object), n),
        labels=np.ones((n * m, 1), dtype=np.int8),
    )
    votes = Votes.from_annotations(ann)

    def agreement(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, ...]:
        each = kappa[votes.annotator[left], votes.annotator[right]]
        return each, np.ones(len(left)), np.full(len(left), 0.01)

    return votes, agreement


def test_a_worker_copied_by_most_of_its_partners_is_not_the_crowds_factor() -> None:
    # a0 copied by a1-a4 (kappa 0.8; the copies agree with each other through it, 0.64) among
    # three independent annotators who share a small common factor (0.05). a0's median partner
    # is a copy: read as a common loading, 0.8 / sqrt(0.05) = 3.6, beyond the correlation's 1,
    # it would explain every copy away (the shared part m_a m_b / c was 10); taken as the
    # crowd's loading, the copies are found and the independent annotators keep their votes
    kappa = np.full((8, 8), 0.05)
    kappa[1:5, 1:5] = 0.64
    kappa[0, 1:5] = kappa[1:5, 0] = 0.8
    votes, agreement = _pair_table(kappa)
    weight = vote_weights(votes, agreement, 1)
    assert weight is not None
    assert np.all(weight[votes.annotator < 5] < 0.5)
    assert np.all(weight[votes.annotator >= 5] == 1.0)


def test_a_common_factor_alone_finds_no_copies() -> None:
    # excess agreement u_a u_b from one factor with loadings 0.2-0.9 (items hard for everyone,
    # CrowdTruth's prolific workers): what every pair shares is not a copy
    loading = np.linspace(0.2, 0.9, 8)
    kappa = np.outer(loading, loading)
    votes, agreement = _pair_table(kappa)
    assert vote_weights(votes, agreement, 1) is None


def test_a_vote_of_weight_zero_does_not_choose_the_temperature() -> None:
    # the held-out votes that choose rho are counted by their weights, as in the E- and M-steps
    # (one weighted likelihood): a vote weighing 0 is out of the posterior, so whatever it says
    # must not move rho; counted once, copier0's votes made flipped into their opposite did
    ann, _ = _crowd(0, copiers=1, n=600)
    votes = Votes.from_annotations(ann)
    copier = (np.asarray(ann.annotator_ids) == "copier0")[votes.annotator]
    weight = (~copier).astype(np.float64)
    se, fp = _true_rates(ann)
    base = np.full(K, np.log(PREVALENCE / (1 - PREVALENCE)))
    chosen = []
    for flip in (False, True):
        seen = replace(votes, labels=np.where(copier[:, None] & flip, ~votes.labels, votes.labels))
        evidence = BinaryEvidence(seen, se, fp, weight).full()
        chosen.append(binary_weights(seen, base, None, evidence, se, fp, weight))
    assert chosen[0] == chosen[1]
