"""Calibration from gold: with enough gold cells, the temperature of the annotators' evidence is
the one under which the gold labels are most likely, not the one the held-out votes prefer."""

from __future__ import annotations

import numpy as np

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


def test_gold_weights_need_enough_cells_and_both_outcomes() -> None:
    base = np.zeros(3)
    evidence, truth = _binary_gold(0, 40, 3, 0.2)
    units = np.ones(40, dtype=bool)
    assert gold_binary_weights(base, None, evidence, units, truth) is not None
    few = np.zeros(40, dtype=bool)
    few[: (MIN_GOLD_CELLS - 1) // 3] = True  # fewer than MIN_GOLD_CELLS cells
    assert gold_binary_weights(base, None, evidence, few, truth[few]) is None
    right = (evidence > 0).astype(np.float64)  # the consensus right on every gold cell
    assert gold_binary_weights(base, None, evidence, units, right) is None
    one_hot = np.eye(3)[np.arange(40) % 3]
    assert gold_multiclass_weights(np.zeros(3), None, 3 * one_hot, units, one_hot) is None


def test_gold_temperature_follows_how_often_the_confident_posterior_is_wrong() -> None:
    base = np.zeros(4)
    units = np.ones(500, dtype=bool)
    # +-4 claims 1.8% errors: with 20% the evidence is worth much less, with 1.8% all of it
    shared, truth = _binary_gold(1, 500, 4, 0.2)
    omega, tau = gold_binary_weights(base, None, shared, units, truth) or (0.0, 0.0)
    assert omega == 1.0 and 0.25 < tau < 0.45  # logit(0.8) / 4 = 0.35
    honest, truth = _binary_gold(2, 500, 4, 0.018)
    _, tau = gold_binary_weights(base, None, honest, units, truth) or (0.0, 0.0)
    assert tau > 0.85
    # single-label: the class the evidence favours (by 4 nats) is wrong on 30% of the tasks
    rng = np.random.default_rng(3)
    favoured = rng.integers(0, 3, 500)
    y = np.where(rng.random(500) < 0.3, (favoured + 1) % 3, favoured)
    evidence = 4.0 * np.eye(3)[favoured]
    _, tau = gold_multiclass_weights(np.zeros(3), None, evidence, units, np.eye(3)[y]) or (0, 0)
    right = float(np.mean(y == favoured))  # calibrated: softmax odds exp(4 tau) = right / wrong
    assert abs(tau - np.log(right / ((1 - right) / 2)) / 4) < 0.01
