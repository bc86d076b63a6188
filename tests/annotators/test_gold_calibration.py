"""Calibration from gold: with enough gold cells, the temperature of the annotators' evidence is
the one under which the gold labels are most likely, not the one the held-out votes prefer."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab import audit_labels
from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.gold import Gold
from ls_cleanlab.annotators.tempering import (
    MIN_GOLD_CELLS,
    gold_binary_weights,
    gold_multiclass_weights,
)


def _binary_gold(seed: int, n: int, k: int, wrong: float) -> tuple[np.ndarray, np.ndarray]:
    """Evidence of +-4 (the votes claim 98% certainty) on ``n`` tasks of ``k`` classes, and a
    truth that contradicts it on a share ``wrong`` of the cells."""
    rng = np.random.default_rng(seed)
    truth = rng.random((n, k)) < 0.3
    flip = rng.random((n, k)) < wrong
    evidence = np.where(truth ^ flip, 4.0, -4.0)
    return evidence, truth.astype(np.float64)


PAIRS = np.full(500, 2)  # two answers on every task: tau_2 = 1 / (1 + rho) is the temperature


def test_gold_weights_need_enough_cells_and_both_outcomes() -> None:
    base = np.zeros(3)
    evidence, truth = _binary_gold(0, 40, 3, 0.2)
    units = np.ones(40, dtype=bool)
    pairs = PAIRS[:40]
    assert gold_binary_weights(base, None, evidence, units, truth, pairs) is not None
    few = np.zeros(40, dtype=bool)
    few[: (MIN_GOLD_CELLS - 1) // 3] = True  # fewer than MIN_GOLD_CELLS cells
    assert gold_binary_weights(base, None, evidence, few, truth[few], pairs) is None
    right = (evidence > 0).astype(np.float64)  # the consensus right on every gold cell
    assert gold_binary_weights(base, None, evidence, units, right, pairs) is None
    one_hot = np.eye(3)[np.arange(40) % 3]
    assert gold_multiclass_weights(np.zeros(3), None, 3 * one_hot, units, one_hot, pairs) is None


def test_gold_temperature_follows_how_often_the_confident_posterior_is_wrong() -> None:
    base = np.zeros(4)
    units = np.ones(500, dtype=bool)
    # +-4 claims 1.8% errors: with 20% the evidence is worth much less, with 1.8% all of it
    shared, truth = _binary_gold(1, 500, 4, 0.2)
    omega, rho = gold_binary_weights(base, None, shared, units, truth, PAIRS) or (0.0, 9.0)
    assert omega == 1.0 and 0.25 < 1 / (1 + rho) < 0.45  # logit(0.8) / 4 = 0.35
    honest, truth = _binary_gold(2, 500, 4, 0.018)
    _, rho = gold_binary_weights(base, None, honest, units, truth, PAIRS) or (0.0, 9.0)
    assert 1 / (1 + rho) > 0.85
    # single-label: the class the evidence favours (by 4 nats) is wrong on 30% of the tasks
    rng = np.random.default_rng(3)
    favoured = rng.integers(0, 3, 500)
    y = np.where(rng.random(500) < 0.3, (favoured + 1) % 3, favoured)
    evidence = 4.0 * np.eye(3)[favoured]
    one_hot = np.eye(3)[y]
    _, rho = gold_multiclass_weights(np.zeros(3), None, evidence, units, one_hot, PAIRS) or (0, 9)
    tau = 1 / (1 + rho)
    right = float(np.mean(y == favoured))  # calibrated: softmax odds exp(4 tau) = right / wrong
    assert abs(tau - np.log(right / ((1 - right) / 2)) / 4) < 0.01


def _shared_mistakes(seed: int, n: int = 1500, k: int = 3) -> tuple[Annotations, np.ndarray]:
    """Five of twelve annotators per task; on a fifth of the tasks (hard ones) each picks the
    same wrong class with probability 0.65, elsewhere each is right with probability 0.85: the
    votes agree on the hard tasks' mistakes, so no temperature of the votes foresees them."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    shared = (truth + rng.integers(1, k, n)) % k
    hard = rng.random(n) < 0.2
    task = np.repeat(np.arange(n), 5)
    who = np.argsort(rng.random((n, 12)), axis=1)[:, :5].ravel()
    true = truth[task]
    right = rng.random(len(task)) < np.where(hard[task], 0.35, 0.85)
    other = np.where(hard[task], shared[task], (true + rng.integers(1, k, len(task))) % k)
    labels = np.eye(k, dtype=np.int8)[np.where(right, true, other)]
    return Annotations(task=task, annotator=who, labels=labels), truth


def _ece(scores: np.ndarray, wrong: np.ndarray, bins: int = 15) -> float:
    which = np.minimum((scores.ravel() * bins).astype(np.int64), bins - 1)
    gap = np.bincount(which, scores.ravel(), bins) - np.bincount(which, wrong.ravel(), bins)
    return float(np.abs(gap).sum() / scores.size)


def test_gold_fixes_the_calibration_of_a_crowd_that_shares_its_mistakes() -> None:
    ann, truth = _shared_mistakes(0)
    n, k = len(truth), 3
    gold_tasks = np.random.default_rng(1).random(n) < 0.05
    gold_labels = np.eye(k, dtype=np.int8)[truth] * gold_tasks[:, None].astype(np.int8)
    gold = Gold(np.zeros(len(ann), dtype=bool), gold_tasks, gold_labels)
    plain = audit_labels(annotations=ann, n_tasks=n, multi_label=False)
    known = audit_labels(annotations=ann, n_tasks=n, multi_label=False, gold=gold)
    rest = ~gold_tasks
    errors = []
    for res in (plain, known):
        wrong = res.consensus.astype(bool)[rest] != np.eye(k, dtype=bool)[truth][rest]
        errors.append(_ece(res.cell_scores[rest], wrong))
    assert errors[0] > 0.06  # the votes alone leave the scores over-confident
    assert errors[1] < 0.045 and errors[1] < errors[0] / 2
    # too little gold (under MIN_GOLD_CELLS cells) keeps the votes' temperature
    few = np.zeros(n, dtype=bool)
    few[np.flatnonzero(gold_tasks)[:3]] = True
    little = Gold(gold.annotation, few, gold_labels * few[:, None].astype(np.int8))
    votes_only = consensus(ann, n, None, method="calibrated", multi_label=False, gold=little)
    no_gold = consensus(ann, n, None, method="calibrated", multi_label=False)
    assert votes_only.temperature == pytest.approx(no_gold.temperature, abs=0.05)
    fitted = consensus(ann, n, None, method="calibrated", multi_label=False, gold=gold)
    assert no_gold.temperature is not None and fitted.temperature is not None
    assert fitted.temperature < no_gold.temperature - 0.2  # gold tempers the votes more
