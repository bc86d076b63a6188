"""The weight of the annotators' evidence by the number of answers on a task: dependent votes
are discounted where they meet, a lone answer keeps its full weight (``annotators/tempering``)."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.tempering import task_weights


def _copied_crowd(
    seed: int, shared: int = 1200, lone: int = 600, k: int = 10
) -> tuple[Annotations, int, np.ndarray, np.ndarray]:
    """A noisy source (sensitivity 0.7, false positives 8%), two careful annotators (0.85, 2%)
    and three copiers who give the source's labels on 80% of the tasks (their own careful ones
    on the rest) answer ``shared`` tasks; ``lone`` more are answered once by a careful one.
    Sparse classes (10% prevalence), so a lone answer's evidence must count fully to keep its
    labels. Returns the annotations, the task count, the lone tasks and their labels."""
    rng = np.random.default_rng(seed)
    n = shared + lone
    truth = rng.random((n, k)) < 0.1

    def draw(se: float, fp: float) -> np.ndarray:
        return np.where(truth, rng.random((n, k)) < se, rng.random((n, k)) < fp)

    source, careful = draw(0.7, 0.08), [draw(0.85, 0.02), draw(0.85, 0.02)]
    given = [source, *careful]
    for _ in range(3):
        given.append(np.where((rng.random(n) < 0.8)[:, None], source, draw(0.85, 0.02)))
    names = ["source", "careful0", "careful1", "copier0", "copier1", "copier2"]
    alone = np.arange(shared, n)
    who = rng.integers(0, 2, lone)
    alone_labels = np.where((who == 0)[:, None], careful[0][alone], careful[1][alone])
    ann = Annotations(
        task=np.concatenate([np.tile(np.arange(shared), len(given)), alone]),
        annotator=np.concatenate([np.repeat(names, shared), np.array(names)[1 + who]]),
        labels=np.vstack([g[:shared] for g in given] + [alone_labels]).astype(np.int8),
    )
    return ann, n, alone, alone_labels


def test_task_weights_are_the_design_effect() -> None:
    count = np.array([1, 2, 3, 11])
    np.testing.assert_allclose(task_weights(count, 0.0), 1.0)
    np.testing.assert_allclose(task_weights(count, 0.5), [1.0, 1 / 1.5, 1 / 2.0, 1 / 6.0])
    # n fully dependent answers (rho = 1) weigh as one
    np.testing.assert_allclose(task_weights(count, 1.0) * count, 1.0)


def test_a_copier_tempers_shared_tasks_and_a_lone_answer_keeps_its_weight() -> None:
    ann, n, alone, given = _copied_crowd(3)
    cons = consensus(ann, n, method="calibrated")
    # the copy makes the shared votes say less than they claim: they are discounted
    assert cons.temperature is not None and cons.temperature < 0.8
    # where one careful annotator answered, nothing is counted twice: its labels stand (one
    # temperature for all tasks dropped every one of them)
    assert (cons.labels[alone] == given).all(axis=1).mean() > 0.99
    assert cons.labels[alone].sum() == pytest.approx(given.sum(), rel=0.01)


def _lone_spammers(seed: int, n: int = 800, k: int = 8) -> tuple[Annotations, np.ndarray, dict]:
    """Most tasks answered once (2% a second time) by 20 workers, 12 of them spammers
    (sensitivity 0.7, false positives 30%) and 8 careful (0.95, 3%), beside an informative but
    under-confident model (scores ``N(2 z, 1)`` squashed 2.3 times). Returns the annotations,
    the truth ``(n, K)`` and what the Bayes posterior under the true parameters needs."""
    rng = np.random.default_rng(seed)
    truth = rng.random((n, k)) < 0.4
    second = np.flatnonzero(rng.random(n) < 0.02)
    task = np.concatenate([np.arange(n), second])
    first = rng.integers(0, 20, n)
    worker = np.concatenate([first, (first[second] + rng.integers(1, 20, len(second))) % 20])
    spammer = (worker < 12)[:, None]
    se, fp = np.where(spammer, 0.7, 0.95), np.where(spammer, 0.3, 0.03)
    labels = np.where(truth[task], rng.random((len(task), k)) < se, rng.random((len(task), k)) < fp)
    score = rng.normal(np.where(truth, 2.0, 0.0), 1.0)
    ann = Annotations(task=task, annotator=[f"w{w}" for w in worker], labels=labels.astype(np.int8))
    return ann, truth, {"score": score, "task": task, "labels": labels, "se": se, "fp": fp}


@pytest.mark.parametrize("seed", [1, 3, 6])
def test_the_lone_answers_measure_the_models_weight(seed: int) -> None:
    """With a handful of shared tasks, the held-out votes there alone weighed the model down:
    at seeds 1 and 6 0.84 and 0.88 of the cells right where the Bayes posterior gets 0.91 (at
    1 below the model alone, 0.85). The lone answers, each predicted by the model, measure
    its weight too: within 0.005 of the Bayes posterior at the three seeds."""
    ann, truth, true = _lone_spammers(seed)
    probs = 1.0 / (1.0 + np.exp(-(true["score"] - 1.0) * 2.0 / 2.3))
    cons = consensus(ann, len(truth), probs, method="calibrated")
    right = (cons.labels.astype(bool) == truth).mean()
    # the Bayes posterior under the true rates and the model's true calibration
    llr = np.where(
        true["labels"],
        np.log(true["se"] / true["fp"]),
        np.log((1 - true["se"]) / (1 - true["fp"])),
    )
    evidence = np.zeros(truth.shape)
    np.add.at(evidence, true["task"], llr)
    prior = np.log(0.4 / 0.6) + 2.0 * true["score"] - 2.0
    bayes = ((prior + evidence > 0) == truth).mean()
    assert right >= bayes - 0.015
    assert right > ((probs > 0.5) == truth).mean()
