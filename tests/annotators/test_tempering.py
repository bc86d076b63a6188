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
