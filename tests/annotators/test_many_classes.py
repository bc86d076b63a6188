"""Single-label consensus with many classes and few answers per class (confusion_rates)."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.rates import confusion_rates
from ls_cleanlab.annotators.votes import Votes

from .crowds import simulate_single


def left_after_review(wrong: np.ndarray, doubt: np.ndarray, budget: int) -> int:
    """Tasks still wrong once the ``budget`` most doubtful were reviewed and fixed."""
    reviewed = np.argsort(-doubt, kind="stable")[:budget]
    return int(wrong.sum() - wrong[reviewed].sum())


@pytest.mark.parametrize("seed", [0, 1])
def test_review_order_beats_the_vote_with_fifty_classes_and_no_model(seed: int) -> None:
    # 300 tasks over 50 classes, three of six annotators per task, errors spread evenly: each
    # class sees a handful of errors, so where they went says little. Read as a firm pattern,
    # the error each task's own vote shows confirmed itself and three-way splits looked
    # settled: the review order left more wrong tasks than ordering by the vote share did.
    n, k = 300, 50
    ann, truth, _ = simulate_single(seed, n=n, k=k, accuracy=(0.95, 0.85, 0.75, 0.65, 0.55, 0.5))
    cons = consensus(ann, n, method="calibrated")
    chosen = cons.labels.argmax(axis=1)
    wrong = chosen != truth
    doubt = 1.0 - cons.posterior[np.arange(n), chosen]
    shares = np.zeros((n, k))
    np.add.at(shares, np.asarray(ann.task), np.asarray(ann.labels, dtype=np.float64))
    vote = shares.argmax(axis=1)  # ties to the lowest class: a fixed choice
    vote_wrong = vote != truth
    assert wrong.sum() <= vote_wrong.sum()
    budget = n // 10
    ours = left_after_review(wrong, doubt, budget)
    assert ours <= left_after_review(vote_wrong, -shares.max(axis=1), budget)


def test_a_single_error_does_not_make_its_class_pair_likely() -> None:
    # class 0 was mistaken for class 1 once in 20 answers, across 30 classes
    k = 30
    task = np.arange(20)
    given = np.zeros(20, dtype=np.int64)
    given[0] = 1
    ann = Annotations.from_class_indices(task, np.array(["a"] * 20), given, k)
    posterior = np.zeros((20, k))
    posterior[:, 0] = 1.0
    row = confusion_rates(Votes.from_annotations(ann), posterior)[0, 0]
    seen, unseen = row[1], row[2]
    assert unseen > 0
    # one error of 20 is not a pattern among 29 possible targets: half an answer per cell at
    # both levels (pooled spread, the annotator's own) makes it about 5 times as likely as an
    # unseen one; one pseudo-error over all 29 made it 34 times
    assert seen / unseen < 10


def errors_table(k: int, per_class: int, target: np.ndarray | None, seed: int) -> Annotations:
    """Annotator "clean" right on every task of each true class; per class, ``per_class``
    other annotators err once each, on a class drawn evenly (``target`` None) or on
    ``target[c]``. Task ``i`` has true class ``i % k`` (one task per annotation)."""
    rng = np.random.default_rng(seed)
    task, who, given = [], [], []
    for c in range(k):
        for e in range(per_class):
            t = len(task) // 2
            others = np.delete(np.arange(k), c)
            wrong = others[rng.integers(k - 1)] if target is None else target[c]
            task += [t, t]
            who += ["clean", f"e{e}"]
            given += [c, int(wrong)]
    return Annotations.from_class_indices(np.array(task), np.array(who), np.array(given), k)


def truth_of(ann: Annotations, k: int) -> np.ndarray:
    truth = np.zeros((int(np.max(ann.task)) + 1, k))
    clean = np.asarray(ann.annotator) == "clean"
    truth[np.asarray(ann.task)[clean], np.asarray(ann.labels)[clean].argmax(axis=1)] = 1.0
    return truth


def test_evenly_scattered_errors_spread_evenly_for_an_annotator_without_errors() -> None:
    # 12 classes, 20 errors each scattered at random: a class that drew 4 of them is not
    # where the next error goes; an annotator with no errors of its own gets an even row (with
    # half an answer per cell it followed the counts: 9 times as likely on 4 errors as on 0,
    # 11 on 5; now at most 1.3 at seeds 0-8 and 2.1 at seed 9)
    k = 12
    ann = errors_table(k, 20, None, seed=0)
    votes = Votes.from_annotations(ann)
    confusion = confusion_rates(votes, truth_of(ann, k))
    clean = list(ann.annotator_ids).index("clean")
    for c in range(k):
        row = np.delete(confusion[clean, c], c)
        assert row.max() / row.min() < 3.0


def test_errors_that_gather_on_a_partner_class_are_followed() -> None:
    k = 12
    partner = (np.arange(k) + 1) % k
    ann = errors_table(k, 20, partner, seed=0)
    votes = Votes.from_annotations(ann)
    confusion = confusion_rates(votes, truth_of(ann, k))
    clean = list(ann.annotator_ids).index("clean")
    for c in range(k):
        row = confusion[clean, c]
        assert row[partner[c]] > 0.5 * (1.0 - row[c])  # most of its error mass
