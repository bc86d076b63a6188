"""Many-class single-label scores with each task's answers out of the rates that judge them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.held_out import HeldOutRows, ordered_scores
from ls_cleanlab.annotators.rates import CONFUSION_EVENTS, EPS, ConfusionCounts, confusion_counts
from ls_cleanlab.annotators.votes import Votes

from .crowds import simulate_single

NINE = tuple(np.linspace(0.95, 0.55, 9).round(3))


def sparse_votes(seed: int, n: int = 200, k: int = 30) -> tuple[Votes, np.ndarray]:
    ann, _, _ = simulate_single(seed, n=n, k=k, accuracy=NINE)
    votes = Votes.from_annotations(ann)
    posterior = np.random.default_rng(seed).dirichlet(np.full(k, 0.2), votes.n_units)
    return votes, posterior


def test_nothing_taken_out_is_the_full_confusion_evidence() -> None:
    votes, posterior = sparse_votes(0)
    parts = confusion_counts(votes, posterior)
    full = np.log(parts.confusion())[votes.annotator, :, votes.class_index()]
    nothing = HeldOutRows.of(votes, np.zeros_like(posterior), parts).evidence()
    np.testing.assert_allclose(nothing, votes.task_sums(full), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("task", [0, 7, 123])
def test_each_answer_is_judged_by_the_rows_counted_without_its_task(task: int) -> None:
    votes, posterior = sparse_votes(1)
    parts = confusion_counts(votes, posterior)
    held = HeldOutRows.of(votes, posterior, parts).evidence()
    # the same counts with the task's answers removed by hand, every prior kept
    rows = np.flatnonzero(votes.task == task)
    y = votes.class_index()
    counts = parts.counts.copy()
    for a in rows:
        counts[votes.annotator[a], :, y[a]] -= posterior[task]
    without = np.log(replace(parts, counts=counts).confusion())
    expected = sum(without[votes.annotator[a], :, y[a]] for a in rows)
    np.testing.assert_allclose(held[task], expected, rtol=1e-9, atol=1e-9)


def answer_by_answer(votes: Votes, posterior: np.ndarray, parts: ConfusionCounts) -> np.ndarray:
    """``(A, K)`` the held-out ``log C_j[c, l]`` of each answer, one answer at a time from the
    module's formulas (counts floored at zero), in the order of operations they are written in."""
    y = votes.class_index()
    out = np.empty((len(y), posterior.shape[1]))
    for a, (i, j, given) in enumerate(zip(votes.task, votes.annotator, y, strict=True)):
        counts = parts.counts[j]  # [true c, given l]
        seen = counts.sum(axis=1)
        others = np.maximum(seen - np.diag(counts), 0.0)
        share = posterior[i]
        wrong = np.where(np.arange(len(share)) == given, 0.0, share)
        left = np.maximum(others - wrong, 0.0)
        slack = CONFUSION_EVENTS / np.clip(parts.accuracy_prior[j], EPS, 1 - EPS)
        rate = (left + CONFUSION_EVENTS) / (np.maximum(seen - share, 0.0) + slack)
        pseudo = parts.strength * parts.spread[:, given]
        spread = (np.maximum(counts[:, given] - wrong, 0.0) + pseudo) / (left + parts.strength)
        cell = spread * rate
        cell[given] = 1.0 - rate[given]
        out[a] = np.log(np.clip(cell, EPS, 1.0))
    return out


def uneven_votes(seed: int, n: int = 80, k: int = 7) -> Votes:
    """One to four answers per task from six annotators, some tasks unanimous."""
    rng = np.random.default_rng(seed)
    count = rng.integers(1, 5, n)
    task = np.repeat(np.arange(n), count)
    who = np.concatenate([rng.permutation(6)[:c] for c in count])
    truth = rng.integers(0, k, n)[task]
    labels = np.where(rng.random(len(task)) < 0.7, truth, rng.integers(0, k, len(task)))
    return Votes.from_annotations(Annotations.from_class_indices(task, who, labels, k))


