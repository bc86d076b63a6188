"""The majority vote: ties broken by the model, or without one by the annotators who agree more
with the untied majority."""

from __future__ import annotations

import numpy as np

from ls_cleanlab.annotators import consensus
from tests.annotators.crowds import long_table


def test_majority_ties_multilabel() -> None:
    # two annotators, class 0 tied on both tasks; class 1 agreed on task 0
    ann = long_table([[("a", [0, 1]), ("b", [1])], [("a", []), ("b", [0])]], 2)
    probs = np.array([[0.2, 0.9], [0.7, 0.1]])
    with_model = consensus(ann, 2, probs, method="majority")
    assert with_model.labels.tolist() == [[0, 1], [1, 0]]
    no_model = consensus(ann, 2, method="majority")
    # annotator a agrees with the untied cells (class 1) as much as b: ties go to "present"
    assert no_model.labels.tolist() == [[1, 1], [1, 0]]
    np.testing.assert_array_equal(no_model.posterior, [[0.5, 1.0], [0.5, 0.0]])


def test_majority_tie_without_model_follows_better_annotators() -> None:
    # c agrees with the untied majority everywhere, d never: on the tied cell c's side wins
    sets = [
        [("c", [0]), ("d", [1]), ("e", [0])],
        [("c", [1]), ("d", [0]), ("e", [1])],
        [("c", []), ("d", [0])],
    ]
    cons = consensus(long_table(sets, 2), 3, method="majority")
    assert cons.labels[2].tolist() == [0, 0]