@pytest.mark.parametrize(
    ("posterior_kind", "n", "k"),
    [
        ("dirichlet", 80, 7),
        ("peaked", 80, 7),
        ("one-hot", 80, 7),
        ("zero", 80, 7),
        ("dirichlet", 1500, 40),  # several blocks (CACHED_BLOCKS)
    ],
    ids=["dirichlet", "peaked", "one-hot", "zero", "several-blocks"],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_held_out_evidence_is_bit_identical_to_one_answer_at_a_time(
    seed: int, posterior_kind: str, n: int, k: int
) -> None:
    votes = uneven_votes(seed, n, k)
    rng = np.random.default_rng(seed + 10)
    posterior = {
        "dirichlet": lambda: rng.dirichlet(np.ones(k), votes.n_units),
        "peaked": lambda: rng.dirichlet(np.full(k, 0.02), votes.n_units),
        "one-hot": lambda: np.eye(k)[rng.integers(0, k, votes.n_units)],
        "zero": lambda: np.zeros((votes.n_units, k)),
    }[posterior_kind]()
    parts = confusion_counts(votes, posterior)
    rows = HeldOutRows.of(votes, posterior, parts)
    expected = answer_by_answer(votes, posterior, parts)
    picked = rng.permutation(len(votes.task))[:50]
    np.testing.assert_array_equal(rows.entries(picked), expected[picked])
    by_task = np.zeros((votes.n_units, k))
    for rank in votes.by_rank():  # each task's answers added in their order
        by_task[votes.task[rank]] = by_task[votes.task[rank]] + expected[rank]
    np.testing.assert_array_equal(rows.evidence(), by_task)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fifty_sparse_classes_expect_about_as_many_wrong_tasks_as_there_are(seed: int) -> None:
    # 1,000 tasks over 50 classes, three of nine annotators each, no model: about 20 answers
    # per annotator and class. With each answer in the row that judges it, the posterior
    # expected a fifth of the wrong tasks (15 for 70); a reviewer's tab was that much too small
    n, k = 1000, 50
    ann, truth, _ = simulate_single(seed, n=n, k=k, accuracy=NINE)
    cons = consensus(ann, n, method="calibrated")
    chosen = cons.labels.argmax(axis=1)
    wrong = int((chosen != truth).sum())
    expected = float((1.0 - cons.quality).sum())
    assert wrong / 2 <= expected <= wrong * 1.5


def test_few_classes_keep_the_full_posterior() -> None:
    ann, _, _ = simulate_single(0, n=300, k=4)
    cons = consensus(ann, 300, method="calibrated")
    chosen = cons.labels.argmax(axis=1)
    np.testing.assert_array_equal(chosen, cons.posterior.argmax(axis=1))
    np.testing.assert_allclose(cons.quality, cons.posterior.max(axis=1))


@pytest.mark.parametrize("seed", [0, 1])
def test_scores_keep_the_full_posteriors_order_at_the_held_out_level(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = 400, 20
    full = np.log(np.clip(rng.dirichlet(np.full(k, 0.05), n), 1e-12, None))
    held = np.log(rng.dirichlet(np.full(k, 0.3), n))
    out = ordered_scores(full, held)
    np.testing.assert_allclose(np.exp(out).sum(axis=1), 1.0, rtol=1e-6)
    rows = np.arange(n)
    top = full.argmax(axis=1)
    before, after = 1.0 - np.exp(full[rows, top]), 1.0 - np.exp(out[rows, top])
    higher = before[:, None] > before[None, :]
    assert np.all(after[:, None] >= after[None, :], where=higher)
    # isotonic regression keeps the mean; the interpolation between blocks moves it little
    held_doubt = 1.0 - np.exp(held[rows, top])
    assert abs(after.mean() - held_doubt.mean()) < 0.05 * held_doubt.mean()
    assert abs(after.mean() - before.mean()) > 0.1 * held_doubt.mean()
